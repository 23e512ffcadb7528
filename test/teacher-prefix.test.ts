/**
 * The shared prompt prefix (src/teacher/sharedPrefix.ts) on real llama.cpp with the random fixture model:
 * evaluated once and copied to the other sequences, it changes no output — greedy or seeded, free text or
 * grammar-constrained — and llama.cpp evaluates fewer prompt tokens (counted by node-llama-cpp's token meters,
 * not timed).
 */
import { describe, expect, it } from "vitest";
import type { Token } from "node-llama-cpp";
import { augmentationJsonSchema } from "../src/augment/index.js";
import type { TeacherCompletion, TeacherRequest } from "../src/seams.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { sharedPrefix } from "../src/teacher/sharedPrefix.js";
import path from "node:path";
import { repoRoot, skipWithout, tinyRandomLlama } from "./fixtures.js";

/** The committed toy teacher: trained, so unlike the random fixture its greedy text depends on the prompt. */
const toyTeacher = path.join(repoRoot, "models/toy-teacher.gguf");

const THREADS = 1;
const SYSTEM = "You write practice questions for a student who got a math problem wrong. Keep them short, in English, with a number as the answer.";
const WORKED_USER = "The student was given the following question: Betty has 5 apples and buys 3 more. How many apples does she have?";
const WORKED_MODEL = "Question: Tom has 7 pears and buys 4 more. How many pears does he have?\nAnswer: 7 + 4 = 11\n#### 11";

/** The paper's layout in miniature: system prompt and worked example shared, the last user turn differs. */
function requests(count: number, sampling: TeacherRequest["sampling"], perRequestSeed = false): TeacherRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `r${i}`,
    system: SYSTEM,
    messages: [
      { role: "user" as const, content: WORKED_USER },
      { role: "assistant" as const, content: WORKED_MODEL },
      { role: "user" as const, content: `The student was given the following question: ${["Ava", "Ben", "Chen"][i % 3]} has ${i * 7 + 3} ${["trains", "rivers", "clocks"][i % 3]}.` },
    ],
    sampling: perRequestSeed ? { ...sampling, seed: 500 + i } : sampling,
  }));
}

async function run(sharePrefix: boolean, batch: TeacherRequest[], parallel = 4, modelPath = tinyRandomLlama) {
  const teacher = await LocalTeacher.load({ modelPath, parallel, threads: THREADS, contextSize: 512, sharePrefix });
  try {
    const first = await teacher.complete(batch);
    const afterFirst = teacher.evaluationStats;
    // A second batch with the same prefix: every sequence already holds it.
    const second = await teacher.complete(batch);
    return { first, second, afterFirst, afterSecond: teacher.evaluationStats };
  } finally {
    await teacher.dispose();
  }
}

const texts = (completions: TeacherCompletion[]) => completions.map((c) => c.text);

describe("sharedPrefix", () => {
  const t = (xs: number[]) => xs as Token[];
  it("is the longest common token prefix, leaving each prompt at least one token of its own", () => {
    const base = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(sharedPrefix([t([...base, 30, 31]), t([...base, 30, 32]), t([...base, 40])])).toEqual(base);
    // One prompt is the prefix of another: the shorter keeps its last token.
    expect(sharedPrefix([t([...base, 30]), t([...base, 30, 31])])).toEqual(base);
  });
  it("is empty for a single prompt or when fewer than 16 tokens are shared", () => {
    const base = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(sharedPrefix([t(base)])).toEqual([]);
    expect(sharedPrefix([t([...base.slice(0, 15), 99]), t([...base.slice(0, 15), 98])])).toEqual([]);
    expect(sharedPrefix([t([1, ...base]), t([2, ...base])])).toEqual([]);
  });
});

describe("shared prefix on the toy teacher", () => {
  it("greedy: the same texts with and without sharing, the prefix evaluated once and copied to the other sequences", async () => {
    const batch = requests(9, { temperature: 0, maxTokens: 12 });
    const plain = await run(false, batch, 4, toyTeacher);
    const shared = await run(true, batch, 4, toyTeacher);
    expect(plain.first.every((c) => c.error === undefined && c.tokens > 0), JSON.stringify(plain.first)).toBe(true);
    expect(texts(shared.first)).toEqual(texts(plain.first));
    expect(texts(shared.second)).toEqual(texts(plain.first));
    expect(texts(plain.second)).toEqual(texts(plain.first));
    // Not vacuous: the random model writes different texts for different prompts.
    expect(new Set(texts(plain.first)).size).toBeGreaterThan(3);

    const { prefixTokens, prefixTokensEvaluated, prefixCopies } = shared.afterFirst;
    expect(prefixTokens).toBeGreaterThan(40);
    expect(prefixTokensEvaluated).toBe(prefixTokens);
    expect(prefixCopies).toBe(3);
    expect(shared.afterFirst.outputTokens).toBe(plain.afterFirst.outputTokens);
    // Without sharing each of the 4 sequences evaluates the prefix on its first request; with it, one does. One
    // request per sequence: with more, which sequence takes which later request depends on timing, and a later
    // request reuses as much of its sequence's previous prompt as matches (a flaky count in CI: 510 vs 516).
    const four = batch.slice(0, 4);
    const plainFour = await run(false, four, 4, toyTeacher);
    const sharedFour = await run(true, four, 4, toyTeacher);
    expect(texts(sharedFour.first)).toEqual(texts(plainFour.first));
    expect(plainFour.afterFirst.inputTokens - sharedFour.afterFirst.inputTokens).toBe(3 * sharedFour.afterFirst.prefixTokens);
    // The second batch finds the prefix in every sequence: nothing evaluated or copied for it.
    expect(shared.afterSecond.prefixTokensEvaluated).toBe(prefixTokens);
    expect(shared.afterSecond.prefixCopies).toBe(3);
  });
});

describe.skipIf(skipWithout("fixtures"))("shared prefix on llama-2-tiny-random.gguf", () => {

  it("seeded sampling under the JSON-schema grammar: the same texts with and without sharing", async () => {
    const schema = augmentationJsonSchema("math", { count: 1, bounds: { minQuestionChars: 3, maxQuestionChars: 40, maxAnswerChars: 20 } });
    const batch = requests(5, { temperature: 0.9, topP: 0.95, topK: 40, maxTokens: 32 }, true).map((r) => ({ ...r, jsonSchema: schema }));
    const plain = await run(false, batch, 3);
    const shared = await run(true, batch, 3);
    expect(plain.first.every((c) => c.error === undefined)).toBe(true);
    expect(texts(shared.first)).toEqual(texts(plain.first));
    expect(new Set(texts(plain.first)).size).toBeGreaterThan(3);
    expect(shared.afterFirst.prefixCopies).toBe(2);
  });

  it("one request: nothing to share, the same text", async () => {
    const batch = requests(1, { temperature: 0, maxTokens: 8 });
    const plain = await run(false, batch);
    const shared = await run(true, batch);
    expect(texts(shared.first)).toEqual(texts(plain.first));
    expect(shared.afterFirst.prefixTokens).toBe(0);
    expect(shared.afterFirst.inputTokens).toBe(plain.afterFirst.inputTokens);
  });
});
