/** `llm2llm report runs/<name>`: rebuilds report.html and report.md from a run directory. */
import { existsSync } from "node:fs";
import type { CommandModule } from "yargs";
import { MissingFileError } from "../errors.js";
import { RunDirectory } from "../pipeline/index.js";
import { writeReport } from "../pipeline/report/index.js";
import { jsonOption, printJson, say } from "./output.js";

interface ReportArgs {
  run: string;
  json: boolean;
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: "report <run>",
  describe: "rebuild report.html and report.md of a run directory",
  builder: (y) => y.positional("run", { type: "string", demandOption: true, describe: "run directory (runs/<name>)" }).options(jsonOption),
  handler: async (args) => {
    const run = new RunDirectory(args.run);
    if (!existsSync(run.configPath)) throw new MissingFileError(run.configPath, "run directory (its config.json)");
    const written = await writeReport(run);
    if (args.json) printJson(written);
    else say(false, `report: ${written.html}\n        ${written.markdown}`);
  },
};
