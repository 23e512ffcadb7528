/**
 * LocalTeacher on real llama.cpp with the random fixture model: its id is the file's sha256; a GGUF with no
 * chat template falls back to the general chat wrapper; N parallel sequences give exactly what one sequence
 * gives (greedy, and seeded sampling); the JSON-schema grammar makes every completion parse; dispose frees it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { augmentationJsonSchema, parseStructured } from "../src/augment/index.js";
import { MissingFileError } from "../src/errors.js";
import type { TeacherCompletion, TeacherRequest } from "../src/seams.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { sha256OfFile } from "../src/teacher/fileHash.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";

/** One llama.cpp thread: two cores are shared by every test file, and spinning threads would fight. */
const THREADS = 1;

function requests(count: number, sampling: TeacherRequest["sampling"], perRequestSeed = false): TeacherRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `r${i}`,
    system: "You write practice questions.",
    messages: [{ role: "user" as const, content: `Write question ${i} about ${["apples", "trains", "rivers", "clocks", "bread"][i % 5]} and ${i * 7}.` }],
    sampling: perRequestSeed ? { ...sampling, seed: 1000 + i } : sampling,
  }));
}

async function runWith(parallel: number, batch: TeacherRequest[]): Promise<TeacherCompletion[]> {
  const teacher = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel, threads: THREADS, contextSize: 512 });
  try {
    return await teacher.complete(batch);
  } finally {
    await teacher.dispose();
  }
}

describe.skipIf(skipWithout("fixtures"))("LocalTeacher on llama-2-tiny-random.gguf", () => {
  let teacher: LocalTeacher;
  beforeAll(async () => {
    teacher = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel: 4, threads: THREADS, contextSize: 1024 });
  });
  afterAll(async () => {
    await teacher?.dispose();
  });

  it("its id is the sha256 of the model file, and a GGUF without a chat template gets the general wrapper", async () => {
    const expected = createHash("sha256").update(readFileSync(tinyRandomLlama)).digest("hex");
    expect(teacher.id).toBe(expected);
    expect(await sha256OfFile(tinyRandomLlama)).toBe(expected);
    expect(teacher.chatWrapperName).toBe("General");
    expect(teacher.parallel).toBe(4);
  });

  it("answers every request, in order, counting tokens and reporting each as it finishes", async () => {
    const batch = requests(6, { temperature: 0, maxTokens: 12 });
    const seen: string[] = [];
    const results = await teacher.complete(batch, (c) => seen.push(c.id));
    expect(results.map((r) => r.id)).toEqual(batch.map((r) => r.id));
    expect(seen.sort()).toEqual(batch.map((r) => r.id).sort());
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.tokens).toBe(12);
      expect(r.truncated).toBe(true);
      expect(r.text.length).toBeGreaterThan(0);
    }
  });

  it("structured requests: the JSON-schema grammar makes every completion parse", async () => {
    const schema = augmentationJsonSchema("classification", {
      count: 2,
      labels: ["positive", "negative"],
      bounds: { minQuestionChars: 3, maxQuestionChars: 30, maxAnswerChars: 10 },
    });
    const batch = requests(5, { temperature: 0.8, topP: 0.95, maxTokens: 400 }, true).map((r) => ({ ...r, jsonSchema: schema }));
    const results = await teacher.complete(batch);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.truncated).toBe(false);
      const parsed = parseStructured(r.text);
      expect(parsed.ok, r.text).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.candidates).toHaveLength(2);
      for (const c of parsed.candidates) {
        expect(["positive", "negative"]).toContain(c.answer);
        expect(c.question.length).toBeGreaterThanOrEqual(3);
        expect(c.question.length).toBeLessThanOrEqual(30);
      }
    }
  });

  it("a request that cannot run (prompt longer than the context) becomes an error completion, not a crash", async () => {
    const small = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel: 2, threads: THREADS, contextSize: 256 });
    try {
      const long = "apples and trains ".repeat(400);
      const results = await small.complete([
        { id: "long", messages: [{ role: "user", content: long }], sampling: { temperature: 0, maxTokens: 300 } },
        { id: "fine", messages: [{ role: "user", content: "hello" }], sampling: { temperature: 0, maxTokens: 4 } },
      ]);
      expect(results[1]!.error).toBeUndefined();
      expect(results[1]!.tokens).toBe(4);
      // llama.cpp either shifts the context (a text comes back) or refuses (an error is recorded); never a throw.
      expect(results[0]!.error !== undefined || results[0]!.text.length > 0).toBe(true);
    } finally {
      await small.dispose();
    }
  });
});

describe.skipIf(skipWithout("fixtures"))("batched = sequential", () => {
  it("greedy: N = 4 and N = 8 parallel sequences give the same outputs as N = 1", async () => {
    const batch = requests(9, { temperature: 0, maxTokens: 16 });
    const one = await runWith(1, batch);
    const four = await runWith(4, batch);
    const eight = await runWith(8, batch);
    expect(one.every((c) => c.error === undefined && c.tokens === 16)).toBe(true);
    expect(four.map((c) => c.text)).toEqual(one.map((c) => c.text));
    expect(eight.map((c) => c.text)).toEqual(one.map((c) => c.text));
  });

  it("seeded sampling: the same per-request seeds give the same texts at N = 1 and N = 8, and the texts differ between requests", async () => {
    const batch = requests(9, { temperature: 0.9, topP: 0.95, topK: 40, maxTokens: 16 }, true);
    const one = await runWith(1, batch);
    const eight = await runWith(8, batch);
    expect(eight.map((c) => c.text)).toEqual(one.map((c) => c.text));
    // Not a vacuous equality: the random model writes something different for each seed.
    expect(new Set(one.map((c) => c.text)).size).toBeGreaterThan(5);
    // Reversing the batch order changes which sequence runs what, not what it writes.
    const reversed = await runWith(4, [...batch].reverse());
    expect(reversed.reverse().map((c) => c.text)).toEqual(one.map((c) => c.text));
  });
});

describe("LocalTeacher.load", () => {
  it("names a missing model file", async () => {
    await expect(LocalTeacher.load({ modelPath: "no/such/teacher.gguf" })).rejects.toBeInstanceOf(MissingFileError);
  });
});
