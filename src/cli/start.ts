/**
 * `npm start` = `llm2llm start`: the whole LLM2LLM loop on the embedded default (the project's own toy student,
 * toy teacher and toy tasks), into runs/demo-<task>, with a table per iteration and the report's path.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CommandModule } from "yargs";
import { MissingFileError } from "../errors.js";
import { embeddedDefaultConfig, embeddedTasks, type EmbeddedTask } from "../pipeline/embeddedDefault.js";
import { percent } from "../pipeline/observer.js";
import { verifierAcceptance } from "../pipeline/verifierAcceptance.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { say } from "./output.js";
import { runCommand } from "./run.js";

interface StartArgs {
  task: EmbeddedTask;
  out?: string;
  iterations?: number;
}

export const startCommand: CommandModule<object, StartArgs> = {
  command: "start",
  describe: "run LLM2LLM on the embedded default (toy student + toy teacher the project builds) and show it working",
  builder: (y) =>
    y.options({
      task: { choices: embeddedTasks, default: "toy-math" as EmbeddedTask, describe: "which toy task: GSM8K-like word problems or SNIPS-like intents" },
      out: { type: "string", describe: "run directory (default runs/demo-<task>)" },
      iterations: { type: "number", describe: "LLM2LLM iterations (default: the demo's)" },
    }),
  handler: async (args) => {
    const config = embeddedDefaultConfig(args.task);
    for (const key of ["student", "teacher"] as const) {
      if (!existsSync(String(config[key]))) throw new MissingFileError(String(config[key]), `embedded ${key} model (rebuild with \`npm run build:models\`)`);
    }
    if (args.iterations !== undefined) config.iterations = args.iterations;
    const out = args.out ?? path.join("runs", `demo-${args.task}`);
    const configFile = path.join(await mkdtemp(path.join(os.tmpdir(), "llm2llm-start-")), "demo.json");
    await writeFileAtomic(configFile, JSON.stringify(config, null, 2));
    say(false, `llm2llm: the embedded default — ${args.task}, toy student and toy teacher from models/, into ${out}\n`);
    await runCommand.handler({ config: configFile, out, force: false, json: false, _: [], $0: "llm2llm" } as never);

    const metrics = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8")) as { iterations: { t: number; test_accuracy: number; kept: number; dropped: Record<string, number> }[] };
    const first = metrics.iterations[0]!;
    const last = metrics.iterations.at(-1)!;
    const kept = metrics.iterations.reduce((n, m) => n + m.kept, 0);
    const dropped: Record<string, number> = {};
    for (const m of metrics.iterations) for (const [k, v] of Object.entries(m.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    const verifier = verifierAcceptance(kept, dropped);
    say(
      false,
      `\nTest accuracy: ${percent(first.test_accuracy)} after iteration 0 (seed data only) → ${percent(last.test_accuracy)} after iteration ${last.t} ` +
        `(${(100 * (last.test_accuracy - first.test_accuracy)).toFixed(1)} points).` +
        // Only math has a verifier (it recomputes every step); classification examples are validated, not verified.
        (args.task !== "toy-math" || verifier.rate === undefined ? "" : `\nTeacher examples passing the verifier: ${verifier.passed}/${verifier.reached} (${percent(verifier.rate)}).`),
    );
  },
};
