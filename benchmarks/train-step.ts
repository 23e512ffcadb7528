/**
 * `npm run bench -- train-step [--json] [--configs tiny,small] [--steps N] [--warmup N] [--purejs-steps N] [--peer-steps N]
 *   [--backend gpu|webgpu|node|native|cpu]`
 *
 * LoRA training tokens/s of the tfjs student on the active backend for the model shapes of
 * ../shared/peers/configs.json, against the PyTorch CPU peer (torch_lora_step.py) run in the same benchmark
 * at its best: the fastest OpenBLAS kernel for this CPU (peers.ts, chooseOpenblasKernel), every thread count
 * from 1 to the cores, the best tokens/s taken (all runs are kept in the JSON). --peer-steps N: its timed steps. The work matches the peer's exactly: a random-weight llama of the config's shape built in
 * memory (frozen F32 base), LoRA rank r on q, k, v, o, gate, up, down (alpha 16, no dropout), AdamW lr 1e-3
 * on the LoRA weights only, one fixed batch of batch × seq random tokens reused every step, the first half
 * of each sequence masked out of the loss. tokens/s = batch · seq / median step time, as the peer counts.
 * purejs_tokens_per_s is the same measurement with tfjs's own JavaScript kernels (native kernels off).
 * fraction_of_sgemm_limit: our GFLOP/s over OpenBLAS's SGEMM at n = 2048 (best thread count), measured after the
 * configs in the same run (sgemm_limit).
 * --backend forces the tfjs backend (as LLM2LLM_BACKEND does); each row names it, with the WebGPU adapter, and
 * says when the adapter is software (SwiftShader): then the figure is a CPU emulation's, not a GPU's.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { nativeKernelsActive, useNativeKernels } from "../src/backend/nativeKernels.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import {
  chooseOpenblasKernel,
  sgemmLimit,
  ensurePythonModule,
  peerLoraStep,
  peerThreadCounts,
  readPeerConfigs,
  PeerTimeoutError,
  runPeer,
  type OpenblasProbe,
  type PeerConfig,
} from "./peers.js";

/** One PyTorch peer run: its thread count and its figures. */
interface TorchRun {
  threads: number;
  tokens_per_s: number | null;
  ms_per_step_median: number | null;
  gflops: number | null;
  peak_rss_mb: number | null;
  /** Wall seconds of the whole peer command (start-up, warm-up and timed steps). */
  wall_s: number;
  /** Set when the run was stopped: it took over 4x the first thread count's whole run, so it is not the best. */
  stopped?: string;
}

interface TrainStepRow {
  config: string;
  tokens_per_s: number;
  /** The best PyTorch figure of the run (the fastest thread count); ratios are against it. */
  torch_tokens_per_s: number;
  torch_threads: number;
  /** Every PyTorch run of this config, one per thread count. */
  torch_runs: TorchRun[];
  ratio: number;
  purejs_tokens_per_s: number | null;
  ms_per_step_median: number;
  torch_ms_per_step_median: number;
  gflops: number;
  torch_gflops: number;
  /** gflops ÷ the run's SGEMM limit (sgemm_limit below): how much of the machine's matmul rate the step keeps. */
  fraction_of_sgemm_limit: number;
  steps: number;
  loss_first: number;
  loss_last: number;
}

