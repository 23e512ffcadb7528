/**
 * The paper's datasets at their real lengths (issue 13): GSM8K 1% (74), SST-2, TREC and SNIPS 1% seeds from
 * ../shared/datasets with their whole test sets, and a CaseHOLD-shaped file (five long holdings, ~700-token
 * prompts), measured by students with real tokenizers (random llamas with llama.cpp's llama-spm and gpt-2
 * vocabularies). With the default flags nothing is dropped or cut: an oracle student that writes the gold
 * completion under the run's own answer budget scores 100% on seed and test, and the loop runs end to end
 * (the real tfjs trainer, the scripted teacher, the too-long filter) with exactly the plan's numbers.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/loadDataset.js";
import { subsample } from "../src/data/subsample.js";
import { writeExamplesJsonl } from "../src/data/writeExamples.js";
import { GgmlType } from "../src/gguf/index.js";
import { createLoopParts, loadRunData } from "../src/pipeline/composeParts.js";
import { accuracy, evaluateStudent } from "../src/pipeline/evaluate.js";
import { parseRunConfig, RunDirectory, runLoop, silentObserver } from "../src/pipeline/index.js";
import { planSummary, withHeadroom } from "../src/pipeline/lengthPlan.js";
import { planRun } from "../src/pipeline/planRun.js";
import { writeReport } from "../src/pipeline/report/index.js";
import { datasetsDir, skipWithout, vocabDir } from "./fixtures.js";
import { writeCaseholdShaped } from "./helpers/caseholdShaped.js";
import { oracleStudent } from "./helpers/oracleStudent.js";
import { writeRandomModel } from "./helpers/randomModel.js";
import { startScriptedTeacher, type ScriptedTeacherServer } from "./helpers/scriptedTeacherServer.js";

const skip = skipWithout("datasets") || skipWithout("fixtures");
let dir: string;
let teacher: ScriptedTeacherServer;

const students = { "llama-spm": "ggml-vocab-llama-spm.gguf", "gpt-2": "ggml-vocab-gpt-2.gguf" } as const;
type StudentName = keyof typeof students;
const studentPath = (name: StudentName) => path.join(dir, `${name}.gguf`);

/** Dataset, task, and the student its end-to-end loop runs with (both tokenizers get the plan and oracle checks). */
const cases = [
  { name: "gsm8k", task: "gsm8k", loopStudent: "llama-spm" },
  { name: "sst2", task: "sst2", loopStudent: "gpt-2" },
  { name: "trec", task: "trec", loopStudent: "llama-spm" },
  { name: "snips", task: "snips", loopStudent: "gpt-2" },
  { name: "casehold", task: "casehold", loopStudent: "gpt-2" },
] as const;

const seedFile = (name: string) => path.join(dir, `${name}-seed.jsonl`);
const testFile = (name: string) => (name === "casehold" ? path.join(dir, "casehold-test.jsonl") : path.join(datasetsDir, name, "test.jsonl"));

function config(c: (typeof cases)[number], student: StudentName, extra: Record<string, unknown> = {}) {
  return parseRunConfig(
    { student: studentPath(student), teacherUrl: teacher.url, teacherModel: "scripted", task: c.task, seedData: seedFile(c.name), testData: testFile(c.name), iterations: 2, seed: 3, train: { epochs: 1, rank: 2, alpha: 4, targets: ["q", "v"] }, ...extra },
    "test",
  );
}

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-lengths-"));
  teacher = await startScriptedTeacher();
  for (const [name, vocab] of Object.entries(students)) {
    // Tiny weights: what matters here is the tokenizer; the trainer still runs every real step.
    await writeRandomModel(studentPath(name as StudentName), { architecture: "llama", type: GgmlType.F32, vocabPath: path.join(vocabDir, vocab), nEmbd: 8, nLayer: 1, nHead: 2, nHeadKv: 2, nFf: 16, seed: 5 });
  }
  // 1% seeds, as the paper (and the official generate_seed_data.py) sample them: GSM8K 74, SST-2 69, TREC 54, SNIPS 137.
  for (const name of ["gsm8k", "sst2", "trec", "snips"]) {
    const dataset = await loadDataset(path.join(datasetsDir, name, "train.jsonl"), { kind: name === "gsm8k" ? "math" : "classification" });
    const sample = subsample(dataset.examples, { fraction: 0.01, seed: 0, ...(dataset.kind === "classification" ? { stratifyBy: (e) => e.answer } : {}) });
    await writeExamplesJsonl(seedFile(name), sample, dataset.kind);
  }
  await writeCaseholdShaped(seedFile("casehold"), 8, 1);
  await writeCaseholdShaped(testFile("casehold"), 6, 2);
}, 120_000);

