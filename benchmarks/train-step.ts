/**
 * `npm run bench -- train-step [--json] [--configs tiny,small] [--rounds 3] [--steps N] [--warmup N] [--purejs-steps N]
 *   [--peer-steps N] [--backend gpu|webgpu|node|native|cpu]`
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
 * configs in each round (sgemm_limit). --rounds R: the whole comparison R times over, each side's medians taken,
 * so that both sides of a ratio see the same load on a shared machine; every round's figures are in the JSON.
 * --backend forces the tfjs backend (as LLM2LLM_BACKEND does); each row names it, with the WebGPU adapter, and
 * says when the adapter is software (SwiftShader): then the figure is a CPU emulation's, not a GPU's.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { nativeKernelsActive, useNativeKernels } from "../src/backend/nativeKernels.js";
import { UsageError } from "../src/errors.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import {
  chooseOpenblasKernel,
  medianOf,
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
  /** Which round of the benchmark (1, 2, ...). */
  round: number;
  threads: number;
  tokens_per_s: number | null;
  ms_per_step_median: number | null;
  gflops: number | null;
  gflop_per_step: number | null;
  peak_rss_mb: number | null;
  /** Wall seconds of the whole peer command (start-up, warm-up and timed steps). */
  wall_s: number;
  /** Set when the run was stopped: it took over 4x the first thread count's whole run, so it is not the best. */
  stopped?: string;
}

interface TrainStepRow {
  config: string;
  tokens_per_s: number;
  /** The best PyTorch figure (the thread count with the highest median over the rounds); ratios are against it. */
  torch_tokens_per_s: number;
  torch_threads: number;
  /** Every PyTorch run of this config, one per thread count and round. */
  torch_runs: TorchRun[];
  /** Median tokens/s over the rounds ÷ the peer's best median. */
  ratio: number;
  /** Each round's own ratio: ours ÷ the best peer thread count of that round. */
  ratio_by_round: number[];
  purejs_tokens_per_s: number | null;
  /** Median over the rounds of each round's median step. */
  ms_per_step_median: number;
  ms_per_step_by_round: number[];
  torch_ms_per_step_median: number;
  gflops: number;
  torch_gflops: number;
  /** gflops ÷ the run's SGEMM limit (sgemm_limit below): how much of the machine's matmul rate the step keeps. */
  fraction_of_sgemm_limit: number;
  steps: number;
  rounds: number;
  loss_first: number;
  loss_last: number;
}

