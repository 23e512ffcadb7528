/**
 * `npm run bench -- teacher [--json] [--model teacher.gguf] [--prompts 16] [--max-tokens 128] [--threads T]
 *                          [--rounds 3] [--no-random-model] [--parallel 16] [--kv-heads 16] [--modes structured,free-text]
 *                          [--no-sweep] [--no-vs-sequential] [--with-unshared]`
 *
 * 1. vs sequential (the headline, `speedup_vs_sequential`): on a memory-bound teacher — a ≥ 400 MB random
 *    Q4_0 llama written by the project's GGUF writer for the run (n_embd 2048, 16 blocks; --kv-heads 4 for
 *    grouped-query attention as 1B-class llamas have it), or --model — the
 *    project's teacher (N = --parallel sequences, shared prefix; by default every prompt in one batch, up to 16)
 *    against a plain loop of node-llama-cpp LlamaChatSession prompts on one sequence, same prompts, budget,
 *    sampling and grammar; completion tokens/s of each, the prompt tokens each made llama.cpp evaluate, and what
 *    a prompt token and a decode step cost on the model now (benchmarks/teacher/vsSequential.ts), to say where
 *    the time goes. Also the teacher with prefix sharing off (--with-unshared), to show what sharing alone is
 *    worth at N sequences.
 * 2. sweep: the local teacher's throughput with N = 1, 4, 8 parallel sequences in one context, on the same prompts
 *    (the paper's augmentation prompts for GSM8K-style seeds) and the same model, in one run: completion
 *    tokens/s and prompts/s, each as a ratio to N = 1; then the JSON-schema grammar's overhead (structured vs
 *    free text at the same N).
 *
 * Models: the project's toy teacher when it has been built (models/toy-teacher.gguf), else the shared fixture
 * llama-2-tiny-random.gguf (or --model). The fixture is so small (n_embd 8, one block) that a token costs
 * almost nothing to compute and the per-token sampling over its 32000-token vocabulary and the JavaScript
 * around it dominate — work that batching does not share. So the run adds a mid-size random llama (6 blocks,
 * n_embd 512, the toy ~1,265-token vocabulary, Q4_0), written by the project's GGUF writer to a temporary file,
 * where the forward pass dominates as it does for a real teacher. Every result row names its model.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { UsageError } from "../src/errors.js";
import type { Example, TeacherRequest } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import type { Token } from "node-llama-cpp";
import { chatWrapperFor } from "../src/teacher/chatWrapper.js";
import { chatHistory, LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { renderedTokens } from "../src/teacher/sharedPrefix.js";
import { augmentationRequest } from "../src/teacher/prompts/augmentationRequest.js";
import { GgmlType } from "../src/gguf/index.js";
import { writeRandomModel } from "../test/helpers/randomModel.js";
import { describeMachine, type Machine } from "./machine.js";
import { probeCosts, runSequentialBaseline, runTeacher, type ModelCosts, type RunMeasure } from "./teacher/vsSequential.js";
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
  /** The headline: the project's teacher ÷ the sequential LlamaChatSession loop, completion tokens/s, on the memory-bound model (first mode). */
  speedup_vs_sequential?: number;
  vs_sequential?: VsSequentialRow[];
  machine: Machine;
  [field: string]: unknown;
}

