/**
 * The transformer block as one native op (src/student/fused/block.ts) against the plain tfjs composition on
 * tfjs's own JavaScript kernels: a training forward of whole random models (llama with grouped-query
 * attention, qwen2 with q/k/v biases, qwen3 with q/k norms and head size ≠ n_embd / n_head), with and without a
 * padding mask, LoRA on all seven projections or on some: one block's logits and the gradient of a loss w.r.t. every
 * LoRA A and B (B non-zero, so A's gradient is not trivially 0) within float32 tolerance; the per-op fused
 * path (an inference forward) agrees too; buffers reused from step to step and layer to layer change no bit;
 * 1 and 2 threads give the same bits; the block op runs (its buffers come back to the pool) and stays off with
 * LoRA dropout. And the output head + masked loss over the loss rows only (src/student/fused/headCrossEntropy.ts)
 * against the full logits + maskedCrossEntropy.
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { setNativeThreads } from "../src/backend/nativeKernels.js";
import type { Architecture } from "../src/student/config.js";
import { blockBuffers } from "../src/student/fused/block.js";
import { nativeHeadCrossEntropy } from "../src/student/fused/headCrossEntropy.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { loraTargets, type LoraTarget } from "../src/student/lora/loraTargets.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { maskedCrossEntropy } from "../src/student/train/maskedCrossEntropy.js";
import { relativeError } from "./helpers/matmulReference.js";
import { setUpNativeKernels, withJsKernels } from "./helpers/nativeKernelSetup.js";
import { randomModelSource } from "./helpers/randomModel.js";

const { registered, optional, tolerance, defaultThreads } = await setUpNativeKernels("native-block");

const vocab = 67;
/** Seeds the upstream gradient and the LoRA values: the test is the same every run. */
const upstreamSeed = 11;

async function setUp(architecture: Architecture, targets: readonly LoraTarget[], dropout = 0, nLayer = 1) {
  const spec = { architecture, nEmbd: 48, nLayer, nHead: 4, nHeadKv: 2, nFf: 80, seed: 7, ...(architecture === "qwen3" ? { headDim: 16 } : {}) };
  const model = await StudentModel.fromGguf(randomModelSource(spec, vocab));
  const adapter = LoraAdapter.create(loraSitesOf(model, targets), { rank: 3, alpha: 6, dropout }, 2);
  // B starts at zero; random values make every gradient non-trivial.
  adapter.variables.forEach((v, i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.3, "float32", upstreamSeed * 1000 + i))));
  return { model, adapter };
}

/** Logits and the gradients of Σ logits·upstream w.r.t. every LoRA variable, of a forward with `training`. */
function logitsAndGrads(model: StudentModel, adapter: LoraAdapter, tokens: number[][], mask: number[][] | undefined, upstream: tf.Tensor, training: boolean) {
  return tf.tidy(() => {
    const forward = () => model.forward(tokens, { lora: adapter.forwardMap(), training, ...(mask ? { attentionMask: mask } : {}) });
    const logits = forward();
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), upstream)) as tf.Scalar, adapter.variables);
    return [logits, ...adapter.variables.map((v) => grads[v.name]!)].map((t) => t.dataSync() as Float32Array);
  });
}

// 53 positions: the causal attention's row blocks (24) come out uneven; the padded rows and unpadded ones differ.
const length = 53;
const tokens = [0, 1].map((row) => Array.from({ length }, (_, i) => (row * 29 + i * 17 + ((i * i) % 7)) % vocab));
const padded = [Array.from({ length }, (_, i) => (i < 3 ? 0 : 1)), Array.from({ length }, (_, i) => (i >= length - 3 ? 0 : 1))];

