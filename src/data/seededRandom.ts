/** A small seeded PRNG (mulberry32) and shuffle: the same seed gives the same sample on every machine. */
import { createHash } from "node:crypto";

/** A uint32 seed from any seed value plus a salt (e.g. a label), so each stratum has its own stream. */
export function seedFrom(seed: number | string, salt = ""): number {
  return createHash("sha256").update(`${seed}\u0000${salt}`).digest().readUInt32LE(0);
}

export { mulberry32 } from "../util/mulberry32.js";

/** Fisher–Yates on a copy. */
export function seededShuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
