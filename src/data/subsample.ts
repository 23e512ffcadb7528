/**
 * Seeded subsampling of a seed set: `n` examples or a `fraction` (rounded down, as the official
 * `generate_seed_data.py` does: 1% of GSM8K train = 74). Classification is stratified by label: each label
 * gets its share by largest remainder, and at least one example when n allows. The same seed gives the same
 * sample; the sample keeps the file's order.
 */
import { UsageError } from "../errors.js";
import type { Example } from "../seams.js";
import { mulberry32, seededShuffle, seedFrom } from "./seededRandom.js";

export interface SubsampleOptions {
  n?: number;
  fraction?: number;
  seed: number | string;
  /** Stratify by this key (the label for classification); plain random sampling when absent. */
  stratifyBy?: (example: Example) => string;
}

export function sampleSize(total: number, options: Pick<SubsampleOptions, "n" | "fraction">): number {
  if ((options.n === undefined) === (options.fraction === undefined)) throw new UsageError("give exactly one of --n and --fraction");
  if (options.fraction !== undefined && !(options.fraction > 0 && options.fraction <= 1)) {
    throw new UsageError(`--fraction ${options.fraction}: expected a number in (0, 1]`);
  }
  const n = options.n ?? Math.floor(options.fraction! * total);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`sample size ${n}: expected a whole number ≥ 1 (the file has ${total} examples)`);
  if (n > total) throw new UsageError(`--n ${n}: the file has only ${total} examples`);
  return n;
}

export function subsample(examples: readonly Example[], options: SubsampleOptions): Example[] {
  const n = sampleSize(examples.length, options);
  const indices = examples.map((_, i) => i);
  let chosen: number[];
  if (!options.stratifyBy) {
    chosen = seededShuffle(indices, mulberry32(seedFrom(options.seed))).slice(0, n);
  } else {
    const strata = new Map<string, number[]>();
    for (const i of indices) {
      const key = options.stratifyBy(examples[i]!);
      const members = strata.get(key);
      if (members) members.push(i);
      else strata.set(key, [i]);
    }
    const quotas = stratumQuotas(n, new Map([...strata].map(([key, members]) => [key, members.length])));
    chosen = [...strata].flatMap(([key, members]) => seededShuffle(members, mulberry32(seedFrom(options.seed, key))).slice(0, quotas.get(key)));
  }
  return chosen.sort((a, b) => a - b).map((i) => examples[i]!);
}

/** Proportional allocation by largest remainder (ties by key), then at least one per stratum when n allows. */
export function stratumQuotas(n: number, sizes: ReadonlyMap<string, number>): Map<string, number> {
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const keys = [...sizes.keys()].sort();
  const quotas = new Map(keys.map((k) => [k, Math.floor((n * sizes.get(k)!) / total)]));
  const byRemainder = [...keys].sort((a, b) => {
    const ra = (n * sizes.get(a)!) % total;
    const rb = (n * sizes.get(b)!) % total;
    return rb - ra || (a < b ? -1 : 1);
  });
  let left = n - [...quotas.values()].reduce((a, b) => a + b, 0);
  for (const key of byRemainder) {
    if (left === 0) break;
    quotas.set(key, quotas.get(key)! + 1);
    left--;
  }
  if (n >= keys.length) {
    for (const key of keys) {
      if (quotas.get(key)! > 0) continue;
      const largest = keys.reduce((a, b) => (quotas.get(b)! > quotas.get(a)! ? b : a));
      quotas.set(largest, quotas.get(largest)! - 1);
      quotas.set(key, 1);
    }
  }
  return quotas;
}
