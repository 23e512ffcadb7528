/**
 * `llm2llm eval --model base.gguf --adapter a.gguf --data x.jsonl`: greedy completions of every prompt by the
 * student (llama.cpp with the adapter and N parallel sequences by default, or the tfjs student), scored
 * against the completions: with --task by the task's own extraction (GSM8K's `####` number, the label, the
 * letter), else by exact match of the trimmed texts, with prefix match reported beside it. Per-example
 * predictions go to --out as JSONL.
 */
import cliProgress from "cli-progress";
import type { CommandModule } from "yargs";
import { initBackend } from "../backend/tfjsBackend.js";
import { UsageError } from "../errors.js";
import { evaluateExamples } from "../student/evaluate/evaluateExamples.js";
import { loadStudentGenerator, studentEngines, type StudentEngine } from "../student/evaluate/loadStudentGenerator.js";
import { readPromptCompletionJsonl } from "../student/train/trainingData.js";
import { scoringTask, taskScorer } from "../tasks/scoreCompletion.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { jsonOption, printJson, say } from "./output.js";

interface EvalArgs {
  model: string;
  adapter?: string;
  data: string;
  engine: StudentEngine;
  parallel: number;
  "max-tokens": number;
  "context-size": number;
  out?: string;
  task?: string;
  json: boolean;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: "eval",
  describe: "score a student (base + LoRA adapter) on {prompt, completion} JSONL with greedy decoding",
  builder: (y) =>
    y.options({
      model: { type: "string", demandOption: true, describe: "base model GGUF" },
      adapter: { type: "string", describe: "LoRA adapter GGUF (absent: the base model alone)" },
      data: { type: "string", demandOption: true, describe: "{\"prompt\", \"completion\"} JSONL" },
      engine: { choices: studentEngines, default: "llama.cpp" as StudentEngine, describe: "llama.cpp (fast, default) or tfjs (reference)" },
      parallel: { type: "number", default: 8, describe: "llama.cpp: sequences decoded together" },
      "max-tokens": { type: "number", default: 128, describe: "most tokens generated per prompt" },
      "context-size": { type: "number", default: 1024, describe: "llama.cpp: tokens per sequence (prompt + output)" },
      out: { type: "string", describe: "write per-example predictions here (JSONL)" },
      task: { type: "string", describe: "score with this task's extraction (gsm8k: the number after ####; a label; a letter): a kind, preset or task .json" },
      ...jsonOption,
    }),
  handler: async (args) => {
    if (!Number.isInteger(args["max-tokens"]) || args["max-tokens"] < 1) throw new UsageError(`--max-tokens: expected a positive integer, got ${args["max-tokens"]}`);
    const examples = readPromptCompletionJsonl(args.data);
    const task = args.task === undefined ? undefined : scoringTask(args.task, examples.map((e) => e.completion));
    if (args.engine === "tfjs") say(args.json, `student backend: ${(await initBackend()).description}`);
    const generator = await loadStudentGenerator({
      engine: args.engine,
      modelPath: args.model,
      ...(args.adapter === undefined ? {} : { adapterPath: args.adapter }),
      parallel: args.parallel,
      contextSize: args["context-size"],
    });
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: `eval (${args.engine}) [{bar}] {value}/{total} | ETA {eta_formatted}`, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(examples.length, 0);
    let done = 0;
    let result;
    try {
      result = await evaluateExamples(generator, examples, { maxTokens: args["max-tokens"], temperature: 0 }, () => bar.update(++done), task ? taskScorer(task) : undefined);
    } finally {
      bar.stop();
      await generator.dispose();
    }
    if (args.out) await writeFileAtomic(args.out, result.predictions.map((p) => JSON.stringify(p)).join("\n") + "\n");
    const summary = { ...result.summary, scoring: task ? `task ${task.name}` : "exact match", model: args.model, adapter: args.adapter ?? null, data: args.data, predictions: args.out ?? null };
    if (args.json) return printJson(summary);
    const s = result.summary;
    const scoring = task ? `scored by task ${task.name}` : `exact match; prefix match ${(100 * s.prefixAccuracy).toFixed(1)}% (${s.prefixCorrect}/${s.n})`;
    say(false, `accuracy ${(100 * s.accuracy).toFixed(1)}% (${s.correct}/${s.n}, ${scoring}), ${s.engine}, ${s.examplesPerSecond.toFixed(2)} examples/s` +
      (args.out ? `; predictions: ${args.out}` : ""));
  },
};
