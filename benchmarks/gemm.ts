/**
 * `npm run bench -- gemm [--json] [--threads N] [--sizes 256,512,1024,2048] [--rounds 3]`
 *
 * Single-precision C = A·B (square, row-major) through the native addon, against the machine's
 * practical limit measured in the same run: numpy over OpenBLAS (../shared/peers/sgemm_limit.py)
 * with the same thread count. GFLOP/s = 2 n³ / median time.
 */
import os from "node:os";
import { nativeAddon } from "../src/backend/nativeKernels.js";
import { UsageError } from "../src/errors.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import { ensurePythonModule, runPeer } from "./peers.js";

interface GemmRow {
  n: number;
  gflops: number;
  limit_gflops: number;
  ratio: number;
  ms_median: number;
  ms_min: number;
  limit_ms_median: number | null;
}

interface GemmResult {
  benchmark: "gemm";
  results: GemmRow[];
  machine: Machine;
  threads: number;
  kernel: string;
  limit: { script: string; blas: string[]; openblas_core: string | null; warning?: string };
  [field: string]: unknown;
}

interface PeerMeta {
  blas_libraries?: string[];
  openblas?: Record<string, { core?: string }>;
  timings?: Record<string, { ms_median?: number }>;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Median and minimum milliseconds of `fn`, after warm-up, over at least ~0.5 s or 5 runs. */
function time(fn: () => void): { median: number; min: number } {
  fn();
  fn();
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < 5 || (performance.now() - started < 500 && samples.length < 200)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((x, y) => x - y);
  return { median: samples[samples.length >> 1]!, min: samples[0]! };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[sorted.length >> 1]!;
}

function randomMatrix(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = Math.random() * 2 - 1;
  return m;
}

const gemm: Benchmark<GemmResult> = {
  description: "native SGEMM GFLOP/s vs numpy+OpenBLAS on the same threads, same run",

  async run(args, log) {
    const addon = nativeAddon();
    if (!addon) throw new UsageError("the native addon is not built: run `npm run build:native` (needs g++, make, python3)");
    const threads = Number(option(args, "threads") ?? process.env.LLM2LLM_THREADS ?? os.availableParallelism());
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads: expected a whole number >= 1`);
    const sizes = (option(args, "sizes") ?? "256,512,1024,2048").split(",").map(Number);
    if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--sizes: expected sizes like 256,512,1024`);
    addon.setThreads(threads);
    const machine = describeMachine(`native addon, ${addon.gemmIsa()}, ${threads} threads`);

    ensurePythonModule("numpy", ["python3-numpy", "libopenblas0-pthread"], log);
    // Each size: ours, then the limit right after, `rounds` times, medians of both: on a shared
    // machine the two sides then see the same load.
    const rounds = Number(option(args, "rounds") ?? 3);
    if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds: expected a whole number >= 1`);
    const native = new Map<number, { median: number; min: number }>();
    const limits = new Map<number, { gflops: number; ms_median: number | null }>();
    let blas: string[] = [];
    let openblasCore: string | null = null;
    for (const n of sizes) {
      const [a, b, c] = [randomMatrix(n), randomMatrix(n), new Float32Array(n * n)];
      const ours: { median: number; min: number }[] = [];
      const theirs: { gflops: number; ms_median: number | null }[] = [];
      for (let round = 0; round < rounds; round++) {
        ours.push(time(() => addon.matMul(a, b, c, 1, 1, 1, n, n, n, false, false, null, 0, 0, null)));
        const limit = runPeer("sgemm_limit.py", ["--threads", String(threads), "--sizes", String(n)], 10 * 60_000);
        const meta = (limit.meta ?? {}) as PeerMeta;
        blas = meta.blas_libraries ?? [];
        openblasCore = Object.values(meta.openblas ?? {})[0]?.core ?? null;
        theirs.push({ gflops: Number(limit[String(n)]), ms_median: meta.timings?.[String(n)]?.ms_median ?? null });
      }
      native.set(n, { median: medianOf(ours.map((t) => t.median)), min: Math.min(...ours.map((t) => t.min)) });
      limits.set(n, { gflops: medianOf(theirs.map((t) => t.gflops)), ms_median: medianOf(theirs.map((t) => t.ms_median ?? NaN)) });
      log(`n=${n}: native ${(2 * n ** 3 / native.get(n)!.median / 1e6).toFixed(1)} GFLOP/s, OpenBLAS ${limits.get(n)!.gflops} GFLOP/s`);
    }
    const warning = blas.some((l) => l.toLowerCase().includes("openblas"))
      ? undefined
      : `the limit ran on ${blas.join(", ") || "an unknown BLAS"}, not OpenBLAS: install libopenblas0-pthread for a fair peer`;
    if (warning) log(`warning: ${warning}`);

    const results = sizes.map((n): GemmRow => {
      const t = native.get(n)!;
      const gflops = (2 * n ** 3) / t.median / 1e6;
      const limitGflops = limits.get(n)!.gflops;
      return {
        n,
        gflops: Math.round(gflops * 10) / 10,
        limit_gflops: limitGflops,
        ratio: Math.round((gflops / limitGflops) * 1000) / 1000,
        ms_median: Math.round(t.median * 1000) / 1000,
        ms_min: Math.round(t.min * 1000) / 1000,
        limit_ms_median: limits.get(n)!.ms_median,
      };
    });
    return {
      benchmark: "gemm",
      results,
      machine,
      threads,
      kernel: addon.gemmIsa(),
      limit: { script: "sgemm_limit.py", blas, openblas_core: openblasCore, ...(warning ? { warning } : {}) },
    };
  },

  table(result) {
    return {
      header: ["n", "native GFLOP/s", "OpenBLAS GFLOP/s", "ratio", "native ms (median)"],
      rows: result.results.map((r) => [r.n, r.gflops.toFixed(1), r.limit_gflops.toFixed(1), r.ratio.toFixed(2), r.ms_median.toFixed(2)]),
    };
  },
};

export default gemm;
