/**
 * Base matrices kept in their GGUF blocks on WebGPU (here SwiftShader): the blocks sit in GPU memory as the file
 * stores them and a shader (src/backend/webgpuDequantize.ts) writes one float32 matrix for each product, freed
 * right after. Its values are the host decoders' to the bit for every type the student reads; LoRA gradients equal
 * the cpu backend's float32 model within webgpu.test.ts's bound; and its memory is measured (Q8_0): the GPU holds
 * the blocks, not a float32 model, and a training step's peak GPU tensor memory (tf.profile) stays below the
 * float32 model's.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { blocksTensor, dequantizeOnGpu, gpuDequantizes } from "../src/backend/webgpuDequantize.js";
import { GgmlType, ggmlTypeName, ggmlTypeTraits } from "../src/gguf/index.js";
import { decoderFor } from "../src/gguf/quant/index.js";
import { mulberry32 } from "../src/util/mulberry32.js";
import type { GgufTensorSource } from "../src/student/weights.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { loraTargets } from "../src/student/lora/loraTargets.js";
import { StoredMatrix } from "../src/student/StoredMatrix.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { makeBatch } from "../src/student/train/batches.js";
import { maskedCrossEntropy } from "../src/student/train/maskedCrossEntropy.js";
import { storedModelSource } from "./helpers/storedModelSource.js";
import { setUpWebGpuForTests } from "./helpers/webgpuSetup.js";

const setup = await setUpWebGpuForTests();
if (!setup.ok) console.warn(`webgpu-stored tests ${setup.reason}`);
const vocab = 64;
/** One block; K-quants pack rows of 256 values, the other types rows of 32. */
function sourceOf(type: GgmlType) {
  const E = (ggmlTypeTraits(type)?.blockSize ?? 1) >= 256 ? 256 : 64;
  return storedModelSource({ architecture: "llama", nEmbd: E, nLayer: 1, nHead: 4, nHeadKv: 2, nFf: 2 * E, seed: 9 }, type, vocab);
}
const source = sourceOf(GgmlType.Q8_0);

function example(seed: number, length: number) {
  return { ids: Array.from({ length }, (_, i) => (seed * 13 + i * 7) % vocab), promptLength: 3, line: seed };
}

const batch = makeBatch([example(1, 9), example(2, 6)]);
const shape: [number, number] = [batch.batchSize, batch.length];
const tokens = Array.from({ length: shape[0] }, (_, i) => Array.from(batch.inputs.subarray(i * shape[1], (i + 1) * shape[1])));

/** One LoRA forward + backward on `backend`: the gradients, the model's tensor bytes, the step's peak tensor bytes. */
async function trainingStep(from: GgufTensorSource, backend: string, baseWeights: "stored" | "f32") {
  await tf.setBackend(backend);
  const before = tf.memory().numBytes;
  const model = await StudentModel.fromGguf(from, { baseWeights });
  const modelBytes = tf.memory().numBytes - before;
  const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: 4, alpha: 8, dropout: 0 }, 1);
  // B starts at zero, which would leave A's gradient zero: give it values, the same on both backends.
  adapter.variables.forEach((v, i) => i % 2 === 1 && v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", 100 + i)));
  let grads: Float32Array[] = [];
  const profile = await tf.profile(async () => {
    const { grads: g } = tf.variableGrads(() => {
      const logits = model.forward(tokens, { lora: adapter.forwardMap(), training: true });
      return maskedCrossEntropy(logits, tf.tensor2d(batch.targets, shape, "int32"), tf.tensor2d(batch.mask, shape, "float32"), batch.completionTokens);
    }, adapter.variables);
    grads = await Promise.all(adapter.variables.map(async (v) => (await g[v.name]!.data()) as Float32Array));
    tf.dispose(Object.values(g));
  });
  const stored = model.weights.blocks[0]!.ffnUp.weight instanceof StoredMatrix;
  adapter.dispose();
  const residentBytes = tf.memory().numBytes - before; // the model after a step: stored blocks uploaded on first use
  model.dispose();
  return { grads, modelBytes, residentBytes, peakBytes: profile.peakBytes, stored };
}

/** ‖a − b‖ / ‖a‖ over all gradients, and ‖a‖². */
function relativeError(a: Float32Array[], b: Float32Array[]): { relative: number; normSquared: number } {
  let normSquared = 0;
  let errorSquared = 0;
  a.forEach((x, i) => x.forEach((value, j) => ((normSquared += value ** 2), (errorSquared += (value - b[i]![j]!) ** 2))));
  return { relative: Math.sqrt(errorSquared / normSquared), normSquared };
}

// Float32 rounding only (webgpu.test.ts's bound: WGSL's exp, log and division are not correctly rounded, amplified
// through the backward); a dropped, doubled or transposed term gives an error of order 1.
const bound = 1e-3;