interface VsSequentialRow {
  model: string;
  model_bytes: number;
  mode: "free-text" | "structured";
  prompts: number;
  max_tokens: number;
  parallel: number;
  teacher: Omit<RunMeasure, "texts"> & { prefix_tokens: number; prefix_copies: number };
  teacher_no_prefix_sharing?: Omit<RunMeasure, "texts">;
  sequential: Omit<RunMeasure, "texts">;
  speedup_vs_sequential: number;
  /** The same ratio in completion tokens per CPU second of this process: on a shared machine, the work each did. */
  speedup_vs_sequential_cpu: number;
  /** Prompts whose completion text the two runs wrote alike (same seeds; batched arithmetic may round differently). */
  same_texts: number;
  costs: ModelCosts;
  /** Seconds each run would take at the probed costs: prompt tokens ÷ rate + decode steps × step time. */
  predicted_seconds: { teacher: number; sequential: number };
  /** The machine's load average (1 min) before and after the row: other work shares the cores. */
  load_average: [number, number];
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

/**
 * A memory-bound teacher: 16 blocks of n_embd 2048 (16 heads of 128) in Q4_0, where a decode step reads every
 * weight. `kvHeads` 16 (the default) is plain multi-head attention (465 MB); 4 is grouped-query attention as
 * 1B-class llamas have it (TinyLlama, Llama-3.2-1B: 4 query heads per KV head; 409 MB), whose KV cache is 4x
 * smaller, so attention over a long prompt costs each sequence a quarter as much.
 */
async function writeMemoryBoundModel(dir: string, kvHeads: number): Promise<{ model: string; note: string }> {
  const vocab = path.join(repoRoot, "models/toy-vocab.gguf");
  if (!existsSync(vocab)) throw new UsageError("models/toy-vocab.gguf is missing: pass --model <gguf> for the memory-bound teacher");
  if (16 % kvHeads !== 0) throw new UsageError(`--kv-heads: expected a divisor of the 16 heads, got ${kvHeads}`);
  const gqa = kvHeads === 16 ? "" : `-kv${kvHeads}`;
  const model = path.join(dir, `random-llama-2048x16${gqa}.gguf`);
  await writeRandomModel(model, { architecture: "llama", type: GgmlType.Q4_0, vocabPath: vocab, nEmbd: 2048, nLayer: 16, nHead: 16, nHeadKv: kvHeads, nFf: 5632, seed: 7 });
  const mb = Math.round(statSync(model).size / 1e6);
  const attention = kvHeads === 16 ? "16 heads" : `16 heads sharing ${kvHeads} KV heads`;
  return { model, note: `random llama written by the project's GGUF writer for this run: 16 blocks, n_embd 2048, ${attention}, ff 5632, Q4_0, toy ~1,265-token vocabulary (${mb} MB)` };
}

async function vsSequential(model: string, requests: TeacherRequest[], mode: VsSequentialRow["mode"], parallel: number, threads: number | undefined, maxTokens: number, withUnshared: boolean, log: (line: string) => void): Promise<VsSequentialRow> {
  const options = { threads, contextSize: 2048 };
  const loadBefore = loadavg()[0]!;
  const costs = await probeCosts(model, parallel, await promptTokens(model, requests[0]!), options);
  log(`  costs now, at ${costs.context_tokens} tokens of context: ${costs.prompt_tokens_per_s.toFixed(1)} prompt tokens/s, decode step ${costs.decode_step_ms_1.toFixed(0)} ms (1 sequence), ${costs.decode_step_ms_n.toFixed(0)} ms (${parallel} in one batch)`);
  // The teacher first: the baseline then runs with whatever the teacher warmed (page cache), not the reverse.
  const { texts: teacherTexts, ...teacher } = await runTeacher(model, requests, parallel, options);
  log(`  teacher N=${parallel}: ${teacher.tokens} tokens in ${teacher.seconds.toFixed(1)} s (${teacher.cpu_seconds.toFixed(1)} CPU s) = ${teacher.tokens_per_s.toFixed(2)} tokens/s (${teacher.prompt_tokens_evaluated} prompt tokens evaluated, prefix ${teacher.prefix_tokens} copied ${teacher.prefix_copies}x)`);
  const { texts: sequentialTexts, ...sequential } = await runSequentialBaseline(model, requests, options);
  log(`  sequential LlamaChatSession: ${sequential.tokens} tokens in ${sequential.seconds.toFixed(1)} s (${sequential.cpu_seconds.toFixed(1)} CPU s) = ${sequential.tokens_per_s.toFixed(2)} tokens/s (${sequential.prompt_tokens_evaluated} prompt tokens evaluated)`);
  let unshared: Omit<RunMeasure, "texts"> | undefined;
  if (withUnshared) {
    const { texts: _texts, ...rest } = await runTeacher(model, requests, parallel, { ...options, sharePrefix: false });
    unshared = rest;
    log(`  teacher N=${parallel} without prefix sharing: ${rest.tokens_per_s.toFixed(2)} tokens/s (${rest.prompt_tokens_evaluated} prompt tokens evaluated)`);
  }
  const decodeSteps = (m: Omit<RunMeasure, "texts">, perStep: number) => m.sampled_tokens_evaluated / perStep;
  return {
    model: path.basename(model),
    model_bytes: statSync(model).size,
    mode,
    prompts: requests.length,
    max_tokens: maxTokens,
    parallel,
    teacher,
    ...(unshared ? { teacher_no_prefix_sharing: unshared } : {}),
    sequential,
    speedup_vs_sequential: teacher.tokens_per_s / sequential.tokens_per_s,
    speedup_vs_sequential_cpu: teacher.tokens / teacher.cpu_seconds / (sequential.tokens / sequential.cpu_seconds),
    same_texts: teacherTexts.filter((t, i) => t === sequentialTexts[i]).length,
    costs,
    predicted_seconds: {
      teacher: teacher.prompt_tokens_evaluated / costs.prompt_tokens_per_s + (decodeSteps(teacher, parallel) * costs.decode_step_ms_n) / 1000,
      sequential: sequential.prompt_tokens_evaluated / costs.prompt_tokens_per_s + (decodeSteps(sequential, 1) * costs.decode_step_ms_1) / 1000,
    },
    load_average: [loadBefore, loadavg()[0]!],
  };
}

/** The first request's prompt as the teacher renders it (the probe's context). */
async function promptTokens(modelPath: string, request: TeacherRequest): Promise<Token[]> {
  const llama = await getLlamaCpp();
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  try {
    return renderedTokens(model, chatWrapperFor(model), chatHistory(request));
  } finally {
    await model.dispose();
  }
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
  description: "local teacher vs a sequential LlamaChatSession loop on a memory-bound model; tokens/s at N = 1, 4, 8 and the grammar's overhead",
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

    // Every prompt decodes in the same batch by default: on llama.cpp's CPU path a step's weight work hardly grows
    // from 8 to 16 sequences (see the README); 16 bounds the KV cache a big --model needs.
    const parallelVs = positiveInt(args, "parallel", Math.min(promptCount, 16));
    const modes = (option(args, "modes") ?? "structured,free-text").split(",").map((m) => m.trim());
    for (const mode of modes) if (mode !== "structured" && mode !== "free-text") throw new UsageError(`--modes: expected structured and/or free-text, got ${mode}`);

    const models = args.includes("--no-sweep") ? [] : [chooseModel(args)];
    const scratch = mkdtempSync(path.join(tmpdir(), "llm2llm-bench-teacher-"));
    try {
      const vsRows: VsSequentialRow[] = [];
      if (!args.includes("--no-vs-sequential")) {
        const given = option(args, "model");
        const memoryBound = given ? { model: given, note: "given with --model" } : await writeMemoryBoundModel(scratch, positiveInt(args, "kv-heads", 16));
        log(`vs sequential on ${displayName(memoryBound.model)}: ${memoryBound.note}`);
        for (const mode of modes as VsSequentialRow["mode"][]) {
          log(` ${mode}, ${promptCount} prompts, ${maxTokens} tokens each at most, N = ${parallelVs}`);
          vsRows.push(await vsSequential(memoryBound.model, requests[mode], mode, parallelVs, threads, maxTokens, args.includes("--with-unshared"), log));
          log(`  speedup_vs_sequential ${vsRows.at(-1)!.speedup_vs_sequential.toFixed(2)}`);
        }
      }
      if (models.length > 0 && !args.includes("--no-random-model")) {
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
        ...(vsRows.length > 0 ? { speedup_vs_sequential: vsRows[0]!.speedup_vs_sequential, vs_sequential: vsRows } : {}),
        machine,
      };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
  table(result) {
    const vs = (result.vs_sequential ?? []).flatMap((r) => [
      [r.model, r.mode, `${r.parallel} (ours)`, r.prompts, r.teacher.tokens, r.teacher.seconds.toFixed(2), r.teacher.tokens_per_s.toFixed(1), (r.prompts / r.teacher.seconds).toFixed(2), `${r.speedup_vs_sequential.toFixed(2)}x seq`, ""],
      [r.model, r.mode, "1 (LlamaChatSession loop)", r.prompts, r.sequential.tokens, r.sequential.seconds.toFixed(2), r.sequential.tokens_per_s.toFixed(1), (r.prompts / r.sequential.seconds).toFixed(2), "1.00x seq", ""],
    ]);
    return {
      header: ["model", "mode", "N", "prompts", "tokens", "seconds", "tokens/s", "prompts/s", "x N=1", "grammar cost"],
      rows: [...vs, ...result.results.map((r) => [
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
      ])],
    };
  },
};

export default teacherBenchmark;
