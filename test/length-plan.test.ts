/** The length plan's rules on measured lengths (no tokenizer, no files): defaults from the data, flags, and errors. */
import { describe, expect, it } from "vitest";
import { answerBudget, planLengths, withHeadroom, planSummary, tokenStats, type LengthMeasurements } from "../src/pipeline/lengthPlan.js";

const lengths = (n: number, f: (i: number) => [number, number]) => Array.from({ length: n }, (_, i) => ({ id: `e${i}`, prompt: f(i)[0], completion: f(i)[1] }));

function measured(overrides: Partial<LengthMeasurements["teacher"]> = {}, studentContext = 2048): LengthMeasurements {
  return {
    // Seed: prompts 50..149, completions 20..119; the longest training example is e99 (149 + 119 + 1 = 269).
    student: { seed: lengths(100, (i) => [50 + i, 20 + i]), test: lengths(10, (i) => [60 + 10 * i, 30 + 20 * i]), trainedContext: studentContext },
    teacher: { sources: Array.from({ length: 100 }, (_, i) => ({ id: `e${i}`, prompt: 400 + i, item: 60 + i })), trainedContext: 4096, tokenizer: "teacher", promptStyle: "paper", wrapper: 6, ...overrides },
  };
}
const shape = { examplesPerSource: 1, augmentAll: false };

describe("length plan", () => {
  it("covers every seed example, every gold answer and every prompt by default", () => {
    const plan = planLengths(measured(), shape);
    // The longest seed example (149 + 119 + 1) with the teacher's headroom, so new examples as long as allowed train.
    expect(plan.trainMaxTokens).toBe(withHeadroom(269));
    expect(planLengths(measured({}, 300), { ...shape }, { evalMaxTokens: 16 }).trainMaxTokens).toBe(300);
    expect(plan.trainDropped).toEqual([]);
    // The longest gold completion is the test set's e9: 30 + 180 = 210 tokens.
    expect(plan.evalMaxTokens).toBe(answerBudget(210));
    expect(plan.evalMaxTokens).toBeGreaterThan(210);
    expect(plan.evalCut).toEqual([]);
    // The longest prompt is test e9 (150 tokens).
    expect(plan.studentContext).toBe(150 + plan.evalMaxTokens);
    expect(plan.from).toEqual({ trainMaxTokens: "data", evalMaxTokens: "data", studentContext: "data", teacherMaxTokens: "data", teacherContext: "data" });
  });

  it("gives the teacher room for the asked examples, each as long as the longest source, split when the context is short", () => {
    const itemBudget = withHeadroom(159);
    const one = planLengths(measured(), shape);
    expect(one.maxExamplesPerRequest).toBe(1);
    expect(one.teacherMaxTokens).toBeGreaterThanOrEqual(6 + itemBudget);
    const five = planLengths(measured(), { examplesPerSource: 5, augmentAll: false });
    expect(five.maxExamplesPerRequest).toBe(5);
    expect(five.teacherMaxTokens).toBeGreaterThanOrEqual(6 + 5 * itemBudget);
    expect(five.teacherContext).toBeGreaterThanOrEqual(499 + five.teacherMaxTokens);
    expect(five.teacherContext).toBeLessThanOrEqual(4096);
    // A 1024-token teacher holds the 499-token prompt and 2 examples of 199 tokens, not 5: the ask is split.
    const short = planLengths(measured({ trainedContext: 1024 }), { examplesPerSource: 5, augmentAll: false });
    expect(short.maxExamplesPerRequest).toBe(2);
    expect(short.teacherContext).toBeLessThanOrEqual(1024);
    expect(short.teacherMaxTokens + 499).toBeLessThanOrEqual(short.teacherContext);
    // A compact-style teacher is asked one example per request.
    expect(planLengths(measured({ promptStyle: "compact" }), { examplesPerSource: 5, augmentAll: false }).maxExamplesPerRequest).toBe(1);
  });

  it("lists what a flag leaves out or cuts, and counts it", () => {
    const plan = planLengths(measured(), shape, { trainMaxTokens: 260, evalMaxTokens: 100 });
    expect(plan.trainDropped.map((d) => d.id)).toEqual(["e95", "e96", "e97", "e98", "e99"]);
    expect(plan.trainDropped[0]).toMatchObject({ tokens: 145 + 115 + 1, why: expect.stringContaining("260") });
    expect(plan.evalCut.map((c) => `${c.set}:${c.id}`)).toEqual([...Array.from({ length: 19 }, (_, i) => `seed:e${81 + i}`), "test:e4", "test:e5", "test:e6", "test:e7", "test:e8", "test:e9"]);
    const summary = planSummary(plan);
    expect(summary).toMatchObject({ train_max_tokens: 260, train_dropped: 5, eval_max_tokens: 100, eval_cut: 25, from: { trainMaxTokens: "flag", evalMaxTokens: "flag" } });
  });

  it("refuses, before any work, a student whose context cannot hold the longest prompt and the answer budget, naming the example and the numbers", () => {
    const needed = 150 + answerBudget(210);
    expect(() => planLengths(measured({}, 300), shape)).toThrow(new RegExp(`test example e9: its prompt is 150 tokens; with the answer budget of ${answerBudget(210)} it needs ${needed} tokens, more than the student's trained context of 300 tokens`));
    expect(() => planLengths(measured(), shape, { studentContext: 256 })).toThrow(/test example e9: .* more than the student context --student-context 256/);
    // Training examples longer than the trained context.
    expect(() => planLengths(measured({}, 200), shape)).toThrow(/seed example e99 is 269 tokens .* trained context of 200/);
    // A teacher that cannot hold its prompt and one example.
    expect(() => planLengths(measured({ trainedContext: 600 }), shape)).toThrow(/seed example e99: the teacher's prompt is 499 tokens .* more than the teacher's trained context of 600 tokens/);
  });

  it("with --augment-all leaves the student room to answer a training example", () => {
    const plan = planLengths(measured(), { examplesPerSource: 1, augmentAll: true });
    expect(plan.studentContext).toBe(withHeadroom(269) + plan.evalMaxTokens);
  });

  it("computes p50, p95 and max", () => {
    const s = tokenStats(Array.from({ length: 100 }, (_, i) => ({ id: `x${i}`, n: i + 1 })), (x) => x.n);
    expect(s).toEqual({ examples: 100, p50: 50, p95: 95, max: 100, longest: "x99" });
  });
});