/** Random blocks of `type` whose half-float scales are finite (a NaN's payload is not a value to compare). */
function randomBlocks(type: GgmlType, rows: number, cols: number): Uint8Array {
  const traits = ggmlTypeTraits(type)!;
  const bytes = new Uint8Array(rows * (cols / traits.blockSize) * traits.typeSize);
  const next = mulberry32(type + 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
  // Clearing the exponent's top bit keeps a half (and a bfloat16) finite; subnormals and signs stay.
  const halves: Partial<Record<GgmlType, number[]>> = {
    [GgmlType.Q4_1]: [0, 2], [GgmlType.Q5_1]: [0, 2], [GgmlType.Q4_K]: [0, 2], [GgmlType.Q5_K]: [0, 2],
    [GgmlType.Q2_K]: [80, 82], [GgmlType.Q3_K]: [108], [GgmlType.Q6_K]: [208],
  };
  const offsets = halves[type] ?? [0];
  for (let block = 0; block < bytes.length; block += traits.typeSize) for (const at of offsets) bytes[block + at + 1]! &= 0xbf;
  return bytes;
}

describe.skipIf(!setup.ok)("the dequantizing shader", () => {
  const everyType = [GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS];
  it("covers every type the student reads but F32", () => {
    expect(everyType.every(gpuDequantizes)).toBe(true);
    expect(Object.values(GgmlType).filter((t): t is GgmlType => typeof t === "number" && t !== GgmlType.F32 && decoderFor(t) !== undefined).sort()).toEqual([...everyType].sort());
  });
  for (const type of everyType) {
    it(`${ggmlTypeName(type)}: the host decoder's values, bit for bit`, async () => {
      await tf.setBackend("webgpu");
      const [rows, cols] = [5, 512];
      const bytes = randomBlocks(type, rows, cols);
      const expected = new Float32Array(rows * cols);
      decoderFor(type)!.dequantize(bytes, expected);
      const blocks = blocksTensor(bytes);
      const matrix = dequantizeOnGpu(blocks, type, rows, cols);
      const got = (await matrix.data()) as Float32Array;
      tf.dispose([blocks, matrix]);
      const differing = got.filter((_, i) => new Uint32Array(got.buffer)[i] !== new Uint32Array(expected.buffer)[i]).length;
      expect(differing, `${differing} of ${got.length} values differ`).toBe(0);
      expect(expected.some((v) => v !== 0)).toBe(true);
    }, 120_000);
  }
});

describe.skipIf(!setup.ok || !source)("stored base matrices on webgpu", () => {
  it("Q8_0: LoRA gradients equal the cpu float32 model's; no float32 matrix on the GPU; a lower peak", async () => {
    const cpu = await trainingStep(source!, "cpu", "f32");
    const f32 = await trainingStep(source!, "webgpu", "f32");
    const stored = await trainingStep(source!, "webgpu", "stored");
    expect(stored.stored).toBe(true);
    expect(f32.stored).toBe(false);
    const { relative, normSquared } = relativeError(cpu.grads, stored.grads);
    console.log(
      `webgpu stored Q8_0: ‖webgpu − cpu‖ / ‖cpu‖ ${relative.toExponential(2)}; model tensors on the GPU: stored ${stored.modelBytes} B, ` +
        `f32 ${f32.modelBytes} B; after a step: stored ${stored.residentBytes} B, f32 ${f32.residentBytes} B; step peak: stored ${stored.peakBytes} B, f32 ${f32.peakBytes} B`,
    );
    expect(normSquared).toBeGreaterThan(1e-6);
    expect(relative).toBeLessThan(bound);
    // Stored: at load only the norm vectors are tensors (64-value vectors); after a step the blocks too (Q8_0:
    // 34 bytes per 32 values, 0.27 of float32's 128); float32: every matrix from the start.
    expect(stored.modelBytes).toBeLessThan(f32.modelBytes / 20);
    expect(stored.residentBytes).toBeLessThan(f32.residentBytes * 0.3);
    expect(stored.peakBytes).toBeLessThan(f32.peakBytes);
  }, 300_000);

  for (const type of [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16]) {
    it(`${ggmlTypeName(type)}: LoRA gradients equal the cpu float32 model's`, async () => {
      const from = sourceOf(type);
      if (!from) return void console.warn(`skipped ${ggmlTypeName(type)}: no quantizer for it here`);
      const cpu = await trainingStep(from, "cpu", "f32");
      const stored = await trainingStep(from, "webgpu", "stored");
      expect(stored.stored).toBe(true);
      const { relative, normSquared } = relativeError(cpu.grads, stored.grads);
      console.log(`webgpu stored ${ggmlTypeName(type)}: ‖webgpu − cpu‖ / ‖cpu‖ ${relative.toExponential(2)}`);
      expect(normSquared).toBeGreaterThan(1e-6);
      expect(relative).toBeLessThan(bound);
    }, 300_000);
  }
});
