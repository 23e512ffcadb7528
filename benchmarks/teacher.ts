/**
 * `npm run bench -- teacher [--json] [--model teacher.gguf] [--prompts 16] [--max-tokens 128] [--threads T]
 *                          [--rounds 3] [--no-random-model]`
 *
 * The local teacher's throughput with N = 1, 4, 8 parallel sequences in one context, on the same prompts
 * (the paper's augmentation prompts for GSM8K-style seeds) and the same model, in one run: completion
 * tokens/s and prompts/s, each as a ratio to N = 1; then the JSON-schema grammar's overhead (structured vs
 * free text at the same N).
 *
 * Models: the project's toy teacher when it has been built (models/toy-teacher.gguf), else the shared fixture
 * llama-2-tiny-random.gguf (or --model). The fixture is so small (n_embd 8, one block) that a token costs
 * almost nothing to compute and the per-token sampling over its 32000-token vocabulary and the JavaScript
 * around it dominate — work that batching does not share. So the run adds a mid-size random llama (6 blocks,
 * n_embd 512, the toy ~1,265-token vocabulary, Q4_0), written by the project's GGUF writer to a temporary file,
 * where the forward pass dominates as it does for a real teacher. Every result row names its model.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { UsageError } from "../src/errors.js";
import type { Example, TeacherRequest } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { augmentationRequest } from "../src/teacher/prompts/augmentationRequest.js";
import { GgmlType } from "../src/gguf/index.js";
import { writeRandomModel } from "../test/helpers/randomModel.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PARALLEL = [1, 4, 8];

interface TeacherRow {
  model: string;
  mode: "free-text" | "structured";
  parallel: number;
  prompts: number;
  tokens: number;
  seconds: number;
  tokens_per_s: number;
  prompts_per_s: number;
  /** tokens/s over the same mode's N = 1 figure. */
  speedup_vs_n1: number;
}

