/**
 * A small seeded PRNG (mulberry32) and the draws the generators need. No Math.random anywhere: the same
 * seed gives the same files byte for byte, on every machine.
 *
 * Every output file draws from its own named stream (`Rng.forStream(seed, "toy-math/test")`), so growing the
 * pool never changes the test set.
 */

import { mulberry32 } from "../../src/util/mulberry32.js";

/** 32-bit FNV-1a of a string: turns a stream name into a seed. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export class Rng {
  /** mulberry32: uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  static forStream(seed: number, stream: string): Rng {
    return new Rng((fnv1a32(stream) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
  }

  /** Integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Index drawn with probability proportional to its weight. */
  weightedIndex(weights: readonly number[]): number {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Two different items. */
  pickTwo<T>(items: readonly T[]): [T, T] {
    const i = Math.floor(this.next() * items.length);
    let j = Math.floor(this.next() * (items.length - 1));
    if (j >= i) j++;
    return [items[i]!, items[j]!];
  }

  /** Fisher–Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
