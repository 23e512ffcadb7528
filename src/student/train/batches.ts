/**
 * Length-bucketed, right-padded batches. Examples are shuffled (seeded), sorted by length within windows of
 * `bucketWindow` batches so each batch holds similar lengths (little padding), cut into batches, and the
 * batch order shuffled again. Right padding needs no attention mask: under the causal mask a real token
 * only sees earlier positions, and padded positions carry mask 0 in the loss.
 */
import { SeededRandom } from "./seededRandom.js";
import type { TokenizedExample } from "./trainingData.js";

export interface TokenBatch {
  /** Input ids [B, T] row-major: ids[0 .. L-2] of each example, then padding. */
  inputs: Int32Array;
  /** Next-token targets [B, T]: ids[1 .. L-1], then padding. */
  targets: Int32Array;
  /** Loss mask [B, T]: 1 where the target is a completion token (or EOS). */
  mask: Float32Array;
  batchSize: number;
  length: number;
  /** Sum of the mask: tokens the loss is averaged over. */
  completionTokens: number;
  /** Real (non-padding) input positions: what tokens/s counts. */
  realTokens: number;
}

export interface BatchOptions {
  batchSize: number;
  seed: number;
  /** Pad id (any valid id; padded positions are masked). Default 0. */
  padId?: number;
  /** Batches per sorting window. Default 8. */
  bucketWindow?: number;
}

/** The batches of one epoch; a different epoch number gives a different seeded order. */
export function epochBatches(examples: readonly TokenizedExample[], epoch: number, options: BatchOptions): TokenBatch[] {
  const random = new SeededRandom(options.seed * 1_000_003 + epoch);
  const window = options.batchSize * (options.bucketWindow ?? 8);
  const shuffled = random.shuffled(examples);
  const ordered: TokenizedExample[] = [];
  for (let start = 0; start < shuffled.length; start += window) {
    ordered.push(...shuffled.slice(start, start + window).sort((x, y) => x.ids.length - y.ids.length));
  }
  const batches: TokenBatch[] = [];
  for (let start = 0; start < ordered.length; start += options.batchSize) {
    batches.push(makeBatch(ordered.slice(start, start + options.batchSize), options.padId ?? 0));
  }
  return random.shuffled(batches);
}

export function makeBatch(examples: readonly TokenizedExample[], padId = 0): TokenBatch {
  const batchSize = examples.length;
  const length = Math.max(...examples.map((e) => e.ids.length)) - 1;
  const inputs = new Int32Array(batchSize * length).fill(padId);
  const targets = new Int32Array(batchSize * length).fill(padId);
  const mask = new Float32Array(batchSize * length);
  let completionTokens = 0;
  let realTokens = 0;
  examples.forEach((example, row) => {
    const base = row * length;
    for (let t = 0; t < example.ids.length - 1; t++) {
      inputs[base + t] = example.ids[t]!;
      targets[base + t] = example.ids[t + 1]!;
      // Position t predicts ids[t+1]: in the loss when that token is completion (index ≥ promptLength).
      if (t + 1 >= example.promptLength) {
        mask[base + t] = 1;
        completionTokens += 1;
      }
    }
    realTokens += example.ids.length - 1;
  });
  return { inputs, targets, mask, batchSize, length, completionTokens, realTokens };
}