interface TrainStepResult {
  benchmark: "train-step";
  results: TrainStepRow[];
  /** OpenBLAS SGEMM at n = 2048, best thread count, measured after the configs in each round; medians. */
  sgemm_limit: ReturnType<typeof sgemmLimit> & { by_round: number[] };
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

/** What one config times: our steps, the peer's, and the tokens a step trains. */
interface ConfigPlan {
  name: string;
  config: PeerConfig;
  steps: number;
  warmup: number;
  purejsSteps: number;
  peerSteps: string;
  peerWarmup: string;
  tokensPerStep: number;
}

function planConfig(name: string, config: PeerConfig, args: string[]): ConfigPlan {
  const small = config.dim * config.seq > 128 * 128;
  // The peer's own defaults (3 warm-up + 20 timed steps) cost minutes a thread count on the big config.
  const big = config.vocab * config.dim * config.layers > 1e8;
  const peerSteps = option(args, "peer-steps") ?? (big ? "5" : "20");
  const peerWarmup = big ? "1" : "3";
  return {
    name,
    config,
    // Ours times as many steps as the peer does: on this shared host small's 3-step medians moved 2,304-3,086
    // tokens/s between rounds, the peer's 20-step ones 1,212-1,345.
    steps: Number(option(args, "steps") ?? peerSteps),
    warmup: Number(option(args, "warmup") ?? peerWarmup),
    purejsSteps: Number(option(args, "purejs-steps") ?? (small ? 1 : 3)),
    peerSteps,
    peerWarmup,
    tokensPerStep: config.batch * config.seq,
  };
}

/** Training tokens per second at a step time of `msPerStep`, as the peer counts them. */
function tokensPerSecond(plan: ConfigPlan, msPerStep: number): number {
  return plan.tokensPerStep / (msPerStep / 1000);
}

/** The rounds' SGEMM limits as one: the median of each thread count, the best of those. */
function medianLimit(limits: ReturnType<typeof sgemmLimit>[]): TrainStepResult["sgemm_limit"] {
  const byThreads = Object.fromEntries(Object.keys(limits[0]!.by_threads).map((t) => [t, round(medianOf(limits.map((l) => l.by_threads[t]!)))]));
  const threads = Object.keys(byThreads).reduce((x, y) => (byThreads[y]! > byThreads[x]! ? y : x));
  return { n: limits[0]!.n, gflops: byThreads[threads]!, threads: Number(threads), by_threads: byThreads, by_round: limits.map((l) => l.gflops) };
}

const alpha = 16;
const learningRate = 1e-3;

interface Measured {
  msMedian: number;
  lossFirst: number;
  lossLast: number;
}

/** Median step time (ms) of `steps` timed steps after `warmup` untimed ones (as the peer's statistics.median), and the
 * first/last loss. */
async function measure(config: PeerConfig, warmup: number, steps: number): Promise<Measured> {
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
  return { msMedian: medianOf(times), lossFirst: losses[0]!, lossLast: losses.at(-1)! };
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
    const rounds = Number(option(args, "rounds") ?? 3);
    if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError(`--rounds: expected a whole number >= 1`);
    let peerInfo: TrainStepResult["peer"] = {
      script: "torch_lora_step.py",
      threads: peerThreads,
      torch: null,
      blas: null,
      openblas_coretype: kernel.coretype,
      openblas_core: kernel.core,
      openblas_probes: kernel.probes,
    };
    const plans = names.map((name) => planConfig(name, configs[name]!, args));
    const torchRuns = new Map<string, TorchRun[]>(names.map((name) => [name, []]));
    const ourRounds = new Map<string, Measured[]>(names.map((name) => [name, []]));
    const limits: ReturnType<typeof sgemmLimit>[] = [];
    // Each round: every config's peer at every thread count and ours right after it, then the SGEMM limit; medians
    // over the rounds. On a shared host whose speed moves by tens of percent within minutes, both sides of a
    // ratio then see the same load (one pass measured peer and ours minutes apart, and a ratio moved by ±15%).
    for (let roundNo = 1; roundNo <= rounds; roundNo++) {
      for (const plan of plans) {
        const { name, config } = plan;
        let firstWallMs = 0;
        for (const threads of peerThreads) {
          log(`${name}: round ${roundNo}/${rounds}: PyTorch peer (--threads ${threads}, OpenBLAS ${kernel.core ?? "?"}) ...`);
          const peerArgs = ["--config", name, "--threads", String(threads), "--steps", plan.peerSteps, "--warmup", plan.peerWarmup];
          // On a loaded machine OpenMP's waiting threads can make a run many times slower than 1 thread; one
          // that takes over 4x as long as the round's first run cannot have the best median step, so it is stopped.
          const limitMs = firstWallMs > 0 ? 4 * firstWallMs + 60_000 : 3_600_000;
          const t0 = performance.now();
          try {
            const peer = runPeer("torch_lora_step.py", peerArgs, limitMs, kernel.coretype);
            const wallMs = performance.now() - t0;
            if (firstWallMs === 0) firstWallMs = wallMs;
            torchRuns.get(name)!.push({
              round: roundNo,
              threads,
              tokens_per_s: Number(peer.tokens_per_s),
              ms_per_step_median: Number(peer.ms_per_step_median),
              gflops: Number(peer.gflops),
              gflop_per_step: Number(peer.gflop_per_step),
              peak_rss_mb: peer.peak_rss_mb === undefined ? null : Number(peer.peak_rss_mb),
              wall_s: round(wallMs / 1000),
            });
            const blas = peer.blas as { openblas_core?: string } | undefined;
            peerInfo = { ...peerInfo, torch: peer.torch, blas: peer.blas, openblas_core: blas?.openblas_core ?? kernel.core };
          } catch (error) {
            if (!(error instanceof PeerTimeoutError) || firstWallMs === 0) throw error;
            const stopped = `stopped after ${round(limitMs / 1000)} s (4x the ${peerThreads[0]}-thread run + 60 s)`;
            torchRuns.get(name)!.push({ round: roundNo, threads, tokens_per_s: null, ms_per_step_median: null, gflops: null, gflop_per_step: null, peak_rss_mb: null, wall_s: round(limitMs / 1000), stopped });
            log(`${name}: PyTorch --threads ${threads} ${stopped}`);
          }
        }
        log(`${name}: round ${roundNo}/${rounds}: tfjs (${backend.choice}) ${plan.warmup} warmup + ${plan.steps} timed steps ...`);
        const ours = await measure(config, plan.warmup, plan.steps);
        ourRounds.get(name)!.push(ours);
        const peers = torchRuns.get(name)!.filter((r) => r.round === roundNo);
        log(`${name}: round ${roundNo}: ours ${round(tokensPerSecond(plan, ours.msMedian))} tokens/s, PyTorch ${peers.map((r) => `${r.tokens_per_s ?? "stopped"} (${r.threads} thread${r.threads === 1 ? "" : "s"})`).join(", ")}`);
      }
      limits.push(sgemmLimit(2048, kernel.coretype));
      log(`round ${roundNo}/${rounds}: SGEMM limit ${limits.at(-1)!.gflops} GFLOP/s at n = 2048`);
    }
    const limit = medianLimit(limits);
    log(`SGEMM limit: OpenBLAS ${limit.gflops} GFLOP/s at n = 2048 (median of ${rounds} round${rounds === 1 ? "" : "s"}, ${limit.threads} thread${limit.threads === 1 ? "" : "s"})`);

    const results: TrainStepRow[] = [];
    for (const plan of plans) {
      const { name, config } = plan;
      const runs = torchRuns.get(name)!;
      // The peer's best thread count: the highest median over the rounds.
      const byThreads = peerThreads
        .map((threads) => ({ threads, runs: runs.filter((r) => r.threads === threads && r.tokens_per_s !== null) }))
        .filter((t) => t.runs.length > 0)
        .map((t) => ({ ...t, tokens_per_s: round(medianOf(t.runs.map((r) => r.tokens_per_s!))) }));
      const best = byThreads.reduce((x, y) => (y.tokens_per_s > x.tokens_per_s ? y : x));
      const ours = ourRounds.get(name)!;
      const msMedian = medianOf(ours.map((o) => o.msMedian));
      const tokensPerS = tokensPerSecond(plan, msMedian);
      const gflopPerStep = best.runs[0]!.gflop_per_step!;

      let purejs: number | null = null;
      if (backend.choice === "native" && nativeKernelsActive() && plan.purejsSteps > 0) {
        log(`${name}: tfjs pure JS, 1 warmup + ${plan.purejsSteps} timed steps ...`);
        useNativeKernels(false);
        try {
          purejs = tokensPerSecond(plan, (await measure(config, 1, plan.purejsSteps)).msMedian);
        } finally {
          useNativeKernels(true);
        }
      } else if (backend.choice === "cpu") {
        purejs = tokensPerS;
      }
      const gflops = gflopPerStep / (msMedian / 1000);
      results.push({
        config: name,
        tokens_per_s: round(tokensPerS),
        torch_tokens_per_s: best.tokens_per_s,
        torch_threads: best.threads,
        torch_runs: runs,
        ratio: round(tokensPerS / best.tokens_per_s, 3),
        ratio_by_round: ours.map((o, i) => {
          const peer = Math.max(...runs.filter((r) => r.round === i + 1 && r.tokens_per_s !== null).map((r) => r.tokens_per_s!));
          return round(tokensPerSecond(plan, o.msMedian) / peer, 3);
        }),
        purejs_tokens_per_s: purejs === null ? null : round(purejs),
        ms_per_step_median: round(msMedian),
        ms_per_step_by_round: ours.map((o) => round(o.msMedian)),
        torch_ms_per_step_median: round(medianOf(best.runs.map((r) => r.ms_per_step_median!)), 2),
        gflops: round(gflops),
        torch_gflops: round(medianOf(best.runs.map((r) => r.gflops!))),
        fraction_of_sgemm_limit: round(gflops / limit.gflops, 3),
        steps: plan.steps,
        rounds,
        loss_first: round(ours[0]!.lossFirst, 4),
        loss_last: round(ours[0]!.lossLast, 4),
      });
      log(`${name}: ${round(tokensPerS)} tokens/s vs PyTorch ${best.tokens_per_s} (ratio ${round(tokensPerS / best.tokens_per_s, 3)}; by round ${results.at(-1)!.ratio_by_round.join(", ")})`);
    }
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
