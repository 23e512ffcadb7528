/**
 * Full-parameter training of a TrainableStudent on tokenized examples: seeded length-bucketed batches per
 * epoch, warmup + cosine learning rate, one FullTrainer step per batch. Pretraining is the case where each
 * example's "prompt" is just BOS (every later token is in the loss); instruction-style training (the toy
 * teacher) masks a longer prompt. Deterministic for a seed on one machine and thread count.
 */
import { UsageError } from "../../errors.js";
import { epochBatches } from "../train/batches.js";
import { learningRateAt } from "../train/learningRateSchedule.js";
import { LossCurve } from "../train/lossCurve.js";
import type { LossPoint } from "../train/trainLora.js";
import type { TokenizedExample } from "../train/trainingData.js";
import { FullTrainer } from "./FullTrainer.js";
import type { TrainableStudent } from "./TrainableStudent.js";

export interface TrainFullOptions {
  epochs: number;
  /** Examples per optimizer step. */
  batchSize: number;
  /** Peak learning rate. */
  learningRate: number;
  /** Fraction of the steps spent warming up. Default 0.05. */
  warmupRatio?: number;
  /** Cosine floor as a fraction of the peak. Default 0.1. */
  minLearningRateRatio?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  seed: number;
}

export interface TrainFullResult {
  lossCurve: LossPoint[];
  totalSteps: number;
  tokensPerSecond: number;
  seconds: number;
}

export function trainFull(
  student: TrainableStudent,
  examples: readonly TokenizedExample[],
  o: TrainFullOptions,
  onStep?: (point: LossPoint, totalSteps: number) => void,
): TrainFullResult {
  if (examples.length === 0) throw new UsageError("trainFull: no training examples");
  if (!(Number.isInteger(o.epochs) && o.epochs > 0 && Number.isInteger(o.batchSize) && o.batchSize > 0)) {
    throw new UsageError(`trainFull: epochs and batchSize must be positive integers (got ${o.epochs}, ${o.batchSize})`);
  }
  const trainer = new FullTrainer(student, {
    ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
    ...(o.maxGradNorm !== undefined ? { maxGradNorm: o.maxGradNorm } : {}),
  });
  const totalSteps = Math.ceil(examples.length / o.batchSize) * o.epochs;
  const schedule = {
    peak: o.learningRate,
    warmupSteps: Math.floor((o.warmupRatio ?? 0.05) * totalSteps),
    totalSteps,
    min: o.learningRate * (o.minLearningRateRatio ?? 0.1),
  };
  const curve = new LossCurve();
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (const batch of epochBatches(examples, epoch, { batchSize: o.batchSize, seed: o.seed })) {
        const step = trainer.stepsTaken;
        const learningRate = learningRateAt(schedule, step);
        const result = trainer.step([batch], learningRate);
        // Recorded whether or not anyone listens: `onStep?.(f())` would skip f() when there is no listener.
        const point = curve.record(step, epoch, learningRate, result);
        onStep?.(point, totalSteps);
      }
    }
  } finally {
    trainer.dispose();
  }
  return { lossCurve: curve.points, totalSteps, tokensPerSecond: curve.tokensPerSecond, seconds: curve.seconds };
}
