/**
 * Adapter parity (DESIGN.md §4): after real training (B ≠ 0), llama.cpp running the base with the exported
 * GGUF adapter and the tfjs student with the same LoRA weights agree on next-token distributions (mean KL <
 * 1e-3, argmax ≥ 99%, ≥ 64 positions), for random llama, qwen2, qwen3, gemma2, gemma3 and phi3 models and for
 * llama-2-tiny-random.gguf (F16, written by others). The merged GGUF in llama.cpp agrees with base + adapter in
 * llama.cpp to the same bounds. Each case also checks that the adapter moves the distribution by far more
 * than the bounds, so a dropped, transposed or mis-scaled adapter cannot pass.
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readLoraAdapter, writeLoraAdapter } from "../src/gguf/adapter.js";
import { writeMergedModel } from "../src/gguf/mergeAdapter.js";
import type { TokenizedExample } from "../src/student/train/trainingData.js";
import { trainLora } from "../src/student/train/trainLora.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import {
  checkParity, compareLogits, describeParity, llamaCppLogits, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsLogits,
} from "./helpers/parity.js";
import { tempDir, writeParityModel } from "./loraModels.js";

const dir = tempDir("adapter-parity");

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A few examples of random tokens, the second half of each in the loss. */
function randomExamples(count: number, length: number, vocab: number, bos: number | undefined): TokenizedExample[] {
  return Array.from({ length: count }, (_, i) => ({
    ids: randomTokens(length, vocab, 100 + i, bos),
    promptLength: length / 2,
    line: i + 1,
  }));
}

async function adapterParity(name: string, modelPath: string): Promise<void> {
  const student = await loadStudent(modelPath);
  const llamaModel = await loadLlamaCppModel(modelPath);
  const bos = llamaModel.tokens.bos ?? undefined;
  const adapterPath = path.join(dir, `${name}.adapter.gguf`);
  const mergedPath = path.join(dir, `${name}.merged.gguf`);
  const trained = await trainLora(student, randomExamples(4, 32, student.config.nVocab, bos), {
    epochs: 8,
    batchSize: 4,
    learningRate: 1e-2,
    warmupRatio: 0,
    seed: 1,
  });
  try {
    const tensors = await trained.adapter.toTensors(student.config.architecture);
    expect(Math.max(...tensors.pairs.map((p) => Math.max(...p.b.map(Math.abs))))).toBeGreaterThan(0);
    await writeLoraAdapter(adapterPath, tensors);
    const tokens = randomTokens(96, student.config.nVocab, 7, bos);
    const lora = trained.adapter.forwardMap();

    const moved = compareLogits(await tfjsLogits(student, tokens), await tfjsLogits(student, tokens, lora));
    console.log(describeParity(`${name}: base vs base + LoRA (tfjs)`, moved));
    // Far outside the parity bounds, by KL or (near-uniform fixture logits) by argmax.
    expect(moved.meanKl > 10 * parityBounds.maxMeanKl || moved.argmaxAgreement < 0.9).toBe(true);

    const parity = await checkParity(llamaModel, student, tokens, { llamaCpp: [{ filePath: adapterPath }], tfjs: lora });
    console.log(describeParity(`${name}: llama.cpp + adapter vs tfjs + LoRA`, parity));
    expect(parity.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
    expect(parity.meanKl).toBeLessThan(parityBounds.maxMeanKl);
    expect(parity.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);

    await writeMergedModel(modelPath, await readLoraAdapter(adapterPath), adapterPath, mergedPath);
    const mergedModel = await loadLlamaCppModel(mergedPath);
    try {
      const merged = compareLogits(await llamaCppLogits(llamaModel, tokens, [{ filePath: adapterPath }]), await llamaCppLogits(mergedModel, tokens));
      console.log(describeParity(`${name}: llama.cpp merged vs base + adapter`, merged));
      expect(merged.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
      expect(merged.meanKl).toBeLessThan(parityBounds.maxMeanKl);
      expect(merged.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
    } finally {
      await mergedModel.dispose();
    }
  } finally {
    trained.adapter.dispose();
    student.dispose();
    await llamaModel.dispose();
  }
}

describe("adapter parity: llama.cpp + GGUF adapter vs tfjs + LoRA, and merged export", () => {
  // phi3's adapters sit on its fused attn_qkv and ffn_up tensors.
  for (const architecture of ["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"] as const) {
    it(`random ${architecture}`, async () => {
      await adapterParity(architecture, await writeParityModel(path.join(dir, `${architecture}.gguf`), architecture));
    });
  }
});

describe.skipIf(skipWithout("fixtures"))("adapter parity on a GGUF written by others", () => {
  it("llama-2-tiny-random.gguf (F16)", async () => {
    await adapterParity("llama-2-tiny-random", tinyRandomLlama);
  });
});