interface TrainStepResult {
  benchmark: "train-step";
  results: TrainStepRow[];
  /** OpenBLAS SGEMM at n = 2048, best thread count, measured after the configs in the same run. */
  sgemm_limit: ReturnType<typeof sgemmLimit>;
  machine: Machine;
  peer: {
    script: string;
    threads: number[];
    torch: unknown;
    blas: unknown;
    /** OPENBLAS_CORETYPE given to the peer (null: unset), the kernel OpenBLAS reported, and the probes. */
    openblas_coretype: string | null;
    openblas_core: string | null;
    openblas_probes: OpenblasProbe[];
  };
  [field: string]: unknown;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const alpha = 16;
const learningRate = 1e-3;

/** Median step time (ms) of `steps` timed steps after `warmup` untimed ones, and the first/last loss. */
async function measure(config: PeerConfig, warmup: number, steps: number): Promise<{ msMedian: number; lossFirst: number; lossLast: number }> {
  const step = await peerLoraStep(config, alpha);
  const { trainer, batch } = step;
  const losses: number[] = [];
  const times: number[] = [];
  try {
    for (let s = 0; s < warmup + steps; s++) {
      const t0 = performance.now();
      losses.push((await trainer.step([batch], learningRate, s)).loss);
      if (s >= warmup) times.push(performance.now() - t0);
    }
  } finally {
    step.dispose();
  }
  times.sort((a, b) => a - b);
  return { msMedian: times[times.length >> 1]!, lossFirst: losses[0]!, lossLast: losses.at(-1)! };
}

const trainStep: Benchmark<TrainStepResult> = {
  description: "LoRA training tokens/s (tfjs student) vs the PyTorch CPU peer, same configs, same run",

  async run(args, log) {
    const forced = option(args, "backend");
    if (forced) process.env.LLM2LLM_BACKEND = forced;
    const backend = await initBackend();
    const adapter = backend.choice === "webgpu" ? backend.webgpuAdapter : undefined;
    const backendLabel = adapter
      ? `webgpu on ${adapter.name}${adapter.software ? ": software adapter, NOT a GPU figure" : ""}`
      : backend.choice;
    log(`backend: ${backend.description}`);
    const names = (option(args, "configs") ?? "tiny,small").split(",");
    const configs = readPeerConfigs(names);
    ensurePythonModule("torch", ["python3-torch", "python3-numpy", "libopenblas0-pthread"], log);

    const kernel = chooseOpenblasKernel(log);
    const peerThreads = peerThreadCounts();
    const results: TrainStepRow[] = [];
    let peerInfo: TrainStepResult["peer"] = {
      script: "torch_lora_step.py",
      threads: peerThreads,
      torch: null,
      blas: null,
      openblas_coretype: kernel.coretype,
      openblas_core: kernel.core,
      openblas_probes: kernel.probes,
    };
    for (const name of names) {
      const config = configs[name]!;
      const small = config.dim * config.seq > 128 * 128;
      // Configs of tiny's size time as many steps as the peer does (20): on a shared host a 10-step median moved ±10%.
      const steps = Number(option(args, "steps") ?? (small ? 3 : 20));
      const warmup = Number(option(args, "warmup") ?? (small ? 1 : 3));
      const purejsSteps = Number(option(args, "purejs-steps") ?? (small ? 1 : 3));
      // The peer's own defaults (3 warm-up + 20 timed steps) cost minutes a thread count on the big config.
      const big = config.vocab * config.dim * config.layers > 1e8;
      const peerSteps = option(args, "peer-steps") ?? (big ? "5" : "20");
      const peerWarmup = big ? "1" : "3";

      const torchRuns: TorchRun[] = [];
      let best: Record<string, unknown> | null = null;
      let firstWallMs = 0;
      for (const threads of peerThreads) {
        log(`${name}: PyTorch peer (--threads ${threads}, OpenBLAS ${kernel.core ?? "?"}) ...`);
        const peerArgs = ["--config", name, "--threads", String(threads), "--steps", peerSteps, "--warmup", peerWarmup];
        // On a loaded machine OpenMP's waiting threads can make a run many times slower than 1 thread; one
        // that takes over 4x as long as the first run cannot have the best median step, so it is stopped.
        const limitMs = firstWallMs > 0 ? 4 * firstWallMs + 60_000 : 3_600_000;
        const t0 = performance.now();
        try {
          const peer = runPeer("torch_lora_step.py", peerArgs, limitMs, kernel.coretype);
          const wallMs = performance.now() - t0;
          if (firstWallMs === 0) firstWallMs = wallMs;
          torchRuns.push({
            threads,
            tokens_per_s: Number(peer.tokens_per_s),
            ms_per_step_median: Number(peer.ms_per_step_median),
            gflops: Number(peer.gflops),
            peak_rss_mb: peer.peak_rss_mb === undefined ? null : Number(peer.peak_rss_mb),
            wall_s: round(wallMs / 1000),
          });
          if (!best || Number(peer.tokens_per_s) > Number(best.tokens_per_s)) best = peer;
        } catch (error) {
          if (!(error instanceof PeerTimeoutError) || firstWallMs === 0) throw error;
          const stopped = `stopped after ${round(limitMs / 1000)} s (4x the ${peerThreads[0]}-thread run + 60 s)`;
          torchRuns.push({ threads, tokens_per_s: null, ms_per_step_median: null, gflops: null, peak_rss_mb: null, wall_s: round(limitMs / 1000), stopped });
          log(`${name}: PyTorch --threads ${threads} ${stopped}`);
        }
      }
      const peer = best!;
      const peerBlas = peer.blas as { openblas_core?: string } | undefined;
      peerInfo = { ...peerInfo, torch: peer.torch, blas: peer.blas, openblas_core: peerBlas?.openblas_core ?? kernel.core };
      log(`${name}: PyTorch ${torchRuns.map((r) => `${r.tokens_per_s ?? "stopped"} tokens/s (${r.threads} thread${r.threads === 1 ? "" : "s"})`).join(", ")}`);

      log(`${name}: tfjs (${backend.choice}) ${warmup} warmup + ${steps} timed steps ...`);
      const ours = await measure(config, warmup, steps);

      let purejs: number | null = null;
      if (backend.choice === "native" && nativeKernelsActive() && purejsSteps > 0) {
        log(`${name}: tfjs pure JS, 1 warmup + ${purejsSteps} timed steps ...`);
        useNativeKernels(false);
        try {
          purejs = (config.batch * config.seq) / ((await measure(config, 1, purejsSteps)).msMedian / 1000);
        } finally {
          useNativeKernels(true);
        }
      } else if (backend.choice === "cpu") {
        purejs = (config.batch * config.seq) / (ours.msMedian / 1000);
      }

      const tokensPerStep = config.batch * config.seq;
      const tokensPerS = tokensPerStep / (ours.msMedian / 1000);
      const torchTokensPerS = Number(peer.tokens_per_s);
      const gflopPerStep = Number(peer.gflop_per_step);
      results.push({
        config: name,
        tokens_per_s: round(tokensPerS),
        torch_tokens_per_s: torchTokensPerS,
        torch_threads: Number(peer.threads),
        torch_runs: torchRuns,
        ratio: round(tokensPerS / torchTokensPerS, 3),
        purejs_tokens_per_s: purejs === null ? null : round(purejs),
        ms_per_step_median: round(ours.msMedian),
        torch_ms_per_step_median: Number(peer.ms_per_step_median),
        gflops: round(gflopPerStep / (ours.msMedian / 1000)),
        torch_gflops: Number(peer.gflops),
        fraction_of_sgemm_limit: 0,
        steps,
        loss_first: round(ours.lossFirst, 4),
        loss_last: round(ours.lossLast, 4),
      });
      log(`${name}: ${round(tokensPerS)} tokens/s vs PyTorch ${torchTokensPerS} (ratio ${round(tokensPerS / torchTokensPerS, 3)})`);
    }
    const limit = sgemmLimit(2048, kernel.coretype);
    log(`SGEMM limit: OpenBLAS ${limit.gflops} GFLOP/s at n = 2048 (${limit.threads} thread${limit.threads === 1 ? "" : "s"})`);
    for (const row of results) row.fraction_of_sgemm_limit = round(row.gflops / limit.gflops, 3);
    return { benchmark: "train-step", results, sgemm_limit: limit, machine: describeMachine(backend.description), peer: peerInfo, tfjs: tf.version_core, backend: backendLabel };
  },

  table(result) {
    return {
      header: ["config", "tokens/s", "torch tokens/s (best)", "torch threads", "ratio", "pure-JS tokens/s", "ms/step", "torch ms/step", "GFLOP/s", "torch GFLOP/s", "of SGEMM limit", "backend"],
      rows: result.results.map((r) => [
        r.config, r.tokens_per_s, r.torch_tokens_per_s, r.torch_threads, r.ratio, r.purejs_tokens_per_s ?? "-", r.ms_per_step_median, r.torch_ms_per_step_median, r.gflops, r.torch_gflops, r.fraction_of_sgemm_limit,
        String(result.backend ?? result.machine.backend ?? ""),
      ]),
    };
  },
};

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export default trainStep;
