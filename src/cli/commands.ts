/** Every `llm2llm` command, one module each. Add a command by adding its module here. */
import type { CommandModule } from "yargs";
import { augmentCommand } from "./augment.js";
import { dataCommand } from "./data.js";
import { doctorCommand } from "./doctor.js";
import { evalCommand } from "./eval.js";
import { exportCommand } from "./export.js";
import { generateCommand } from "./generate.js";
import { inspectCommand } from "./inspect.js";
import { reportCommand } from "./report.js";
import { runCommand } from "./run.js";
import { startCommand } from "./start.js";
import { trainCommand } from "./train.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [startCommand, runCommand, doctorCommand, inspectCommand, generateCommand, dataCommand, reportCommand, trainCommand, exportCommand, evalCommand, augmentCommand];