describe.skipIf(!registered.ok && optional)("transformer block as one native op", () => {
  const cases: [Architecture, readonly LoraTarget[], number[][] | undefined][] = [
    ["llama", loraTargets, undefined],
    ["llama", ["q", "v", "down"], padded],
    ["qwen2", loraTargets, padded],
    ["qwen3", loraTargets, undefined],
  ];
  for (const [architecture, targets, mask] of cases) {
    it(`${architecture}, LoRA on ${targets.join(",")}${mask ? ", padded" : ""}: logits and LoRA gradients equal the composition`, async () => {
      const { model, adapter } = await setUp(architecture, targets);
      try {
        const upstream = tf.randomNormal([tokens.length, tokens[0]!.length, vocab], 0, 1, "float32", upstreamSeed);
        blockBuffers.clear();
        const ours = logitsAndGrads(model, adapter, tokens, mask, upstream, true);
        expect(blockBuffers.held, "the block op ran and gave its buffers back").toBeGreaterThan(0);
        const perOp = logitsAndGrads(model, adapter, tokens, mask, upstream, false);
        const reference = withJsKernels(() => logitsAndGrads(model, adapter, tokens, mask, upstream, true));
        expect(ours.length).toBe(1 + 2 * targets.length);

        ours.forEach((values, i) => {
          const what = i === 0 ? "logits" : `gradient of LoRA variable ${i - 1}`;
          expect(Math.max(...reference[i]!.map(Math.abs)), what).toBeGreaterThan(0);
          expect(relativeError(values, reference[i]!), what).toBeLessThanOrEqual(tolerance);
          expect(relativeError(perOp[i]!, reference[i]!), `${what} (per-op path)`).toBeLessThanOrEqual(tolerance);
        });
        upstream.dispose();
      } finally {
        adapter.dispose();
        model.dispose();
      }
    });
  }

  it("computes the same bits with fresh and with reused buffers, block after block (3 layers), and logits as the composition's", async () => {
    const { model, adapter } = await setUp("qwen3", loraTargets, 0, 3);
    try {
      const upstream = tf.randomNormal([tokens.length, tokens[0]!.length, vocab], 0, 1, "float32", upstreamSeed);
      blockBuffers.clear();
      const runs = [0, 1, 2].map(() => logitsAndGrads(model, adapter, tokens, padded, upstream, true));
      for (const run of runs.slice(1)) {
        run.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(runs[0]![i]!.buffer)), `output ${i}`).toBe(true));
      }
      const reference = withJsKernels(() => tf.tidy(() => model.forward(tokens, { lora: adapter.forwardMap(), training: true, attentionMask: padded }).dataSync()));
      expect(relativeError(runs[0]![0]!, reference as Float32Array)).toBeLessThanOrEqual(tolerance);
      upstream.dispose();
    } finally {
      adapter.dispose();
      model.dispose();
    }
  });

  it("gives bit-identical logits and gradients with 1 and 2 threads", async () => {
    const { model, adapter } = await setUp("llama", loraTargets);
    try {
      const upstream = tf.randomNormal([tokens.length, tokens[0]!.length, vocab], 0, 1, "float32", upstreamSeed);
      setNativeThreads(1);
      const one = logitsAndGrads(model, adapter, tokens, padded, upstream, true);
      setNativeThreads(2);
      const two = logitsAndGrads(model, adapter, tokens, padded, upstream, true);
      setNativeThreads(defaultThreads);
      one.forEach((x, i) => expect(Buffer.from(x.buffer).equals(Buffer.from(two[i]!.buffer)), `output ${i}`).toBe(true));
      upstream.dispose();
    } finally {
      adapter.dispose();
      model.dispose();
    }
  });

  it("the output head over the loss rows only gives the loss and hidden-state gradient of forward + maskedCrossEntropy", async () => {
    const { model, adapter } = await setUp("qwen2", loraTargets);
    try {
      const shape: [number, number] = [tokens.length, tokens[0]!.length];
      const hidden = tf.tidy(() => model.finalHidden(tokens, { lora: adapter.forwardMap() }));
      const targets = tf.tensor2d(tokens.map((row) => [...row.slice(1), 4]), shape, "int32");
      const mask = tf.tensor2d(padded.map((row, i) => row.map((m, j) => (j < 5 ? 0 : m * (i + 1)))), shape, "float32"); // prompt, padding, a weight 2
      const lossAndGrad = (loss: (h: tf.Tensor3D) => tf.Scalar) =>
        tf.tidy(() => [loss(hidden), tf.grad((h) => loss(h as tf.Tensor3D))(hidden)].map((t) => t.dataSync() as Float32Array));
      expect(tf.tidy(() => nativeHeadCrossEntropy(hidden, model.weights.output, targets, mask, 9))).toBeDefined();
      const ours = lossAndGrad((h) => nativeHeadCrossEntropy(h, model.weights.output, targets, mask, 9)!);
      const reference = withJsKernels(() => lossAndGrad((h) => maskedCrossEntropy(model.logitsOf(h), targets, mask, 9)));
      expect(Math.abs(ours[0]![0]! - reference[0]![0]!) / reference[0]![0]!).toBeLessThanOrEqual(tolerance);
      expect(relativeError(ours[1]!, reference[1]!)).toBeLessThanOrEqual(tolerance);
      const e = model.config.nEmbd;
      expect(ours[1]!.subarray(0, 5 * e).every((x) => x === 0), "rows out of the loss get no gradient").toBe(true);
      const none = tf.zeros(shape) as tf.Tensor2D;
      const empty = tf.tidy(() => lossAndGrad((h) => nativeHeadCrossEntropy(h, model.weights.output, targets, none, 9)!));
      expect(empty[0]![0]).toBe(0);
      expect(empty[1]!.every((x) => x === 0)).toBe(true);
      tf.dispose([hidden, targets, mask, none]);
    } finally {
      adapter.dispose();
      model.dispose();
    }
  });

  it("leaves LoRA dropout while training to the per-op path", async () => {
    const { model, adapter } = await setUp("llama", loraTargets, 0.1);
    try {
      blockBuffers.clear();
      tf.tidy(() => {
        tf.variableGrads(
          () => tf.sum(model.forward(tokens, { lora: adapter.forwardMap(), loraDropout: 0.1, training: true, dropoutSeed: 1 })) as tf.Scalar,
          adapter.variables,
        );
      });
      expect(blockBuffers.held).toBe(0);
    } finally {
      adapter.dispose();
      model.dispose();
    }
  });
});
