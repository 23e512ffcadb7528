/**
 * `npm run bench -- eval [--json] [--n 32] [--parallel 8] [--max-tokens 32] [--model m.gguf --adapter a.gguf]`
 *
 * Student evaluation speed: examples/s of llama.cpp with the LoRA adapter (one context, N parallel
 * sequences) against the tfjs student engine, same model, same adapter, same prompts, greedy, in one run.
 * Without --model: a random-weight llama shaped like a small student (E 256, 4 layers, GQA, toy
 * vocabulary) and a random rank-8 adapter on all seven projections; prompts are the first n questions of
 * datasets/toy-math/test.jsonl. A random model never says EOS, so both engines generate exactly
 * --max-tokens tokens per prompt: equal work. `same_outputs` is the fraction of prompts where both engines
 * wrote the same text (a parity check on the side).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { UsageError } from "../src/errors.js";
import { writeLoraAdapter } from "../src/gguf/adapter.js";
import { GgmlType, openGguf } from "../src/gguf/index.js";
import { LlamaCppStudentGenerator } from "../src/student/evaluate/LlamaCppStudentGenerator.js";
import { TfjsStudentGenerator } from "../src/student/evaluate/TfjsStudentGenerator.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraTargets } from "../src/student/lora/loraTargets.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { SeededRandom } from "../src/student/train/seededRandom.js";
import type { StudentGenerator } from "../src/seams.js";
import { writeRandomModel } from "../test/helpers/randomModel.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface EvalRow {
  engine: string;
  parallel: number;
  examples: number;
  seconds: number;
  examples_per_s: number;
  tokens_per_s: number;
}

interface EvalResult {
  benchmark: "eval";
  results: EvalRow[];
  ratio: number;
  same_outputs: number;
  model: string;
  max_tokens: number;
  machine: Machine;
  [field: string]: unknown;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** A student-sized random llama and a random adapter (B ≠ 0) in a temporary directory. */
async function randomStudent(): Promise<{ modelPath: string; adapterPath: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-bench-eval-"));
  const modelPath = path.join(dir, "student.gguf");
  const adapterPath = path.join(dir, "adapter.gguf");
  await writeRandomModel(modelPath, {
    architecture: "llama", type: GgmlType.F32, vocabPath: path.join(repoRoot, "models/toy-vocab.gguf"),
    nEmbd: 256, nLayer: 4, nHead: 4, nHeadKv: 2, nFf: 768, seed: 9,
  });
  const model = await StudentModel.fromGguf(await openGguf(modelPath));
  const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: 8, alpha: 16, dropout: 0 }, 1);
  const tensors = await adapter.toTensors("llama");
  const random = new SeededRandom(2);
  for (const pair of tensors.pairs) for (let i = 0; i < pair.b.length; i++) pair.b[i] = random.uniform(-0.02, 0.02);
  await writeLoraAdapter(adapterPath, tensors);
  adapter.dispose();
  model.dispose();
  return { modelPath, adapterPath };
}

async function timeEngine(generator: StudentGenerator, prompts: string[], maxTokens: number, parallel: number): Promise<{ row: EvalRow; outputs: string[] }> {
  try {
    const started = performance.now();
    const outputs = await generator.generate(prompts, { maxTokens, temperature: 0 });
    const seconds = (performance.now() - started) / 1000;
    return {
      outputs,
      row: {
        engine: generator.engine, parallel, examples: prompts.length, seconds: round(seconds, 2),
        examples_per_s: round(prompts.length / seconds, 2), tokens_per_s: round((prompts.length * maxTokens) / seconds, 1),
      },
    };
  } finally {
    await generator.dispose();
  }
}

const evalBenchmark: Benchmark<EvalResult> = {
  description: "student evaluation examples/s: llama.cpp + adapter (N parallel sequences) vs the tfjs engine",

  async run(args, log) {
    const backend = await initBackend();
    log(`tfjs backend: ${backend.description}`);
    const n = Number(option(args, "n") ?? 32);
    const parallel = Number(option(args, "parallel") ?? 8);
    const maxTokens = Number(option(args, "max-tokens") ?? 32);
    if (![n, parallel, maxTokens].every((x) => Number.isInteger(x) && x > 0)) throw new UsageError("--n, --parallel, --max-tokens: expected positive integers");
    const given = option(args, "model");
    const { modelPath, adapterPath } = given ? { modelPath: given, adapterPath: option(args, "adapter") } : await randomStudent();
    const questions = readFileSync(path.join(repoRoot, "datasets/toy-math/test.jsonl"), "utf8").trim().split("\n").slice(0, n);
    const prompts = questions.map((line) => `Question: ${JSON.parse(line).question}\nAnswer:`);
    const common = { modelPath, ...(adapterPath ? { adapterPath } : {}) };

    log(`llama.cpp, ${parallel} parallel sequences, ${prompts.length} prompts × ${maxTokens} tokens ...`);
    const llamaCpp = await timeEngine(await LlamaCppStudentGenerator.load({ ...common, parallel, contextSize: 512 }), prompts, maxTokens, parallel);
    log(`tfjs, one prompt at a time ...`);
    const tfjs = await timeEngine(await TfjsStudentGenerator.load(common), prompts, maxTokens, 1);
    const same = llamaCpp.outputs.filter((o, i) => o === tfjs.outputs[i]).length / prompts.length;
    return {
      benchmark: "eval",
      results: [llamaCpp.row, tfjs.row],
      ratio: round(llamaCpp.row.examples_per_s / tfjs.row.examples_per_s, 2),
      same_outputs: same,
      model: given ?? "random llama E256 L4 (toy vocab) + random rank-8 adapter",
      max_tokens: maxTokens,
      machine: describeMachine(backend.description),
    };
  },

  table(result) {
    return {
      header: ["engine", "parallel", "examples", "seconds", "examples/s", "tokens/s", "ratio"],
      rows: result.results.map((r, i) => [r.engine, r.parallel, r.examples, r.seconds, r.examples_per_s, r.tokens_per_s, i === 0 ? result.ratio : ""]),
    };
  },
};

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export default evalBenchmark;
