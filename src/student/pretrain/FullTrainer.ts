/**
 * One optimizer step of full-parameter training: forward + masked loss + backward per micro-batch (gradient
 * accumulation), global-norm clipping, AdamW on every weight. The same pieces as LoRA training (H6's AdamW,
 * clipping and fused masked cross-entropy), applied to all variables instead of an adapter's. Weight decay
 * goes to the matrices only; norms (and the embedding, as in nanoGPT and most llama recipes) are not decayed.
 */
import * as tf from "@tensorflow/tfjs";
import { AdamW } from "../train/AdamW.js";
import type { TokenBatch } from "../train/batches.js";
import { clipByGlobalNorm } from "../train/clipGradients.js";
import type { StepResult } from "../train/LoraTrainer.js";
import { maskedCrossEntropy } from "../train/maskedCrossEntropy.js";
import type { TrainableStudent } from "./TrainableStudent.js";

export interface FullTrainerOptions {
  /** Decoupled weight decay of the matrices. Default 0.1. */
  weightDecay?: number;
  /** Global gradient-norm clip; 0 = off. Default 1. */
  maxGradNorm?: number;
  /** Adam β2. Default 0.99 (short runs from scratch like a shorter memory than 0.999). */
  beta2?: number;
}

export class FullTrainer {
  private readonly decayed: AdamW;
  private readonly plain: AdamW;
  /** Indices into the student's variables of each optimizer's parameters, in order. */
  private readonly decayedIndex: number[];
  private readonly plainIndex: number[];
  private readonly maxGradNorm: number;
  private steps = 0;

  constructor(
    private readonly student: TrainableStudent,
    options: FullTrainerOptions = {},
  ) {
    const isDecayed = student.parameters.map((p) => p.role === "matrix" || p.role === "residualOut" || p.role === "output");
    this.decayedIndex = isDecayed.flatMap((d, i) => (d ? [i] : []));
    this.plainIndex = isDecayed.flatMap((d, i) => (d ? [] : [i]));
    const variables = student.variables;
    const beta2 = options.beta2 ?? 0.99;
    this.decayed = new AdamW(this.decayedIndex.map((i) => variables[i]!), { weightDecay: options.weightDecay ?? 0.1, beta2 });
    this.plain = new AdamW(this.plainIndex.map((i) => variables[i]!), { weightDecay: 0, beta2 });
    this.maxGradNorm = options.maxGradNorm ?? 1;
  }

  get stepsTaken(): number {
    return this.steps;
  }

  /** One optimizer step over `microBatches` (accumulated) at learning rate `lr`. */
  step(microBatches: readonly TokenBatch[], lr: number): StepResult {
    const completionTokens = microBatches.reduce((s, b) => s + b.completionTokens, 0);
    const realTokens = microBatches.reduce((s, b) => s + b.realTokens, 0);
    if (completionTokens === 0) return { loss: NaN, gradNorm: NaN, completionTokens, realTokens };
    const variables = this.student.variables;
    const model = this.student.model;
    const [loss, gradNorm] = tf.tidy(() => {
      let total: tf.Tensor[] | undefined;
      let lossSum: tf.Tensor = tf.scalar(0);
      for (const batch of microBatches) {
        const { value, grads } = tf.variableGrads(() => {
          const shape: [number, number] = [batch.batchSize, batch.length];
          const logits = model.forward(tf.tensor2d(batch.inputs, shape, "int32")); // [B, T, V]
          const targets = tf.tensor2d(batch.targets, shape, "int32");
          const mask = tf.tensor2d(batch.mask, shape, "float32");
          return maskedCrossEntropy(logits, targets, mask, completionTokens);
        }, variables);
        const ordered = variables.map((v) => grads[v.name]!);
        total = total ? total.map((g, i) => g.add(ordered[i]!)) : ordered;
        lossSum = lossSum.add(value);
      }
      let grads = total!;
      let norm: tf.Tensor = tf.scalar(NaN);
      if (this.maxGradNorm > 0) ({ grads, norm } = clipByGlobalNorm(grads, this.maxGradNorm));
      this.decayed.apply(this.decayedIndex.map((i) => grads[i]!), lr);
      this.plain.apply(this.plainIndex.map((i) => grads[i]!), lr);
      return [lossSum, norm];
    });
    this.steps += 1;
    const [lossValue, normValue] = [loss.dataSync()[0]!, gradNorm.dataSync()[0]!];
    tf.dispose([loss, gradNorm]);
    return { loss: lossValue, gradNorm: normValue, completionTokens, realTokens };
  }

  dispose(): void {
    this.decayed.dispose();
    this.plain.dispose();
  }
}
