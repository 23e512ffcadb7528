/**
 * `npm run bench -- gemm [--json] [--threads N] [--sizes 256,512,1024,2048] [--rounds 3]`
 *
 * Single-precision C = A·B (square, row-major) through the native addon, against the machine's
 * practical limit measured in the same run: numpy over OpenBLAS (../shared/peers/sgemm_limit.py) at its
 * best: the fastest OpenBLAS kernel for this CPU (peers.ts, chooseOpenblasKernel), every thread count from
 * 1 to the cores, the best median taken. GFLOP/s = 2 n³ / median time.
 */
import os from "node:os";
import { nativeAddon } from "../src/backend/nativeKernels.js";
import { UsageError } from "../src/errors.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import { chooseOpenblasKernel, ensurePythonModule, medianOf, peerThreadCounts, runPeer, type OpenblasProbe } from "./peers.js";

interface GemmRow {
  n: number;
  gflops: number;
  /** The best OpenBLAS figure of the run at this size: the fastest thread count's median over the rounds. */
  limit_gflops: number;
  limit_threads: number;
  /** OpenBLAS's median GFLOP/s at each thread count it ran with ("1", "2", ...). */
  limit_by_threads: Record<string, number>;
  ratio: number;
  ms_median: number;
  ms_min: number;
  limit_ms_median: number | null;
  /** Our median GFLOP/s of each round (each round: ours, then OpenBLAS at every thread count). */
  rounds_gflops: number[];
  /**
   * GFLOP per CPU second (all threads' CPU time), medians over the rounds: how efficiently each side uses the
   * CPU time it gets, which a loaded machine disturbs far less than wall time. OpenBLAS's is per call:
   * (CPU of the script with its repeats − CPU of the script with one call) / the extra calls.
   */
  gflop_per_cpu_s: number;
  limit_gflop_per_cpu_s_by_threads: Record<string, number>;
  /** gflop_per_cpu_s ÷ OpenBLAS's at our thread count. */
  cpu_ratio: number | null;
}

interface GemmResult {
  benchmark: "gemm";
  results: GemmRow[];
  machine: Machine;
  threads: number;
  kernel: string;
  limit: {
    script: string;
    blas: string[];
    /** OPENBLAS_CORETYPE given to the peer (null: unset); the kernel and build config OpenBLAS reported. */
    openblas_coretype: string | null;
    openblas_core: string | null;
    openblas_config: string | null;
    /** The kernel probes that chose it (chooseOpenblasKernel). */
    probes: OpenblasProbe[];
    warning?: string;
  };
  load_average_end: number[];
  [field: string]: unknown;
}

