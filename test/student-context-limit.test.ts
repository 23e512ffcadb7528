/**
 * The length plan's student context as llama.cpp will run the student: phi3 with long-context RoPE factors is
 * held to its original context (past it llama.cpp takes rope_factors_long, which the student does not implement),
 * every other student to its trained context.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GgmlType } from "../src/gguf/index.js";
import { planLengths } from "../src/pipeline/lengthPlan.js";
import { loadVocab, studentContextLimit, trainedContext } from "../src/pipeline/measureLengths.js";
import { skipWithout, vocabDir } from "./fixtures.js";
import { paritySpec, writeRandomModel } from "./helpers/randomModel.js";

describe.skipIf(skipWithout("fixtures"))("the student's usable context", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-context-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function limits(name: string, spec: ReturnType<typeof paritySpec>) {
    const file = path.join(dir, `${name}.gguf`);
    await writeRandomModel(file, spec);
    const model = await loadVocab(file, "student model");
    try {
      return { trained: trainedContext(model), usable: studentContextLimit(model).tokens, reason: studentContextLimit(model).reason };
    } finally {
      await model.dispose();
    }
  }

  it("phi3 with rope_factors_long: the original context, 4096 of its 8192", async () => {
    const phi3 = await limits("phi3", paritySpec("phi3", GgmlType.F32, vocabDir));
    expect(phi3).toEqual({ trained: 8192, usable: 4096, reason: expect.stringMatching(/rope_factors_long/) });
    // The length plan names the limit and why, not a "trained context" the model card contradicts.
    const seed = [{ id: "long", prompt: 3000, completion: 1500 }];
    const measured = { student: { seed, test: [], trainedContext: phi3.usable!, contextLimitReason: phi3.reason! }, teacher: { sources: [], tokenizer: "student" as const, promptStyle: "paper" as const, wrapper: 0 } };
    expect(() => planLengths(measured, { examplesPerSource: 1, augmentAll: false })).toThrowError(/4501 tokens .*more than the student's usable context of 4096 tokens \(phi3's original context; past it llama\.cpp switches to rope_factors_long/);
  }, 60_000);

  it("phi3 trained within its original context, and llama: the trained context", async () => {
    expect(await limits("phi3-short", { ...paritySpec("phi3", GgmlType.F32, vocabDir), contextLength: 2048 })).toEqual({ trained: 2048, usable: 2048, reason: undefined });
    expect(await limits("llama", paritySpec("llama", GgmlType.F32, vocabDir))).toEqual({ trained: 2048, usable: 2048, reason: undefined });
  }, 60_000);
});
