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
import { codecFor, decoderFor, GgmlType, ggmlTypeName, type GgufTensorToWrite } from "../src/gguf/index.js";
import { nativeStoredTypes, StoredMatrix } from "../src/student/StoredMatrix.js";
import { StudentModel } from "../src/student/StudentModel.js";
import type { TokenizedExample } from "../src/student/train/trainingData.js";
import { trainLora } from "../src/student/train/trainLora.js";
import type { GgufTensorSource } from "../src/student/weights.js";
import { ggmlReference } from "./helpers/ggmlReference.js";
import { setUpNativeKernels } from "./helpers/nativeKernelSetup.js";
import { randomModelTensors } from "./helpers/randomModel.js";

const { registered, optional } = await setUpNativeKernels("stored-weights");
const reference = ggmlReference();
const vocab = 96;
const types = [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16];

/** Quantized by llama.cpp where its library is at hand, else by this project's codec (undefined: neither). */
function quantize(type: GgmlType, data: Float32Array, nPerRow: number): Uint8Array | undefined {
  if (reference) return reference.quantize(type, data, nPerRow);
  const codec = codecFor(type);
  if (!codec) return undefined;
  const out = new Uint8Array((data.length / codec.blockSize) * codec.typeSize);
  codec.quantize(data, out);
  return out;
}

/** A random llama whose matrices are `type` blocks: read as bytes (stored) or decoded by the project's decoder (f32). */
function storedSource(type: GgmlType, tiedOutput: boolean): GgufTensorSource | undefined {
  const { metadata, tensors } = randomModelTensors({ architecture: "llama", type: GgmlType.F32, nEmbd: 256, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 512, tiedOutput, seed: 5 }, vocab);
  const nested: Record<string, unknown> = {};
  for (const entry of metadata) {
    const parts = entry.key.split(".");
    let node = nested;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts.at(-1)!] = entry.value;
  }
  const decoder = decoderFor(type)!;
  const bytes = new Map<string, Uint8Array>();
  const floats = new Map<string, Float32Array>();
  const typeOf = (t: GgufTensorToWrite) => (t.shape.length === 2 ? type : GgmlType.F32);
  for (const t of tensors) {
    if (typeOf(t) === GgmlType.F32) {
      floats.set(t.name, t.data);
      continue;
    }
    const blocks = quantize(type, t.data, t.shape[0]!);
    if (!blocks) return undefined;
    bytes.set(t.name, blocks);
    const decoded = new Float32Array(t.data.length);
    decoder.dequantize(blocks, decoded);
    floats.set(t.name, decoded);
  }
  return {
    path: `memory:stored-${ggmlTypeName(type)}`,
    metadata: nested,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, type: typeOf(t) })),
    readTensor: async (name) => floats.get(name)!.slice(),
    readTensorBytes: async (name) => bytes.get(name)!,
  };
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
        expect(stored.weights.blocks[0]!.attnQ.weight).toBeInstanceOf(StoredMatrix);
        expect(stored.weights.tokenEmbd).toBeInstanceOf(StoredMatrix);
        expect(f32.weights.blocks[0]!.attnQ.weight).toBeInstanceOf(tf.Tensor);

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
