/**
 * The adapter parity check of DESIGN.md §4, shared by the float and the stored-block tests: train a LoRA on the
 * student (B ≠ 0), write it as a GGUF adapter, and compare llama.cpp running the base with the adapter against the
 * tfjs student with the same LoRA (mean KL, argmax, positions), the adapter's own effect (far outside the bounds),
 * and the merged GGUF in llama.cpp against base + adapter.
 */
import path from "node:path";
import { expect } from "vitest";
import { readLoraAdapter, writeLoraAdapter } from "../../src/gguf/adapter.js";
import { writeMergedModel } from "../../src/gguf/mergeAdapter.js";
import type { StudentModel } from "../../src/student/StudentModel.js";
import type { TokenizedExample } from "../../src/student/train/trainingData.js";
import { trainLora } from "../../src/student/train/trainLora.js";
import {
  checkParity, compareLogits, describeParity, llamaCppLogits, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsLogits,
} from "./parity.js";

/** A few examples of random tokens, the second half of each in the loss. */
function randomExamples(count: number, length: number, vocab: number, bos: number | undefined): TokenizedExample[] {
  return Array.from({ length: count }, (_, i) => ({
    ids: randomTokens(length, vocab, 100 + i, bos),
    promptLength: length / 2,
    line: i + 1,
  }));
}

/** `check(student)` runs first on the loaded student (e.g. how its weights are held). */
export async function adapterParity(name: string, modelPath: string, dir: string, check?: (student: StudentModel) => void): Promise<void> {
  const student = await loadStudent(modelPath);
  check?.(student);
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

