/**
 * `llm2llm eval` scoring: with --task the task's own extraction (GSM8K's `####` number, a label, a letter);
 * without, exact match with prefix match reported beside it. And the augment progress bar's total.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Example, StudentGenerator, Teacher, TeacherRequest } from "../src/seams.js";
import { evaluateExamples } from "../src/student/evaluate/evaluateExamples.js";
import { scoringTask, taskScorer } from "../src/tasks/scoreCompletion.js";
import { createLoopParts } from "../src/pipeline/composeParts.js";
import { planLengths } from "../src/pipeline/lengthPlan.js";
import { parseRunConfig, RunDirectory, type LoopObserver } from "../src/pipeline/index.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import { runCli } from "./helpers/runCli.js";

const fixed = (outputs: string[]): StudentGenerator => ({ engine: "fixed", generate: async () => outputs, dispose: async () => undefined });

describe("eval scoring", () => {
  it("scores GSM8K by the number after ####, a label by the label the output starts with, a letter by the letter", () => {
    const gsm = taskScorer(scoringTask("gsm8k", []));
    expect(gsm("She has 3 + 4 = 7 apples.\n#### 7\nQuestion: next one", " 3 + 4 = 7\n#### 7")).toBe(true);
    expect(gsm("#### 1,200", " so 1200\n#### 1200")).toBe(true);
    expect(gsm("3 + 4 = 7\n#### 8", " 3 + 4 = 7\n#### 7")).toBe(false);
    expect(gsm("no final answer", " #### 7")).toBe(false);

    const sst2 = taskScorer(scoringTask("sst2", []));
    expect(sst2(" positive. The movie was fine", " positive")).toBe(true);
    expect(sst2(" negative", " positive")).toBe(false);
    // A classification kind without labels takes them from the data's completions.
    const intents = scoringTask("classification", [" PlayMusic", " GetWeather", " PlayMusic"]);
    expect(intents.labels).toEqual(["PlayMusic", "GetWeather"]);
    expect(taskScorer(intents)(" GetWeather\nIntent: x", " GetWeather")).toBe(true);

    const mc = taskScorer(scoringTask("casehold", []));
    expect(mc(" (B) holding that the statute applies", " B")).toBe(true);
    expect(mc(" C", " B")).toBe(false);
  });

  it("without a task keeps exact match and reports prefix match beside it", async () => {
    const examples = [
      { prompt: "a", completion: " positive", line: 1 },
      { prompt: "b", completion: " positive", line: 2 },
      { prompt: "c", completion: " negative", line: 3 },
    ];
    const { summary, predictions } = await evaluateExamples(fixed([" positive", " positive and moving", " positive"]), examples, { maxTokens: 8 });
    expect(predictions.map((p) => [p.correct, p.prefix])).toEqual([[true, true], [false, true], [false, false]]);
    expect(summary).toMatchObject({ correct: 1, prefixCorrect: 2 });
    const byTask = await evaluateExamples(fixed([" positive", " positive and moving", " positive"]), examples, { maxTokens: 8 }, undefined, taskScorer(scoringTask("sst2", [])));
    expect(byTask.summary.correct).toBe(2);
  });
});

describe.skipIf(skipWithout("fixtures"))("eval --task and the augment progress bar", () => {
  it("llm2llm eval --task gsm8k reports the task's scoring; without --task, exact and prefix match", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-evaltask-"));
    try {
      const data = path.join(dir, "d.jsonl");
      await writeFile(data, `${JSON.stringify({ prompt: "Q: 2 + 2?\nAnswer:", completion: " 2 + 2 = 4\n#### 4" })}\n`);
      const withTask = await runCli(["eval", "--model", tinyRandomLlama, "--data", data, "--task", "gsm8k", "--max-tokens", "4", "--parallel", "1", "--json"]);
      expect(withTask.code, withTask.stderr).toBe(0);
      expect(JSON.parse(withTask.stdout)).toMatchObject({ scoring: "task gsm8k", n: 1, correct: 0, prefixCorrect: 0 });
      const plain = await runCli(["eval", "--model", tinyRandomLlama, "--data", data, "--max-tokens", "4", "--parallel", "1"]);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).toMatch(/accuracy 0\.0% \(0\/1, exact match; prefix match 0\.0% \(0\/1\)\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("counts teacher requests against the number of requests, not of sources (a compact teacher asks k times per source)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-bar-"));
    try {
      const task = resolveTask("gsm8k");
      const config = parseRunConfig({ student: tinyRandomLlama, teacherUrl: "http://127.0.0.1:9/v1", teacherModel: "x", task: "gsm8k", seedData: "s", testData: "t", k: 3 }, "test");
      const sources = [0, 1].map((i) => ({ example: { id: `s${i}`, question: `Tom has ${i + 2} apples and buys 3 more. How many apples does he have?`, answer: `${i + 2} + 3 = ${i + 5}\n#### ${i + 5}` } satisfies Example, studentAnswer: "" }));
      const lengths = sources.map((s) => ({ id: s.example.id, prompt: 30, completion: 20 }));
      const plan = planLengths(
        { student: { seed: lengths, test: lengths, trainedContext: 4096 }, teacher: { sources: lengths.map((l) => ({ id: l.id, prompt: 100, item: 40 })), tokenizer: "student", promptStyle: "compact", wrapper: 6 } },
        { examplesPerSource: 3, augmentAll: false },
      );
      const seen = { total: [] as number[], units: 0 };
      const observer: LoopObserver = { stage: (_t, _n, total) => void (total !== undefined && seen.total.push(total)), setTotal: (n) => void seen.total.push(n), progress: (u) => void (seen.units += u), iterationDone() {}, close() {} };
      const teacher: Teacher & { promptStyle: "compact" } = {
        id: "fake",
        promptStyle: "compact",
        complete: async (requests: TeacherRequest[], onDone) =>
          requests.map((r, i) => {
            const c = { id: r.id, text: JSON.stringify({ examples: [{ question: `Ann has ${i + 10} pens and gets 2 more pens today. How many pens?`, answer: `${i + 10} + 2 = ${i + 12}\n#### ${i + 12}` }] }), tokens: 20 };
            onDone?.(c);
            return c;
          }),
        dispose: async () => undefined,
      };
      const parts = createLoopParts(config, task, new RunDirectory(dir), observer, plan);
      const result = await parts.augment(teacher, sources, { k: 3, iteration: 0, existing: [] });
      expect(result.prompts).toBe(6);
      expect(seen.total.at(-1)).toBe(6);
      expect(seen.units).toBe(6);
      expect(result.kept).toHaveLength(6);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
