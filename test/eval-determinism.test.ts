/**
 * The llama.cpp evaluator is reproducible: on a trained model (the committed toy student), the same prompts
 * give byte-identical predictions in two runs, with 1 or 8 prompts in flight, and while another evaluation
 * runs beside it (other timing, other load), greedy and with the paper's seeded sampling.
 * Regression: one context with N sequences decoded whatever tokens were ready together, so a prompt's logits
 * depended on its batch neighbours and on timing; two identical runs wrote different eval-seed.jsonl.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { evalSamplingFor } from "../src/pipeline/evaluate.js";
import type { Example, SamplingOptions } from "../src/seams.js";
import { LlamaCppStudentGenerator } from "../src/student/evaluate/LlamaCppStudentGenerator.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { repoRoot } from "./fixtures.js";

const toyStudent = path.join(repoRoot, "models/toy-student.gguf");
const task = resolveTask("gsm8k");
const examples: Example[] = readFileSync(path.join(repoRoot, "datasets/toy-math/test.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .slice(0, 24)
  .map((line, i) => ({ id: `test-${i}`, ...JSON.parse(line) }));
const prompts = examples.map((e) => task.formatPrompt(e));

async function evaluate(parallel: number, sampling: SamplingOptions[]): Promise<string[]> {
  const student = await LlamaCppStudentGenerator.load({ modelPath: toyStudent, parallel, contextSize: 256 });
  try {
    return await student.generate(prompts, sampling);
  } finally {
    await student.dispose();
  }
}

describe("llama.cpp evaluation is reproducible (toy student)", () => {
  for (const mode of ["greedy", "paper"] as const) {
    it(`${mode}: two runs, N = 1 vs N = 8, and a run under a concurrent evaluation give the same predictions`, async () => {
      const sampling = evalSamplingFor(examples, { mode, seed: 3, maxTokens: 40 });
      const reference = await evaluate(8, sampling);
      expect(reference.filter((p) => p.trim().length > 0).length).toBeGreaterThan(examples.length / 2);
      expect(await evaluate(8, sampling)).toEqual(reference);
      expect(await evaluate(1, sampling)).toEqual(reference);
      // Another evaluation at the same time (other prompts order, other N) changes timing and load, not the result.
      const [loaded, beside] = await Promise.all([evaluate(8, sampling), evaluate(3, [...sampling].reverse()).then((r) => r.reverse())]);
      expect(loaded).toEqual(reference);
      expect(beside.length).toBe(reference.length);
    }, 240_000);
  }

  it("the paper's sampling is seeded per example: another run seed changes predictions, greedy ignores the seed", async () => {
    const paper = evalSamplingFor(examples, { mode: "paper", seed: 3, maxTokens: 40 });
    expect(paper[0]).toMatchObject({ temperature: 0.7, topP: 0.9 });
    expect(new Set(paper.map((s) => s.seed)).size).toBe(examples.length);
    expect(evalSamplingFor(examples, { mode: "paper", seed: 3, maxTokens: 40 })).toEqual(paper);
    expect(evalSamplingFor(examples, { mode: "paper", seed: 4, maxTokens: 40 }).map((s) => s.seed)).not.toEqual(paper.map((s) => s.seed));
    expect(evalSamplingFor(examples, { mode: "greedy", seed: 4, maxTokens: 40 })).toEqual(evalSamplingFor(examples, { mode: "greedy", seed: 3, maxTokens: 40 }));
    const [seeded3, seeded4] = [await evaluate(4, paper), await evaluate(4, evalSamplingFor(examples, { mode: "paper", seed: 4, maxTokens: 40 }))];
    expect(seeded4).not.toEqual(seeded3);
  }, 240_000);
});
