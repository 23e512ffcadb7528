/**
 * Text generation with the tfjs student: the prompt in one forward pass filling a KV cache, then one token
 * per step. Greedy when the temperature is 0 or absent; otherwise seeded sampling with optional top-k and
 * top-p (the paper samples the student at temperature 0.7, top-p 0.9).
 */
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../errors.js";
import type { SamplingOptions } from "../seams.js";
import { mulberry32 } from "../util/mulberry32.js";
import { KvCache } from "./kvCache.js";
import type { LoraWeights } from "./layers.js";
import type { StudentModel } from "./StudentModel.js";

export interface GenerateOptions extends SamplingOptions {
  /** Stop when one of these is produced (it is not included in the output). Usually the tokenizer's EOG ids. */
  isEndOfGeneration?: (token: number) => boolean;
  lora?: LoraWeights;
  /** Called with each generated token as it comes. */
  onToken?: (token: number) => void;
}

export interface GenerateResult {
  /** Generated ids, without the stop token. */
  tokens: number[];
  stoppedBy: "eos" | "maxTokens";
}

/** Async: each step's logits are read with `data()`, as a GPU backend requires (no synchronous reads). */
export async function generate(model: StudentModel, promptTokens: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
  if (promptTokens.length === 0) throw new UsageError("generate: the prompt has no tokens (give text, or a model that adds BOS)");
  const pick = sampler(options);
  const cache = new KvCache(model.config.nLayer);
  const tokens: number[] = [];
  try {
    let input = [...promptTokens];
    while (tokens.length < options.maxTokens) {
      const last = tf.tidy(() => {
        const logits = model.forward([input], { cache, ...(options.lora ? { lora: options.lora } : {}) }); // [1, T, V]
        const t = logits.shape[1];
        return logits.slice([0, t - 1, 0], [1, 1, -1]).reshape([-1]); // [V]
      });
      const values = (await last.data()) as Float32Array;
      last.dispose();
      const next = pick(values);
      if (options.isEndOfGeneration?.(next)) return { tokens, stoppedBy: "eos" };
      tokens.push(next);
      options.onToken?.(next);
      input = [next];
    }
    return { tokens, stoppedBy: "maxTokens" };
  } finally {
    cache.dispose();
  }
}

/** Picks the next token from one position's logits. */
export function sampler(options: SamplingOptions): (logits: Float32Array) => number {
  const temperature = options.temperature ?? 0;
  if (!(temperature >= 0)) throw new UsageError(`temperature ${temperature}: expected a number ≥ 0`);
  if (temperature === 0) return argmax;
  const random = seededRandom(options.seed ?? Date.now());
  return (logits) => sample(logits, temperature, options.topK ?? 0, options.topP ?? 1, random());
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Softmax(logits / temperature) restricted to the top-k, then to the smallest set holding top-p of the mass. */
function sample(logits: Float32Array, temperature: number, topK: number, topP: number, u: number): number {
  let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  if (topK > 0) order = order.slice(0, topK);
  const max = logits[order[0]!]!;
  const weights = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  const total = weights.reduce((s, x) => s + x, 0);
  let kept = order.length;
  if (topP < 1) {
    let mass = 0;
    for (kept = 0; kept < order.length && mass < topP * total; kept++) mass += weights[kept]!;
  }
  const keptTotal = weights.slice(0, kept).reduce((s, x) => s + x, 0);
  let target = u * keptTotal;
  for (let i = 0; i < kept; i++) {
    target -= weights[i]!;
    if (target < 0) return order[i]!;
  }
  return order[kept - 1]!;
}

/** Seeded uniforms in [0, 1), the same sequence on every platform. */
export const seededRandom = mulberry32;