interface PeerMeta {
  blas_libraries?: string[];
  openblas?: Record<string, { core?: string; config?: string }>;
  timings?: Record<string, { ms_median?: number }>;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Median and minimum milliseconds of `fn`, after warm-up, over at least ~0.5 s or 5 runs. */
function time(fn: () => void): { median: number; min: number; cpuMs: number } {
  fn();
  fn();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  while (samples.length < 5 || (performance.now() - started < 500 && samples.length < 200)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  samples.sort((x, y) => x - y);
  return { median: samples[samples.length >> 1]!, min: samples[0]!, cpuMs: (cpu.user + cpu.system) / 1000 / samples.length };
}

function randomMatrix(n: number): Float32Array {
  const m = new Float32Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = Math.random() * 2 - 1;
  return m;
}

const gemm: Benchmark<GemmResult> = {
  description: "native SGEMM GFLOP/s vs numpy+OpenBLAS at its best (fastest kernel, best thread count), same run",

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
    const kernel = chooseOpenblasKernel(log);
    const peerThreads = peerThreadCounts();
    // Each size: ours, then OpenBLAS at every thread count right after, `rounds` times; medians of each. On a
    // shared machine both sides then see the same load, and OpenBLAS is credited with its best thread count.
    const rounds = Number(option(args, "rounds") ?? 3);
    if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds: expected a whole number >= 1`);
    const native = new Map<number, { median: number; min: number; rounds: number[]; perCpuS: number }>();
    const perCpuS = new Map<number, Record<string, number>>();
    const limits = new Map<number, { gflops: number; threads: number; byThreads: Record<string, number>; ms_median: number | null }>();
    let blas: string[] = [];
    let openblasCore: string | null = null;
    let openblasConfig: string | null = null;
    for (const n of sizes) {
      const [a, b, c] = [randomMatrix(n), randomMatrix(n), new Float32Array(n * n)];
      const ours: { median: number; min: number; cpuMs: number }[] = [];
      const theirs = new Map<number, { gflops: number; ms_median: number; perCpuS: number }[]>(peerThreads.map((t) => [t, []]));
      const flop = 2 * n ** 3;
      const repeats = Math.min(200, Math.max(7, Math.ceil(2e10 / flop)));
      for (let round = 0; round < rounds; round++) {
        ours.push(time(() => addon.matMul(a, b, c, 1, 1, 1, n, n, n, false, false, null, 0, 0, null)));
        for (const t of peerThreads) {
          const peerArgs = ["--threads", String(t), "--sizes", String(n)];
          const limit = runPeer("sgemm_limit.py", [...peerArgs, "--repeats", String(repeats)], 10 * 60_000, kernel.coretype, { cpuSeconds: true });
          const once = runPeer("sgemm_limit.py", [...peerArgs, "--warmup", "0", "--repeats", "1"], 10 * 60_000, kernel.coretype, { cpuSeconds: true });
          const cpuPerCall = (Number(limit.cpu_s) - Number(once.cpu_s)) / (2 + repeats - 1); // the script warms up twice
          const meta = (limit.meta ?? {}) as PeerMeta;
          blas = meta.blas_libraries ?? [];
          const openblas = Object.values(meta.openblas ?? {})[0];
          openblasCore = openblas?.core ?? null;
          openblasConfig = openblas?.config ?? null;
          theirs.get(t)!.push({
            gflops: Number(limit[String(n)]),
            ms_median: meta.timings?.[String(n)]?.ms_median ?? NaN,
            perCpuS: cpuPerCall > 0 ? flop / cpuPerCall / 1e9 : NaN,
          });
        }
      }
      native.set(n, {
        median: medianOf(ours.map((t) => t.median)),
        min: Math.min(...ours.map((t) => t.min)),
        rounds: ours.map((t) => Math.round((2 * n ** 3) / t.median / 1e5) / 10),
        perCpuS: medianOf(ours.map((t) => flop / t.cpuMs / 1e6)),
      });
      perCpuS.set(n, Object.fromEntries(peerThreads.map((t) => [String(t), Math.round(medianOf(theirs.get(t)!.map((r) => r.perCpuS)) * 10) / 10])));
      const byThreads = Object.fromEntries(peerThreads.map((t) => [String(t), medianOf(theirs.get(t)!.map((r) => r.gflops))]));
      const bestThreads = peerThreads.reduce((x, y) => (byThreads[String(y)]! > byThreads[String(x)]! ? y : x));
      limits.set(n, {
        gflops: byThreads[String(bestThreads)]!,
        threads: bestThreads,
        byThreads,
        ms_median: medianOf(theirs.get(bestThreads)!.map((r) => r.ms_median)),
      });
      const peers = peerThreads.map((t) => `${byThreads[String(t)]} (${t} thread${t === 1 ? "" : "s"})`).join(", ");
      log(`n=${n}: native ${(2 * n ** 3 / native.get(n)!.median / 1e6).toFixed(1)} GFLOP/s, OpenBLAS ${peers}`);
      const cpuPeers = peerThreads.map((t) => `${perCpuS.get(n)![String(t)]} (${t})`).join(", ");
      log(`n=${n}: GFLOP per CPU second: native ${native.get(n)!.perCpuS.toFixed(1)}, OpenBLAS ${cpuPeers}`);
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
        limit_threads: limits.get(n)!.threads,
        limit_by_threads: limits.get(n)!.byThreads,
        ratio: Math.round((gflops / limitGflops) * 1000) / 1000,
        ms_median: Math.round(t.median * 1000) / 1000,
        ms_min: Math.round(t.min * 1000) / 1000,
        limit_ms_median: limits.get(n)!.ms_median,
        rounds_gflops: t.rounds,
        gflop_per_cpu_s: Math.round(t.perCpuS * 10) / 10,
        limit_gflop_per_cpu_s_by_threads: perCpuS.get(n)!,
        cpu_ratio: perCpuS.get(n)![String(threads)] ? Math.round((t.perCpuS / perCpuS.get(n)![String(threads)]!) * 1000) / 1000 : null,
      };
    });
    return {
      benchmark: "gemm",
      results,
      machine,
      threads,
      kernel: addon.gemmIsa(),
      limit: {
        script: "sgemm_limit.py",
        blas,
        openblas_coretype: kernel.coretype,
        openblas_core: openblasCore,
        openblas_config: openblasConfig,
        probes: kernel.probes,
        ...(warning ? { warning } : {}),
      },
      load_average_end: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
  },

  table(result) {
    return {
      header: ["n", "native GFLOP/s", "OpenBLAS GFLOP/s (best)", "OpenBLAS threads", "ratio", "native ms (median)", "GFLOP/CPU-s ratio"],
      rows: result.results.map((r) => [
        r.n, r.gflops.toFixed(1), r.limit_gflops.toFixed(1), r.limit_threads, r.ratio.toFixed(2), r.ms_median.toFixed(2), r.cpu_ratio?.toFixed(2) ?? "-",
      ]),
    };
  },
};

export default gemm;
