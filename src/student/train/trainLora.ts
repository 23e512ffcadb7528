/**
 * LoRA fine-tuning of a student on tokenized examples: seeded batches per epoch, gradient accumulation,
 * warmup + cosine learning rate, one LoraTrainer step per optimizer step. A seeded run is reproducible on the
 * same backend (initialisation, shuffles and dropout masks all come from the seed).
 */
import { UsageError } from "../../errors.js";
import { defaultLoraConfig, LoraAdapter, type LoraConfig } from "../lora/LoraAdapter.js";
import { loraSitesOf } from "../lora/loraSites.js";
import type { StudentModel } from "../StudentModel.js";
import { epochBatches, type TokenBatch } from "./batches.js";
import { learningRateAt } from "./learningRateSchedule.js";
import { LossCurve, type LossPoint } from "./lossCurve.js";
import { LoraTrainer } from "./LoraTrainer.js";
import { SeededRandom } from "./seededRandom.js";
import type { TokenizedExample } from "./trainingData.js";

export interface TrainLoraOptions {
  lora: LoraConfig;
  /** Peak learning rate. Default 1e-3. */
  learningRate: number;
  /** Passes over the data. Default 3. */
  epochs: number;
  /** Examples per micro-batch. Default 8. */
  batchSize: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradientAccumulation: number;
  /** Fraction of the optimizer steps spent warming up. Default 0.1. */
  warmupRatio: number;
  /** AdamW decoupled weight decay. Default 0.01. */
  weightDecay: number;
  /** Global gradient-norm clip; 0 = off. Default 1. */
  maxGradNorm: number;
  seed: number;
  /** Start from these LoRA weights instead of a fresh adapter (resume). */
  initialAdapter?: LoraAdapter;
  /** Recompute each block's activations in the backward (gradient checkpointing). Default false. */
  checkpoint?: boolean;
}

export const defaultTrainLoraOptions: TrainLoraOptions = {
  lora: defaultLoraConfig,
  learningRate: 1e-3,
  epochs: 3,
  batchSize: 8,
  gradientAccumulation: 1,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  seed: 0,
};

export type { LossPoint } from "./lossCurve.js";

export interface TrainLoraResult {
  adapter: LoraAdapter;
  lossCurve: LossPoint[];
  totalSteps: number;
  tokensPerSecond: number;
}

export async function trainLora(
  model: StudentModel,
  examples: readonly TokenizedExample[],
  options: Partial<TrainLoraOptions> = {},
  onStep?: (point: LossPoint, totalSteps: number) => void,
): Promise<TrainLoraResult> {
  const o = { ...defaultTrainLoraOptions, ...options };
  checkOptions(o, examples.length);
  const adapter = o.initialAdapter ?? LoraAdapter.create(loraSitesOf(model, o.lora.targets), o.lora, o.seed);
  const trainer = new LoraTrainer(model, adapter, { weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm, checkpoint: o.checkpoint ?? false });
  const random = new SeededRandom(o.seed + 1);
  const batchesPerEpoch = Math.ceil(examples.length / o.batchSize);
  const stepsPerEpoch = Math.ceil(batchesPerEpoch / o.gradientAccumulation);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = { peak: o.learningRate, warmupSteps: Math.floor(o.warmupRatio * totalSteps), totalSteps };
  const curve = new LossCurve();
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const batches = epochBatches(examples, epoch, { batchSize: o.batchSize, seed: o.seed });
      for (let first = 0; first < batches.length; first += o.gradientAccumulation) {
        const group: TokenBatch[] = batches.slice(first, first + o.gradientAccumulation);
        const step = trainer.stepsTaken;
        const learningRate = learningRateAt(schedule, step);
        const result = await trainer.step(group, learningRate, random.seed());
        // Recorded whether or not anyone listens: `onStep?.(f())` would skip f() when there is no listener.
        const point = curve.record(step, epoch, learningRate, result);
        onStep?.(point, totalSteps);
        // A step is seconds of synchronous tensor work: let timers, signals and I/O run between steps.
        await yieldToEventLoop();
      }
    }
  } finally {
    trainer.dispose();
  }
  return { adapter, lossCurve: curve.points, totalSteps, tokensPerSecond: curve.tokensPerSecond };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkOptions(o: TrainLoraOptions, exampleCount: number): void {
  const positiveInteger = (value: number, option: string) => {
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option}: expected a positive integer, got ${value}`);
  };
  positiveInteger(o.epochs, "--epochs");
  positiveInteger(o.batchSize, "--batch");
  positiveInteger(o.gradientAccumulation, "--grad-accum");
  if (!(o.learningRate > 0)) throw new UsageError(`--lr: expected a positive number, got ${o.learningRate}`);
  if (!(o.warmupRatio >= 0 && o.warmupRatio < 1)) throw new UsageError(`--warmup: expected a fraction in [0, 1), got ${o.warmupRatio}`);
  if (!(o.weightDecay >= 0)) throw new UsageError(`--weight-decay: expected a number ≥ 0, got ${o.weightDecay}`);
  if (!(o.maxGradNorm >= 0)) throw new UsageError(`--max-grad-norm: expected a number ≥ 0, got ${o.maxGradNorm}`);
  if (exampleCount === 0) throw new UsageError("no training examples");
}
