/**
 * AdamW, global-norm clipping, the masked loss and the schedule against PyTorch's own results
 * (test/golden/make_train_golden.py wrote train-golden.json with torch.optim.AdamW, clip_grad_norm_ and
 * F.cross_entropy(ignore_index=-100)).
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AdamW } from "../src/student/train/AdamW.js";
import { clipByGlobalNorm, globalNorm } from "../src/student/train/clipGradients.js";
import { learningRateAt } from "../src/student/train/learningRateSchedule.js";
import { maskedCrossEntropy } from "../src/student/train/maskedCrossEntropy.js";

const golden = JSON.parse(readFileSync(new URL("./golden/train-golden.json", import.meta.url), "utf8"));

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThan(tolerance);
}

describe("AdamW", () => {
  it("matches torch.optim.AdamW over 3 steps with changing learning rates and weight decay", () => {
    const g = golden.adamw;
    const params = g.init.map((t: { shape: number[]; values: number[] }) => tf.variable(tf.tensor(t.values, t.shape)));
    const consts = g.c.map((c: number[], i: number) => tf.tensor(c, g.init[i].shape));
    const optimizer = new AdamW(params, { weightDecay: g.weightDecay });
    for (const lr of g.lrs) {
      // d/dp (p² + c·p) = 2p + c
      const grads = params.map((p: tf.Variable, i: number) => p.mul(2).add(consts[i]));
      optimizer.apply(grads, lr);
      tf.dispose(grads);
    }
    params.forEach((p: tf.Variable, i: number) => expectClose(p.dataSync(), g.after[i], 1e-5));
    optimizer.dispose();
    tf.dispose([...params, ...consts]);
  });

  it("applyValues (the cpu backend's one-pass update, with a clipping factor) matches torch and the tfjs update", () => {
    const g = golden.adamw;
    const make = () => g.init.map((t: { shape: number[]; values: number[] }) => tf.variable(tf.tensor(t.values, t.shape)));
    const [viaValues, viaTensors] = [make(), make()];
    const consts = g.c.map((c: number[], i: number) => tf.tensor(c, g.init[i].shape));
    const [fast, reference] = [new AdamW(viaValues, { weightDecay: g.weightDecay }), new AdamW(viaTensors, { weightDecay: g.weightDecay })];
    for (const lr of g.lrs) {
      tf.tidy(() => {
        const grads = (params: tf.Variable[]) => params.map((p, i) => p.mul(2).add(consts[i]));
        fast.applyValues(grads(viaValues).map((t) => t.dataSync() as Float32Array), lr);
        reference.apply(grads(viaTensors), lr);
      });
    }
    viaValues.forEach((p: tf.Variable, i: number) => {
      expectClose(p.dataSync(), g.after[i], 1e-5);
      expectClose(p.dataSync(), Array.from(viaTensors[i]!.dataSync()), 1e-6);
    });
    // A clipping factor scales the gradient before the moments see it.
    const [p1, p2] = [tf.variable(tf.tensor([1, -2, 3])), tf.variable(tf.tensor([1, -2, 3]))];
    const [o1, o2] = [new AdamW([p1]), new AdamW([p2])];
    o1.applyValues([new Float32Array([0.4, -0.2, 0.6])], 0.1, 0.5);
    tf.tidy(() => o2.apply([tf.tensor([0.2, -0.1, 0.3])], 0.1));
    o1.applyValues([new Float32Array([0.4, 0.2, -0.6])], 0.1, 0.5);
    tf.tidy(() => o2.apply([tf.tensor([0.2, 0.1, -0.3])], 0.1));
    expectClose(p1.dataSync(), Array.from(p2.dataSync()), 1e-6);
    for (const x of [fast, reference, o1, o2]) x.dispose();
    tf.dispose([...viaValues, ...viaTensors, ...consts, p1, p2]);
  });

  it("keeps the live tensor count constant across steps", () => {
    const p = tf.variable(tf.ones([4, 4]));
    const optimizer = new AdamW([p]);
    const step = () => tf.tidy(() => optimizer.apply([p.mul(0.5)], 1e-3));
    const stepValues = () => optimizer.applyValues([new Float32Array(16).fill(0.5)], 1e-3);
    step();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) step();
    for (let i = 0; i < 10; i++) stepValues();
    expect(tf.memory().numTensors).toBe(after1);
    optimizer.dispose();
    p.dispose();
  });
});

describe("clipByGlobalNorm", () => {
  it("matches torch.nn.utils.clip_grad_norm_", () => {
    const c = golden.clip;
    tf.tidy(() => {
      const grads = c.grads.map((t: { shape: number[]; values: number[] }) => tf.tensor(t.values, t.shape));
      const { grads: clipped, norm } = clipByGlobalNorm(grads, c.maxNorm);
      expect(Math.abs(norm.dataSync()[0]! - c.norm)).toBeLessThan(1e-4);
      clipped.forEach((g: tf.Tensor, i: number) => expectClose(g.dataSync(), c.clipped[i], 1e-6));
    });
  });

  it("globalNorm of the values equals the tensor form's norm", () => {
    const c = golden.clip;
    const values = c.grads.map((t: { values: number[] }) => new Float32Array(t.values));
    expect(Math.abs(globalNorm(values) - c.norm)).toBeLessThan(1e-4);
  });

  it("leaves gradients under the limit unchanged", () => {
    tf.tidy(() => {
      const { grads } = clipByGlobalNorm([tf.tensor([0.3, -0.4])], 1);
      expectClose(grads[0]!.dataSync(), [0.3, -0.4], 1e-6);
    });
  });
});

describe("maskedCrossEntropy", () => {
  it("matches F.cross_entropy with ignore_index on the masked-out positions", () => {
    const m = golden.maskedLoss;
    tf.tidy(() => {
      const mask = tf.tensor2d(m.mask, [2, 3]);
      const count = m.mask.reduce((s: number, x: number) => s + x, 0);
      const loss = maskedCrossEntropy(tf.tensor3d(m.logits, [2, 3, 6]), tf.tensor2d(m.targets, [2, 3], "int32"), mask, count);
      expect(Math.abs(loss.dataSync()[0]! - m.loss)).toBeLessThan(1e-5);
    });
  });
});

describe("learningRateAt (warmup + cosine)", () => {
  const schedule = { peak: 1e-3, warmupSteps: 4, totalSteps: 14 };
  it("rises linearly during warmup, peaks, then decays to the floor by the last step", () => {
    expect(learningRateAt(schedule, 0)).toBeCloseTo(2.5e-4, 12);
    expect(learningRateAt(schedule, 3)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(schedule, 4)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(schedule, 9)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(schedule, 14)).toBeCloseTo(0, 12);
    for (let s = 5; s < 14; s++) expect(learningRateAt(schedule, s)).toBeLessThan(learningRateAt(schedule, s - 1));
  });
});
