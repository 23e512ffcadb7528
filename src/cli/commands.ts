/** Every `llm2llm` command, one module each. Add a command by adding its module here. */
import type { CommandModule } from "yargs";
import { dataCommand } from "./data.js";
import { doctorCommand } from "./doctor.js";
import { reportCommand } from "./report.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [doctorCommand, dataCommand, reportCommand];
