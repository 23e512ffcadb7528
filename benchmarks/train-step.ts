/**
 * `npm run bench -- train-step [--json] [--configs tiny,small] [--steps N] [--warmup N] [--purejs-steps N]
 *   [--backend gpu|webgpu|node|native|cpu]`
 *
 * LoRA training tokens/s of the tfjs student on the active backend for the model shapes of
 * ../shared/peers/configs.json, against the PyTorch CPU peer (torch_lora_step.py --threads 2) run in the
 * same benchmark. The work matches the peer's exactly: a random-weight llama of the config's shape built in
 * memory (frozen F32 base), LoRA rank r on q, k, v, o, gate, up, down (alpha 16, no dropout), AdamW lr 1e-3
 * on the LoRA weights only, one fixed batch of batch × seq random tokens reused every step, the first half
 * of each sequence masked out of the loss. tokens/s = batch · seq / median step time, as the peer counts.
 * purejs_tokens_per_s is the same measurement with tfjs's own JavaScript kernels (native kernels off).
 * --backend forces the tfjs backend (as LLM2LLM_BACKEND does); each row names it, with the WebGPU adapter, and
 * says when the adapter is software (SwiftShader): then the figure is a CPU emulation's, not a GPU's.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { nativeKernelsActive, useNativeKernels } from "../src/backend/nativeKernels.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import { ensurePythonModule, peerLoraStep, readPeerConfigs, runPeer, type PeerConfig } from "./peers.js";

interface TrainStepRow {
  config: string;
  tokens_per_s: number;
  torch_tokens_per_s: number;
  ratio: number;
  purejs_tokens_per_s: number | null;
  ms_per_step_median: number;
  torch_ms_per_step_median: number;
  gflops: number;
  torch_gflops: number;
  steps: number;
  loss_first: number;
  loss_last: number;
}

interface TrainStepResult {
  benchmark: "train-step";
  results: TrainStepRow[];
  machine: Machine;
  peer: { script: string; threads: number; torch: unknown; blas: unknown };
  [field: string]: unknown;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const alpha = 16;
const learningRate = 1e-3;
const peerThreads = 2;

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

    const results: TrainStepRow[] = [];
    let peerInfo: TrainStepResult["peer"] = { script: "torch_lora_step.py", threads: peerThreads, torch: null, blas: null };
    for (const name of names) {
      const config = configs[name]!;
      const small = config.dim * config.seq > 128 * 128;
      const steps = Number(option(args, "steps") ?? (small ? 3 : 10));
      const warmup = Number(option(args, "warmup") ?? (small ? 1 : 3));
      const purejsSteps = Number(option(args, "purejs-steps") ?? (small ? 1 : 3));

      log(`${name}: PyTorch peer (--threads ${peerThreads}) ...`);
      const peer = runPeer("torch_lora_step.py", ["--config", name, "--threads", String(peerThreads)], 1_800_000);
      peerInfo = { script: "torch_lora_step.py", threads: peerThreads, torch: peer.torch, blas: peer.blas };

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
        ratio: round(tokensPerS / torchTokensPerS, 3),
        purejs_tokens_per_s: purejs === null ? null : round(purejs),
        ms_per_step_median: round(ours.msMedian),
        torch_ms_per_step_median: Number(peer.ms_per_step_median),
        gflops: round(gflopPerStep / (ours.msMedian / 1000)),
        torch_gflops: Number(peer.gflops),
        steps,
        loss_first: round(ours.lossFirst, 4),
        loss_last: round(ours.lossLast, 4),
      });
      log(`${name}: ${round(tokensPerS)} tokens/s vs PyTorch ${torchTokensPerS} (ratio ${round(tokensPerS / torchTokensPerS, 3)})`);
    }
    return { benchmark: "train-step", results, machine: describeMachine(backend.description), peer: peerInfo, tfjs: tf.version_core, backend: backendLabel };
  },

  table(result) {
    return {
      header: ["config", "tokens/s", "torch tokens/s", "ratio", "pure-JS tokens/s", "ms/step", "torch ms/step", "GFLOP/s", "torch GFLOP/s", "backend"],
      rows: result.results.map((r) => [
        r.config, r.tokens_per_s, r.torch_tokens_per_s, r.ratio, r.purejs_tokens_per_s ?? "-", r.ms_per_step_median, r.torch_ms_per_step_median, r.gflops, r.torch_gflops,
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
