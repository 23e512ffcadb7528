/**
 * How augmentWithTeacher asks for k examples: a paper-style teacher gets one request for k, a compact-style
 * teacher (a small model trained to write one example per request, like the embedded toy teacher) gets k
 * requests for one each, every one with its own id and sampling seed.
 * Regression: the toy teacher asked "generate 2 similar questions" under a grammar forcing two examples wrote
 * a second example it was never trained to write.
 */
import { describe, expect, it } from "vitest";
import type { Teacher, TeacherCompletion, TeacherRequest } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { augmentWithTeacher, splitAsk } from "../src/teacher/augmentWithTeacher.js";

/** A teacher at the seam: answers every request with correct, distinct examples and records what it was asked. */
function recordingTeacher(promptStyle: "paper" | "compact"): Teacher & { requests: TeacherRequest[] } {
  const requests: TeacherRequest[] = [];
  let n = 0;
  return {
    id: "recording",
    promptStyle,
    requests,
    async complete(batch, onDone) {
      requests.push(...batch);
      return batch.map((request) => {
        const count = (request.jsonSchema as { properties: { examples: { minItems: number } } }).properties.examples.minItems;
        const examples = Array.from({ length: count }, () => {
          n++;
          return { question: `Case ${n}: ${n} children each bring ${n + 1} ${["pears", "kites", "shells", "drums"][n % 4]} to the park by the river.`, answer: `${n} * ${n + 1} = ${n * (n + 1)}\n#### ${n * (n + 1)}` };
        });
        const completion: TeacherCompletion = { id: request.id, text: JSON.stringify({ examples }), tokens: 10 };
        onDone?.(completion);
        return completion;
      });
    },
    async dispose() {},
  };
}

const task = resolveTask("gsm8k");
const sources = [1, 2].map((i) => ({ example: { id: `seed-${i}`, question: `Ann has ${i} apples and buys ${i + 2} more. How many apples does she have?`, answer: `${i} + ${i + 2} = ${2 * i + 2}\n#### ${2 * i + 2}` } }));
const options = { task, k: 3, iteration: 0, structured: true, sampling: { temperature: 0.7, maxTokens: 200, seed: 5 } };

describe("augmentWithTeacher: requests per wrong example", () => {
  it("asks a paper-style teacher once for k examples", async () => {
    const teacher = recordingTeacher("paper");
    const outcome = await augmentWithTeacher(teacher, sources, options);
    expect(teacher.requests).toHaveLength(2);
    expect(outcome.kept).toHaveLength(6);
  });

  it("asks a compact-style teacher k times for one example, each request with its own id and seed", async () => {
    const teacher = recordingTeacher("compact");
    const outcome = await augmentWithTeacher(teacher, sources, options);
    expect(teacher.requests).toHaveLength(6);
    for (const r of teacher.requests) expect((r.jsonSchema as { properties: { examples: { maxItems: number } } }).properties.examples.maxItems).toBe(1);
    expect(new Set(teacher.requests.map((r) => r.id)).size).toBe(6);
    expect(new Set(teacher.requests.map((r) => r.sampling.seed)).size).toBe(6);
    expect(outcome.kept).toHaveLength(6);
    expect(outcome.kept.filter((e) => e.provenance?.sourceId === "seed-1")).toHaveLength(3);
  });

  it("splits a large ask (one-shot, large k) into requests of at most maxExamplesPerRequest, as even as possible", async () => {
    expect(splitAsk(10, 4)).toEqual([4, 3, 3]);
    expect(splitAsk(8, 4)).toEqual([4, 4]);
    expect(splitAsk(3, 4)).toEqual([3]);
    expect(splitAsk(0, 4)).toEqual([]);
    const teacher = recordingTeacher("paper");
    const outcome = await augmentWithTeacher(teacher, sources, { ...options, k: 10, maxExamplesPerRequest: 4 });
    const counts = teacher.requests.map((r) => (r.jsonSchema as { properties: { examples: { minItems: number } } }).properties.examples.minItems);
    expect(counts).toEqual([4, 3, 3, 4, 3, 3]);
    expect(new Set(teacher.requests.map((r) => r.sampling.seed)).size).toBe(6);
    expect(outcome.kept).toHaveLength(20);
    expect(outcome).toMatchObject({ wanted: 20, roundsUsed: 1, requestsPerRound: [6], shortSources: 0 });
  });

  it("a source's own count overrides k (the one-shot ablation spreads a total)", async () => {
    const teacher = recordingTeacher("paper");
    const outcome = await augmentWithTeacher(teacher, [{ ...sources[0]!, count: 5 }, { ...sources[1]!, count: 1 }], options);
    expect(outcome.kept.filter((e) => e.provenance?.sourceId === "seed-1")).toHaveLength(5);
    expect(outcome.kept.filter((e) => e.provenance?.sourceId === "seed-2")).toHaveLength(1);
    expect(outcome.wanted).toBe(6);
  });
});
