/**
 * `llm2llm run --dry-run` as a user runs it, on a CaseHOLD-shaped file (~700-token prompts, which the old
 * 256-token default refused): the plan it prints is the plan the run then uses (plan.json, metrics.json, the
 * teacher's max_tokens on the wire), and a student whose context cannot hold the data gets one clear error
 * before anything is written or trained.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgmlType } from "../src/gguf/index.js";
import { withHeadroom } from "../src/pipeline/lengthPlan.js";
import { skipWithout, tinyRandomLlama, vocabDir } from "./fixtures.js";
import { writeCaseholdShaped } from "./helpers/caseholdShaped.js";
import { writeRandomModel } from "./helpers/randomModel.js";
import { runCli } from "./helpers/runCli.js";
import { startScriptedTeacher, type ScriptedTeacherServer } from "./helpers/scriptedTeacherServer.js";

const skip = skipWithout("fixtures");
let dir: string;
let teacher: ScriptedTeacherServer;

const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ...process.env, LLM2LLM_TEACHER_API_KEY: "test" } });
const common = () => [
  "--task", "casehold", "--seed-data", "seed.jsonl", "--test-data", "test.jsonl", "--teacher-url", teacher.url, "--teacher-model", "scripted",
  "--iterations", "2", "--epochs", "1", "--rank", "2", "--alpha", "4", "--eval-parallel", "4",
];

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-dry-"));
  teacher = await startScriptedTeacher();
  await writeCaseholdShaped(path.join(dir, "seed.jsonl"), 5, 11);
  await writeCaseholdShaped(path.join(dir, "test.jsonl"), 3, 12);
  // The same tokenizer as the fixture, trained context 512: too short for these prompts.
  await writeRandomModel(path.join(dir, "short.gguf"), { architecture: "llama", type: GgmlType.F32, vocabPath: path.join(vocabDir, "ggml-vocab-llama-spm.gguf"), nEmbd: 8, nLayer: 1, nHead: 2, nHeadKv: 2, nFf: 16, contextLength: 512 });
});

afterAll(async () => {
  if (skip) return;
  await teacher.close();
  await rm(dir, { recursive: true, force: true });
});

const planKeys = ["train_max_tokens", "train_dropped", "eval_max_tokens", "eval_cut", "teacher_max_tokens", "max_examples_per_request", "student_context", "teacher_context", "stats", "dropped", "cut", "from"] as const;

describe.skipIf(skip)("llm2llm run --dry-run", () => {
  // Five CLI processes (each loads tfjs and llama.cpp): about a minute on two idle cores, more on a loaded machine.
  it("prints the plan with per-set statistics and a probe, and the run then uses exactly those numbers", { timeout: 600_000 }, async () => {
    const dry = await cli(["run", "--dry-run", "--json", "--student", tinyRandomLlama, ...common()]);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan).toMatchObject({ train_dropped: 0, eval_cut: 0, seed_examples: 5, test_examples: 3, max_examples_per_request: 1 });
    for (const key of ["train_max_tokens", "eval_max_tokens", "teacher_max_tokens", "student_context", "teacher_context"]) expect(plan[key], key).toBeGreaterThan(0);
    // Prompts with five long holdings: far beyond the old 256-token default, and every one covered.
    expect(plan.stats.seed.prompt.max).toBeGreaterThan(550);
    expect(plan.train_max_tokens).toBe(withHeadroom(plan.stats.seed.train.max));
    expect(plan.student_context).toBeGreaterThanOrEqual(Math.max(plan.stats.seed.prompt.max, plan.stats.test.prompt.max) + plan.eval_max_tokens);
    for (const set of ["seed", "test"]) for (const q of ["p50", "p95", "max"]) expect(plan.stats[set].prompt[q]).toBeGreaterThan(0);
    expect(plan.stats.teacher.prompt.max).toBeGreaterThan(plan.stats.seed.prompt.max);
    expect(plan.probe.trainer.tokensPerSecond).toBeGreaterThan(0);
    expect(plan.probe.evaluator.tokensPerSecond).toBeGreaterThan(0);
    expect(plan.probe.teacher.skipped).toMatch(/endpoint/);
    expect(plan.probe.secondsPerIteration).toBeGreaterThan(0);
    // The training memory plan (issue 23): the F16 fixture kept in its blocks, within this machine's memory.
    expect(plan).toMatchObject({ base_weights: "stored", memory_fits: true, checkpointing: false });
    expect(plan.memory_peak_bytes).toBe(plan.memory_weights_bytes + plan.memory_lora_bytes + plan.memory_activation_bytes + plan.memory_head_bytes + plan.memory_runtime_bytes);
    expect(plan.memory_available_bytes).toBeGreaterThan(plan.memory_peak_bytes);
    expect(existsSync(path.join(dir, "runs"))).toBe(false);

    const requestsBefore = teacher.maxTokens.length;
    const out = path.join(dir, "runs/casehold");
    const run = await cli(["run", "--out", out, "--student", tinyRandomLlama, ...common()]);
    expect(run.code, run.stderr).toBe(0);
    // The live view starts with the plan, in the dry run's words.
    expect(run.stdout).toContain(`training length: ${plan.train_max_tokens} tokens (from the data)`);
    expect(run.stdout).toContain(`student answer budget: ${plan.eval_max_tokens} tokens (from the data); student context: ${plan.student_context} tokens`);
    expect(run.stdout).toContain("dropped or cut: nothing");
    const used = JSON.parse(await readFile(path.join(out, "plan.json"), "utf8"));
    const metrics = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8"));
    for (const key of planKeys) {
      expect(used[key], `plan.json ${key}`).toEqual(plan[key]);
      expect(metrics.lengths[key], `metrics.json ${key}`).toEqual(plan[key]);
    }
    // The random student gets every seed example wrong: each went to the teacher with the planned budget.
    const sent = teacher.maxTokens.slice(requestsBefore);
    expect(sent).toHaveLength(5);
    expect(new Set(sent)).toEqual(new Set([plan.teacher_max_tokens]));
    expect(metrics.iterations.map((m: { train_dropped: number }) => m.train_dropped)).toEqual([0, 0]);

    // A flag overrides the data, and what it leaves out is counted, never silent.
    const tight = await cli(["run", "--dry-run", "--json", "--no-probe", "--student", tinyRandomLlama, ...common(), "--max-len", String(plan.stats.seed.train.p50)]);
    expect(tight.code, tight.stderr).toBe(0);
    const tightPlan = JSON.parse(tight.stdout);
    expect(tightPlan.train_max_tokens).toBe(plan.stats.seed.train.p50);
    expect(tightPlan.train_dropped).toBe(2);
    expect(tightPlan.from.trainMaxTokens).toBe("flag");
    expect(tightPlan.dropped.every((d: { tokens: number; why: string }) => d.tokens > tightPlan.train_max_tokens && /training length/.test(d.why))).toBe(true);
  });

  it("gives a student whose context cannot hold the data one clear error, naming the example and the numbers, before any work", { timeout: 300_000 }, async () => {
    const out = path.join(dir, "runs/short");
    for (const args of [["run", "--out", out], ["run", "--dry-run"]]) {
      const result = await cli([...args, "--student", path.join(dir, "short.gguf"), ...common()]);
      expect(result.code).toBe(1);
      const errors = result.stderr.split("\n").filter((l) => l.startsWith("llm2llm: error:"));
      expect(errors, result.stderr).toHaveLength(1);
      expect(errors[0]).toMatch(/seed example case-11-\d+ is \d+ tokens \(prompt \+ completion \+ EOS\), more than the student's trained context of 512 tokens/);
      expect(result.stdout).toBe("");
    }
    expect(existsSync(out)).toBe(false);
  });
});
