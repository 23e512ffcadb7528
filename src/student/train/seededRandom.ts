/**
 * A small seeded random number generator (mulberry32), so a seeded run draws the same LoRA initialisation,
 * the same shuffles and the same dropout seeds on every machine and backend. Not for cryptography.
 */
import { mulberry32 } from "../../util/mulberry32.js";

export class SeededRandom {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    // Mix the seed once so nearby seeds (0, 1, 2) start far apart.
    this.next = mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0x6a09e667) >>> 0);
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A 31-bit integer to seed something else (tfjs dropout, a child generator). */
  seed(): number {
    return Math.floor(this.next() * 0x7fffffff);
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
