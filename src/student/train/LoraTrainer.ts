/**
 * One optimizer step of LoRA fine-tuning: forward + masked loss + backward for each micro-batch (gradient
 * accumulation), global-norm clipping, then AdamW on the adapter's variables only. The base weights are
 * plain tensors the step never writes (they get no gradient). Everything a step makes is freed inside it,
 * so the live tensor count stays flat over a long run.
 */
import * as tf from "@tensorflow/tfjs";
import type { LoraAdapter } from "../lora/LoraAdapter.js";
import type { StudentModel } from "../StudentModel.js";
import { AdamW, type AdamWOptions } from "./AdamW.js";
import type { TokenBatch } from "./batches.js";
import { clipByGlobalNorm, globalNorm } from "./clipGradients.js";
import { blockBuffers } from "../fused/block.js";
import { nativeHeadCrossEntropy } from "../fused/headCrossEntropy.js";
import { nativeFusedAvailable } from "../fused/nativeFused.js";
import { maskedCrossEntropy } from "./maskedCrossEntropy.js";

export interface LoraTrainerOptions extends AdamWOptions {
  /** Clip the global gradient norm to this; 0 turns clipping off. Default 1. */
  maxGradNorm?: number;
  /** Gradient checkpointing: each block's activations are recomputed in the backward. Default false. */
  checkpoint?: boolean;
}

export interface StepResult {
  /** Mean loss per completion token over the step's micro-batches. */
  loss: number;
  /** Global gradient norm before clipping (NaN with clipping off). */
  gradNorm: number;
  completionTokens: number;
  realTokens: number;
}

export class LoraTrainer {
  private readonly optimizer: AdamW;
  private readonly maxGradNorm: number;
  private readonly checkpoint: boolean;

  constructor(
    private readonly model: StudentModel,
    private readonly adapter: LoraAdapter,
    options: LoraTrainerOptions = {},
  ) {
    this.optimizer = new AdamW(adapter.variables, options);
    this.maxGradNorm = options.maxGradNorm ?? 1;
    this.checkpoint = options.checkpoint ?? false;
  }

  get stepsTaken(): number {
    return this.optimizer.step;
  }

  /**
   * One optimizer step over `microBatches` (accumulated), at learning rate `lr`; `dropoutSeed` varies per step.
   * Async: the loss and norm are read with `data()`, as a GPU backend requires (no synchronous reads).
   */
  async step(microBatches: readonly TokenBatch[], lr: number, dropoutSeed: number): Promise<StepResult> {
    const completionTokens = microBatches.reduce((s, b) => s + b.completionTokens, 0);
    const realTokens = microBatches.reduce((s, b) => s + b.realTokens, 0);
    // A step without completion tokens would divide by zero; it cannot teach anything, so it is skipped.
    if (completionTokens === 0) return { loss: NaN, gradNorm: NaN, completionTokens, realTokens };
    const variables = this.adapter.variables;
    const lora = this.adapter.forwardMap();
    const [loss, gradNorm] = tf.tidy(() => {
      let total: tf.Tensor[] | undefined;
      let lossSum: tf.Tensor = tf.scalar(0);
      microBatches.forEach((batch, index) => {
        const { value, grads } = tf.variableGrads(() => {
          const shape: [number, number] = [batch.batchSize, batch.length];
          // The ids as numbers, not a tensor: a stored embedding decodes its rows on the host (no sync read on a GPU).
          const hidden = this.model.finalHidden(rowsOf(batch.inputs, shape), {
            lora,
            loraDropout: this.adapter.dropout,
            training: true,
            dropoutSeed: dropoutSeed + index,
            checkpoint: this.checkpoint,
          }); // [B, T, E]
          const targets = tf.tensor2d(batch.targets, shape, "int32");
          const mask = tf.tensor2d(batch.mask, shape, "float32");
          // Divided by the whole step's completion tokens: accumulated gradients equal one big batch's.
          // Natively, only the rows in the loss go through the output projection (fused/headCrossEntropy.ts),
          // which has no logit soft-cap (gemma2): such a model takes logitsOf.
          const fused = this.model.config.finalLogitSoftcap
            ? undefined
            : nativeHeadCrossEntropy(hidden, this.model.weights.output, targets, mask, completionTokens);
          return fused ?? maskedCrossEntropy(this.model.logitsOf(hidden), targets, mask, completionTokens);
        }, variables);
        const ordered = variables.map((v) => grads[v.name]!);
        total = total ? total.map((g, i) => g.add(ordered[i]!)) : ordered;
        lossSum = lossSum.add(value);
      });
      let grads = total!;
      let norm: tf.Tensor = tf.scalar(NaN);
      if (nativeFusedAvailable()) {
        // The same clipping and update over the cpu backend's arrays: one pass instead of ~15 ops per variable.
        const values = grads.map((g) => g.dataSync() as Float32Array);
        let factor = 1;
        if (this.maxGradNorm > 0) {
          const normValue = globalNorm(values);
          factor = Math.min(1, this.maxGradNorm / (normValue + 1e-6));
          norm = tf.scalar(normValue);
        }
        this.optimizer.applyValues(values, lr, factor);
        return [lossSum, norm];
      }
      if (this.maxGradNorm > 0) ({ grads, norm } = clipByGlobalNorm(grads, this.maxGradNorm));
      this.optimizer.apply(grads, lr);
      return [lossSum, norm];
    });
    const [lossValues, normValues] = await Promise.all([loss.data(), gradNorm.data()]);
    tf.dispose([loss, gradNorm]);
    const [lossValue, normValue] = [lossValues[0]!, normValues[0]!];
    return { loss: lossValue, gradNorm: normValue, completionTokens, realTokens };
  }

  dispose(): void {
    this.optimizer.dispose();
    blockBuffers.clear(); // the block ops' activation buffers, kept between steps
  }
}

/** A flat [B·T] id array as B rows of T. */
function rowsOf(ids: ArrayLike<number>, [b, t]: [number, number]): number[][] {
  return Array.from({ length: b }, (_, i) => Array.from({ length: t }, (_, j) => ids[i * t + j]!));
}
