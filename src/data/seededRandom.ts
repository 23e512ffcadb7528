/** A small seeded PRNG (mulberry32) and shuffle: the same seed gives the same sample on every machine. */
import { createHash } from "node:crypto";

/** A uint32 seed from any seed value plus a salt (e.g. a label), so each stratum has its own stream. */
export function seedFrom(seed: number | string, salt = ""): number {
  return createHash("sha256").update(`${seed}\u0000${salt}`).digest().readUInt32LE(0);
}

/** Uniform floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates on a copy. */
export function seededShuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
