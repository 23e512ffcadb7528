/** `llm2llm`: the command line. Errors a user caused print one clear line and exit non-zero. */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { askForNativeOutput } from "../backend/nativeOutput.js";
import { Llm2llmError } from "../errors.js";
import { commands } from "./commands.js";

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName("llm2llm")
    .strict()
    .demandCommand(1, "Name a command (see --help).")
    .recommendCommands()
    .option("verbose", { type: "boolean", global: true, describe: "also show native libraries' own lines (Dawn, llama.cpp warnings) on stderr; as LLM2LLM_LOG=native" })
    .middleware((argv) => {
      if (argv.verbose) askForNativeOutput();
    })
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .fail((message, error) => {
      throw error ?? new Llm2llmError(message);
    });
  // The chosen command's module is loaded whole; the rest are listed by name for --help and suggestions.
  const chosen = hideBin(process.argv).find((arg) => !arg.startsWith("-"));
  for (const entry of commands) {
    if (entry.name === chosen) cli = cli.command(await entry.load());
    else cli = cli.command(entry.name, entry.describe);
  }
  await cli.parseAsync();
}

try {
  await main();
} catch (error) {
  if (error instanceof Llm2llmError) {
    process.stderr.write(`llm2llm: error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`llm2llm: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  }
}