afterAll(async () => {
  if (skip) return;
  await teacher.close();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(skip)("real lengths: plan, oracle and loop on the paper's datasets", () => {
  for (const c of cases) {
    for (const student of Object.keys(students) as StudentName[]) {
      it(`${c.name}, ${student} student: the default plan drops and cuts nothing, and an oracle scores 100% on seed and test under its budget`, async () => {
        const cfg = config(c, student);
        const data = await loadRunData(cfg);
        const plan = await planRun(cfg, data);
        if (c.name === "gsm8k") expect(data.seedSet).toHaveLength(74);
        expect(plan.trainDropped).toEqual([]);
        expect(plan.evalCut).toEqual([]);
        expect(plan.trainMaxTokens).toBe(withHeadroom(plan.stats.seed.train.max));
        expect(plan.evalMaxTokens).toBeGreaterThan(Math.max(plan.stats.seed.completion.max, plan.stats.test.completion.max));
        expect(plan.studentContext).toBeGreaterThanOrEqual(Math.max(plan.stats.seed.prompt.max, plan.stats.test.prompt.max) + plan.evalMaxTokens);
        if (c.name === "gsm8k") {
          // The lengths the issue reports: GSM8K test rationales far beyond the old 128-token budget, seeds beyond 256.
          expect(plan.stats.test.completion.max).toBeGreaterThan(300);
          expect(plan.trainMaxTokens).toBeGreaterThan(256);
        }
        if (c.name === "casehold") expect(plan.stats.seed.prompt.max).toBeGreaterThan(550);

        const oracle = await oracleStudent(cfg.student, data.task, [...data.seedSet, ...data.testSet]);
        try {
          for (const set of [data.seedSet, data.testSet]) {
            const evaluated = await evaluateStudent(oracle, data.task, set, { mode: "greedy", seed: 0, maxTokens: plan.evalMaxTokens });
            expect(evaluated.filter((e) => !e.correct).map((e) => e.example.id)).toEqual([]);
            expect(accuracy(evaluated)).toBe(1);
          }
          expect(oracle.cut).toBe(0);
          // The check can fail: one token less than the longest gold completion cuts it (and GSM8K loses its `####` line).
          if (c.name === "gsm8k") {
            const longest = plan.stats.test.completion.longest;
            const cutShort = await evaluateStudent(oracle, data.task, data.testSet.filter((e) => e.id === longest), { mode: "greedy", seed: 0, maxTokens: plan.stats.test.completion.max - 1 });
            expect(oracle.cut).toBe(1);
            expect(cutShort[0]!.correct).toBe(false);
          }
        } finally {
          await oracle.dispose();
        }
      });
    }

    // Two real training runs (GSM8K: 74 examples of up to 421 tokens): 10–40 s on two idle cores, minutes when loaded.
    it(`${c.name}: the loop runs end to end with the default length flags and uses exactly the plan's numbers`, { timeout: 600_000 }, async () => {
      const cfg = config(c, c.loopStudent);
      const data = await loadRunData(cfg);
      const plan = await planRun(cfg, data);
      const run = new RunDirectory(path.join(dir, `run-${c.name}`));
      await run.create();
      const wrong = new Set(data.seedSet.slice(0, 3).map((e) => e.id));
      const budgets: number[] = [];
      const parts = createLoopParts(cfg, data.task, run, silentObserver, plan);
      parts.openStudent = async () => {
        const oracle = await oracleStudent(cfg.student, data.task, [...data.seedSet, ...data.testSet], wrong);
        return { ...oracle, generate: (prompts, sampling, onDone) => (budgets.push(...(Array.isArray(sampling) ? sampling : [sampling]).map((s) => s.maxTokens)), oracle.generate(prompts, sampling, onDone)) };
      };
      const history = await runLoop(cfg, run, parts, data.seedSet, data.testSet, silentObserver);

      const n = data.seedSet.length;
      expect(history).toHaveLength(2);
      expect(history[0]).toMatchObject({ seed_accuracy: (n - 3) / n, test_accuracy: 1, sources: 3, train_dropped: 0, train_size: n });
      expect(history[0]!.kept).toBeGreaterThan(0);
      expect(history[0]!.dropped["length:too-long-to-train"] ?? 0).toBe(0);
      expect(history[1]!.train_size).toBe(n + history[0]!.kept);
      // Every evaluation ran under the plan's answer budget; metrics.json records the plan itself.
      expect(new Set(budgets)).toEqual(new Set([plan.evalMaxTokens]));
      const metrics = JSON.parse(await readFile(run.metricsPath, "utf8"));
      expect(metrics.lengths).toEqual(JSON.parse(JSON.stringify(planSummary(plan))));
      // …and the report says it.
      const report = await readFile((await writeReport(run)).markdown, "utf8");
      expect(report).toContain(`Training length ${plan.trainMaxTokens} tokens (0 seed examples longer, left out of training); student answer budget ${plan.evalMaxTokens} tokens (0 gold answers longer, cut)`);
    });
  }
});
