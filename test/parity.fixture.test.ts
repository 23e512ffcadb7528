/**
 * Parity on someone else's GGUF: ../shared/fixtures/models/llama-2-tiny-random.gguf (llama, F16 matrices,
 * SentencePiece, 32000 tokens) gives the same next-token distributions and the same greedy tokens in the tfjs
 * student as in llama.cpp.
 */
import type { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { generate } from "../src/student/generate.js";
import type { StudentModel } from "../src/student/StudentModel.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import {
  checkParity, describeParity, llamaCppGreedy, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsGreedy,
} from "./helpers/parity.js";

describe.skipIf(skipWithout("fixtures"))("parity with llama.cpp on llama-2-tiny-random.gguf", () => {
  let llamaModel: LlamaModel;
  let student: StudentModel;

  beforeAll(async () => {
    console.log(`tfjs backend: ${(await initBackend()).description}`);
    llamaModel = await loadLlamaCppModel(tinyRandomLlama);
    student = await loadStudent(tinyRandomLlama);
  });
  afterAll(async () => {
    student?.dispose();
    await llamaModel?.dispose();
  });

  it("reads the config from the metadata", () => {
    expect(student.config).toMatchObject({
      architecture: "llama", nEmbd: 8, nLayer: 1, nHead: 2, nHeadKv: 2, nFf: 32, nVocab: 32000, nRot: 4, ropeType: "normal", tiedOutput: false,
    });
  });

  it("agrees on next-token distributions over 128 positions", async () => {
    const tokens = randomTokens(128, 32000, 1234, 1);
    const result = await checkParity(llamaModel, student, tokens);
    console.log(describeParity("llama-2-tiny-random F16", result));
    expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
    expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
    expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
  });

  it("generates the same 32 greedy tokens", async () => {
    const prompt = randomTokens(12, 32000, 99, 1);
    const expected = await llamaCppGreedy(llamaModel, prompt, 32);
    expect(await tfjsGreedy(student, prompt, 32)).toEqual(expected);
  });

  it("reproduces the fixture README's greedy vector (no BOS, \"Once upon a time\")", async () => {
    const tokenizer = StudentTokenizer.fromModel(llamaModel);
    const prompt = tokenizer.tokenize("Once upon a time", { addBos: false });
    expect(prompt).toEqual([9038, 2501, 263, 931]);
    const readme = [17196, 5211, 21440, 25431, 7455, 3285, 29710, 4660, 29509, 31364, 19741, 8021, 29710, 4660, 29509, 31364];
    const result = await generate(student, prompt, { maxTokens: 16, temperature: 0, isEndOfGeneration: (t) => tokenizer.isEndOfGeneration(t) });
    expect(result.tokens).toEqual(readme);
  });
});
