/**
 * AdamW (Loshchilov & Hutter 2019), as torch.optim.AdamW computes it: weight decay decoupled from the
 * gradient (p ← p·(1 − lr·λ)), then the bias-corrected Adam step
 *     m ← β1·m + (1−β1)·g,   v ← β2·v + (1−β2)·g²,
 *     p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε).
 * Moments live in tf.Variables beside the parameters and are updated in place (no tensors leak per step).
 *
 * Two forms of one update: `apply` is the tfjs graph (any backend, the reference); `applyValues` runs the same
 * arithmetic in one pass over the cpu backend's typed arrays (about 12 tfjs ops per parameter tensor become
 * one loop: for a small model those ops' dispatch was a third of the training step).
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "../../backend/nativeAddon.js";
import { activeFusedKernels } from "../fused/nativeFused.js";

export interface AdamWOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  epsilon?: number;
  /** Decoupled weight decay λ. Default 0.01 (torch's AdamW default). */
  weightDecay?: number;
}

export class AdamW {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  /** Steps taken so far (t in the bias corrections). */
  step = 0;

  constructor(
    private readonly params: readonly tf.Variable[],
    options: AdamWOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    // tidy frees the zerosLike staging tensors; variables outlive it.
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update with gradients in the order of `params`, at learning rate `lr`. */
  apply(grads: readonly tf.Tensor[], lr: number): void {
    this.step += 1;
    const t = this.step;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const m = this.m[i]!.mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = this.v[i]!.mul(this.beta2).add(g.square().mul(1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const decayed = this.weightDecay > 0 ? p.mul(1 - lr * this.weightDecay) : p;
        const denom = v.sqrt().div(Math.sqrt(c2)).add(this.epsilon);
        p.assign(decayed.sub(m.div(denom).mul(lr / c1)));
      });
    });
  }

  /**
   * The same update from gradients given as values (the cpu backend's arrays), each multiplied by `gradScale`
   * first (global-norm clipping's factor). Only for parameters on the tfjs cpu backend: the moments are
   * updated in place in their own storage (this class's private variables, shared with no other tensor);
   * each parameter gets a fresh tensor, since other tensors may share its storage.
   */
  applyValues(grads: readonly Float32Array[], lr: number, gradScale = 1): void {
    this.step += 1;
    const t = this.step;
    const c1 = 1 - this.beta1 ** t;
    const sqrtC2 = Math.sqrt(1 - this.beta2 ** t);
    const { beta1, beta2, epsilon } = this;
    const decay = this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1;
    const stepSize = lr / c1;
    const step: AdamWStep = { gradScale, beta1, beta2, epsilon, decay, stepSize, sqrtC2 };
    // The native addon's loop when it is loaded (the same double arithmetic, ~20x faster than V8's here).
    const addon = activeFusedKernels();
    const update = addon ? nativeAdamWStep(addon) : adamWStep;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const old = p.dataSync() as Float32Array;
        if (g.length !== old.length) throw new Error(`AdamW: gradient ${i} has ${g.length} values, its parameter ${old.length}`);
        const next = new Float32Array(old.length);
        update(step, old, g, this.m[i]!.dataSync() as Float32Array, this.v[i]!.dataSync() as Float32Array, next);
        p.assign(tf.tensor(next, p.shape, "float32"));
      });
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** The constants of one AdamW step (applyValues). */
export interface AdamWStep {
  gradScale: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − lr·λ. */
  decay: number;
  /** lr / (1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  sqrtC2: number;
}

/** One AdamW step over typed arrays: m and v in place, the new parameters into `next` (double arithmetic). */
export function adamWStep(h: AdamWStep, param: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, next: Float32Array): void {
  const { gradScale, beta1, beta2, epsilon, decay, stepSize, sqrtC2 } = h;
  for (let j = 0; j < param.length; j++) {
    const gj = g[j]! * gradScale;
    const mj = (m[j] = beta1 * m[j]! + (1 - beta1) * gj);
    const vj = (v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj);
    next[j] = param[j]! * decay - (mj / (Math.sqrt(vj) / sqrtC2 + epsilon)) * stepSize;
  }
}

/** adamWStep in the native addon (native/src/fused/fused.cc, adamw): the same bits. */
export function nativeAdamWStep(addon: NativeAddon): typeof adamWStep {
  return (h, param, g, m, v, next) => addon.adamw(param, g, m, v, next, h.gradScale, h.beta1, h.beta2, h.epsilon, h.decay, h.stepSize, h.sqrtC2);
}
