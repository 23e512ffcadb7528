/**
 * Base matrices kept in their GGUF blocks (StoredMatrix, the native GEMM packing straight from them) give the
 * same bits as the same model dequantized to float32: LoRA training losses, the trained adapter (so every
 * gradient), an inference forward (the per-op path generation uses) — for every type the student keeps stored
 * natively, with blocks made by llama.cpp's own quantizer (libggml-base through koffi; the project's codecs
 * where that library is missing). Gradient checkpointing changes no bit either. Guards issue 23's promise:
 * "results bit-identical to the dequantized-F32 path (same packed values, same summation order)".
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { GgmlType, ggmlTypeName } from "../src/gguf/index.js";
import { nativeStoredTypes, StoredMatrix } from "../src/student/StoredMatrix.js";
import { StudentModel } from "../src/student/StudentModel.js";
import type { TokenizedExample } from "../src/student/train/trainingData.js";
import { trainLora } from "../src/student/train/trainLora.js";
import { type GgufTensorSource, projectionOf } from "../src/student/weights.js";
import { setUpNativeKernels } from "./helpers/nativeKernelSetup.js";
import { storedModelSource } from "./helpers/storedModelSource.js";

const { registered, optional } = await setUpNativeKernels("stored-weights");
const vocab = 96;
const types = [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16];

/** A random llama whose matrices are `type` blocks (stored) or their float32 values (f32). */
function storedSource(type: GgmlType, tiedOutput: boolean): GgufTensorSource | undefined {
  return storedModelSource({ architecture: "llama", nEmbd: 256, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 512, tiedOutput, seed: 5 }, type, vocab);
}

const examples: TokenizedExample[] = Array.from({ length: 4 }, (_, i) => ({
  ids: Array.from({ length: 20 + 7 * i }, (_, j) => (i * 31 + j * 13 + ((j * j) % 5)) % vocab),
  promptLength: 9 + i,
  line: i + 1,
}));

function sameBits(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let differ = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) differ++;
  return x.length === y.length ? differ : -1;
}

async function train(model: StudentModel, checkpoint: boolean) {
  const result = await trainLora(model, examples, { epochs: 2, batchSize: 2, seed: 3, learningRate: 5e-3, lora: { rank: 4, alpha: 8, dropout: 0, targets: ["q", "k", "v", "o", "gate", "up", "down"] }, checkpoint });
  const weights = await Promise.all(result.adapter.variables.map(async (v) => (await v.data()) as Float32Array));
  result.adapter.dispose();
  return { losses: Float32Array.from(result.lossCurve.map((p) => p.loss)), weights };
}

describe.skipIf(!registered.ok && optional)("base matrices kept in their GGUF blocks", () => {
  it("the native GEMM packs from every type issue 23 names", () => {
    for (const type of types) expect(nativeStoredTypes().has(type), ggmlTypeName(type)).toBe(true);
  });

  for (const type of types) {
    const tied = type === GgmlType.Q4_K || type === GgmlType.Q6_K; // the output head on token_embd's blocks
    it(`${ggmlTypeName(type)}: training, adapter and forward bit-identical to the float32 model${tied ? " (tied output)" : ""}`, async () => {
      const source = storedSource(type, tied);
      if (!source) return void console.warn(`skipped ${ggmlTypeName(type)}: no quantizer for it here (neither libggml-base nor a codec)`);
      const f32 = await StudentModel.fromGguf(source, { baseWeights: "f32" });
      const stored = await StudentModel.fromGguf(source, { baseWeights: "stored" });
      try {
        expect(projectionOf(stored.weights, 0, "attn_q").weight).toBeInstanceOf(StoredMatrix);
        expect(stored.weights.tokenEmbd).toBeInstanceOf(StoredMatrix);
        expect(projectionOf(f32.weights, 0, "attn_q").weight).toBeInstanceOf(tf.Tensor);

        const a = await train(f32, false);
        const b = await train(stored, false);
        expect(a.losses.every(Number.isFinite)).toBe(true);
        expect(sameBits(a.losses, b.losses), `losses ${a.losses} vs ${b.losses}`).toBe(0);
        a.weights.forEach((w, i) => expect(sameBits(w, b.weights[i]!), `adapter variable ${i}`).toBe(0));
        const c = await train(stored, true); // gradient checkpointing: the blocks recomputed in the backward
        expect(sameBits(a.losses, c.losses)).toBe(0);
        a.weights.forEach((w, i) => expect(sameBits(w, c.weights[i]!), `checkpointed adapter variable ${i}`).toBe(0));

        const tokens = [examples[3]!.ids];
        const [x, y] = [f32.forward(tokens), stored.forward(tokens)];
        expect(sameBits((await x.data()) as Float32Array, (await y.data()) as Float32Array)).toBe(0);
        tf.dispose([x, y]);
      } finally {
        f32.dispose();
        stored.dispose();
      }
    }, 120_000);
  }
});
