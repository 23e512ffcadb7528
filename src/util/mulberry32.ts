/**
 * mulberry32: a tiny seeded PRNG, the one source of reproducible randomness in the project (data sampling,
 * LoRA initialisation, shuffles, dropout seeds, the toy datasets). Not for cryptography.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296; // uniform in [0, 1)
  };
}