interface TeacherResult {
  benchmark: "teacher";
  models: { name: string; note: string }[];
  threads: number | "default";
  max_tokens: number;
  rounds: number;
  results: TeacherRow[];
  /** Free-text tokens/s over structured tokens/s, per N: what the grammar costs. */
  grammar_overhead: { model: string; parallel: number; free_tokens_per_s: number; structured_tokens_per_s: number; ratio: number }[];
  goal: { description: string; speedup_at_8: Record<string, number> };
  machine: Machine;
  [field: string]: unknown;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function positiveInt(args: string[], name: string, fallback: number): number {
  const raw = option(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`--${name}: expected a positive integer, got ${raw}`);
  return value;
}

function chooseModel(args: string[]): { model: string; note: string } {
  const given = option(args, "model");
  if (given) return { model: given, note: "given with --model" };
  const toy = path.join(repoRoot, "models/toy-teacher.gguf");
  if (existsSync(toy)) return { model: toy, note: "the project's toy teacher (models/toy-teacher.gguf)" };
  const fixtures = process.env.LLM2LLM_FIXTURES ?? path.resolve(repoRoot, "../shared/fixtures");
  const tiny = path.join(fixtures, "models/llama-2-tiny-random.gguf");
  if (existsSync(tiny)) return { model: tiny, note: "shared fixture llama-2-tiny-random.gguf (1 block, n_embd 8, 32000-token vocabulary; no toy teacher built yet)" };
  throw new UsageError("no teacher model: pass --model <gguf> (neither models/toy-teacher.gguf nor the shared fixture exists)");
}

/** A mid-size random llama where the forward pass, not sampling, is the cost of a token. */
async function writeMidSizeModel(dir: string): Promise<{ model: string; note: string } | undefined> {
  const vocab = path.join(repoRoot, "models/toy-vocab.gguf");
  if (!existsSync(vocab)) return undefined;
  const model = path.join(dir, "random-llama-512x6.gguf");
  await writeRandomModel(model, { architecture: "llama", type: GgmlType.Q4_0, vocabPath: vocab, nEmbd: 512, nLayer: 6, nHead: 8, nHeadKv: 8, nFf: 1536, seed: 7 });
  return { model, note: "random llama written by the project's GGUF writer for this run: 6 blocks, n_embd 512, ff 1536, Q4_0 (a typical teacher quantization), toy ~1,265-token vocabulary (12 MB)" };
}

/** GSM8K-style seeds made up for the benchmark: varied numbers and names, so prompts differ. */
function seeds(count: number): Example[] {
  const names = ["Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana"];
  return Array.from({ length: count }, (_, i) => {
    const a = 12 + i * 3;
    const b = 2 + (i % 5);
    const name = names[i % names.length]!;
    return {
      id: `bench-${i}`,
      question: `${name} buys ${a} apples and gives ${b} to each of ${b + 1} friends. How many apples does ${name} have left?`,
      answer: `${name} gives away ${b} * ${b + 1} = <<${b}*${b + 1}=${b * (b + 1)}>>${b * (b + 1)} apples.\nSo ${a} - ${b * (b + 1)} = <<${a}-${b * (b + 1)}=${a - b * (b + 1)}>>${a - b * (b + 1)} are left.\n#### ${a - b * (b + 1)}`,
    };
  });
}

async function measure(teacher: LocalTeacher, requests: TeacherRequest[], rounds: number): Promise<{ tokens: number; seconds: number }> {
  await teacher.complete(requests.slice(0, teacher.parallel)); // warm-up: first-use allocations, grammar build
  const samples: { tokens: number; seconds: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const done = await teacher.complete(requests);
    samples.push({ tokens: done.reduce((sum, c) => sum + c.tokens, 0), seconds: (performance.now() - started) / 1000 });
  }
  samples.sort((x, y) => x.tokens / x.seconds - y.tokens / y.seconds);
  return samples[samples.length >> 1]!;
}

function displayName(model: string): string {
  return path.basename(model);
}

const teacherBenchmark: Benchmark<TeacherResult> = {
  description: "local teacher tokens/s and prompts/s at N = 1, 4, 8 parallel sequences, and the JSON-schema grammar's overhead",
  async run(args, log) {
    const promptCount = positiveInt(args, "prompts", 16);
    const maxTokens = positiveInt(args, "max-tokens", 128);
    const rounds = positiveInt(args, "rounds", 3);
    const threadsArg = option(args, "threads");
    const threads = threadsArg === undefined ? undefined : positiveInt(args, "threads", 1);
    const llama = await getLlamaCpp();
    const machine = describeMachine(`llama.cpp (node-llama-cpp ${llama.buildType}, ${llama.gpu || "cpu"})`);

    const task = resolveTask("gsm8k");
    const sampling = { temperature: 0.7, topP: 0.9, seed: 1, maxTokens };
    const build = (structured: boolean) =>
      seeds(promptCount).map((seed) => augmentationRequest(task, seed, { k: 1, structured, sampling, iteration: 0 }).request);
    const requests = { "free-text": build(false), structured: build(true) };

    const models = [chooseModel(args)];
    const scratch = mkdtempSync(path.join(tmpdir(), "llm2llm-bench-teacher-"));
    try {
      if (!args.includes("--no-random-model")) {
        const midSize = await writeMidSizeModel(scratch);
        if (midSize) models.push(midSize);
      }
      const rows: TeacherRow[] = [];
      for (const { model, note } of models) {
        const name = displayName(model);
        log(`model ${name}: ${note}`);
        for (const parallel of PARALLEL) {
          const teacher = await LocalTeacher.load({ modelPath: model, parallel, threads, contextSize: 2048 });
          try {
            for (const mode of ["free-text", "structured"] as const) {
              const { tokens, seconds } = await measure(teacher, requests[mode], rounds);
              rows.push({ model: name, mode, parallel, prompts: promptCount, tokens, seconds, tokens_per_s: tokens / seconds, prompts_per_s: promptCount / seconds, speedup_vs_n1: 0 });
              log(`  N=${parallel} ${mode}: ${tokens} tokens in ${seconds.toFixed(2)} s = ${(tokens / seconds).toFixed(1)} tokens/s`);
            }
          } finally {
            await teacher.dispose();
          }
        }
      }
      for (const row of rows) {
        const base = rows.find((r) => r.model === row.model && r.mode === row.mode && r.parallel === 1)!;
        row.speedup_vs_n1 = row.tokens_per_s / base.tokens_per_s;
      }
      const grammar_overhead = rows
        .filter((r) => r.mode === "structured")
        .map((structured) => {
          const free = rows.find((r) => r.model === structured.model && r.mode === "free-text" && r.parallel === structured.parallel)!;
          return { model: structured.model, parallel: structured.parallel, free_tokens_per_s: free.tokens_per_s, structured_tokens_per_s: structured.tokens_per_s, ratio: free.tokens_per_s / structured.tokens_per_s };
        });
      const speedupAt8 = Object.fromEntries(rows.filter((r) => r.mode === "free-text" && r.parallel === 8).map((r) => [r.model, r.speedup_vs_n1]));
      return {
        benchmark: "teacher",
        models: models.map(({ model, note }) => ({ name: displayName(model), note })),
        threads: threads ?? "default",
        max_tokens: maxTokens,
        rounds,
        results: rows,
        grammar_overhead,
        goal: { description: "free-text tokens/s at N = 8 at least 3x N = 1 (per model)", speedup_at_8: speedupAt8 },
        machine,
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
  table(result) {
    return {
      header: ["model", "mode", "N", "prompts", "tokens", "seconds", "tokens/s", "prompts/s", "x N=1", "grammar cost"],
      rows: result.results.map((r) => [
        r.model,
        r.mode,
        r.parallel,
        r.prompts,
        r.tokens,
        r.seconds.toFixed(2),
        r.tokens_per_s.toFixed(1),
        r.prompts_per_s.toFixed(2),
        r.speedup_vs_n1.toFixed(2),
        r.mode === "structured" ? `${result.grammar_overhead.find((g) => g.model === r.model && g.parallel === r.parallel)!.ratio.toFixed(2)}x slower` : "",
      ]),
    };
  },
};

export default teacherBenchmark;
