/**
 * `npm run bench -- profile-step [--json] [--configs tiny,small] [--warmup N] [--steps N]`
 *
 * Where the time of one LoRA training step goes (forward + loss + backward + AdamW, the step of
 * benchmarks/train-step.ts on the shapes of ../shared/peers/configs.json), by tfjs kernel name, on the
 * active backend: each kernel's share of the step's wall time, from tf.profile's per-kernel timings summed
 * over `steps` profiled steps, as a share of those steps' wall time. "(outside kernels)" is the rest: JavaScript between kernels (tape, tidy,
 * gradient bookkeeping). Use it to decide which kernels to fuse next.
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import path from "node:path";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { UsageError } from "../src/errors.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { loraTargets } from "../src/student/lora/loraTargets.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { makeBatch } from "../src/student/train/batches.js";
import { LoraTrainer } from "../src/student/train/LoraTrainer.js";
import { SeededRandom } from "../src/student/train/seededRandom.js";
import { randomModelSource } from "../test/helpers/randomModel.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import { peersDir } from "./peers.js";

interface PeerConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  kv_heads: number;
  ffn: number;
  seq: number;
  batch: number;
  rank: number;
}

interface KernelRow {
  config: string;
  kernel: string;
  calls: number;
  ms_per_step: number;
  percent: number;
}

interface ProfileResult {
  benchmark: "profile-step";
  results: KernelRow[];
  steps: Record<string, { ms_per_step_profiled: number; ms_per_step_unprofiled: number }>;
  machine: Machine;
  [field: string]: unknown;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function profileConfig(name: string, config: PeerConfig, warmup: number, steps: number) {
  const model = await StudentModel.fromGguf(
    randomModelSource(
      { architecture: "llama", nEmbd: config.dim, nLayer: config.layers, nHead: config.heads, nHeadKv: config.kv_heads, nFf: config.ffn, seed: 1 },
      config.vocab,
    ),
  );
  const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: config.rank, alpha: 16, dropout: 0 }, 0);
  const trainer = new LoraTrainer(model, adapter, { maxGradNorm: 0 });
  const random = new SeededRandom(0);
  const examples = Array.from({ length: config.batch }, (_, i) => ({
    ids: Array.from({ length: config.seq + 1 }, () => random.int(config.vocab)),
    promptLength: config.seq / 2,
    line: i + 1,
  }));
  const batch = makeBatch(examples);
  const byKernel = new Map<string, { calls: number; ms: number }>();
  let profiledMs = 0;
  const plainTimes: number[] = [];
  try {
    for (let s = 0; s < warmup; s++) trainer.step([batch], 1e-3, s);
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      trainer.step([batch], 1e-3, s);
      plainTimes.push(performance.now() - t0);
    }
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      const info = await tf.profile(() => {
        trainer.step([batch], 1e-3, s);
      });
      profiledMs += performance.now() - t0;
      for (const k of info.kernels) {
        const key = process.env.PROFILE_SHAPES ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
        const entry = byKernel.get(key) ?? { calls: 0, ms: 0 };
        entry.calls += 1;
        entry.ms += Number(await k.kernelTimeMs);
        byKernel.set(key, entry);
      }
    }
  } finally {
    trainer.dispose();
    adapter.dispose();
    model.dispose();
  }
  plainTimes.sort((a, b) => a - b);
  const stepMs = plainTimes[plainTimes.length >> 1]!;
  const kernelMs = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0) / steps;
  // Shares of the profiled step's wall time (the kernels were timed in those steps).
  const profiledStepMs = profiledMs / steps;
  const rows: KernelRow[] = [...byKernel]
    .map(([kernel, e]) => ({ config: name, kernel, calls: e.calls / steps, ms_per_step: e.ms / steps, percent: 0 }))
    .sort((a, b) => b.ms_per_step - a.ms_per_step);
  rows.push({ config: name, kernel: "(outside kernels)", calls: 0, ms_per_step: Math.max(0, profiledStepMs - kernelMs), percent: 0 });
  for (const r of rows) {
    r.percent = round((100 * r.ms_per_step) / profiledStepMs, 1);
    r.ms_per_step = round(r.ms_per_step, 2);
  }
  return { rows, stepMs, profiledMs: profiledMs / steps };
}

const profileStep: Benchmark<ProfileResult> = {
  description: "LoRA training step profile: time per tfjs kernel, share of the step (configs of ../shared/peers)",

  async run(args, log) {
    const backend = await initBackend();
    log(`backend: ${backend.description}`);
    const configs = JSON.parse(readFileSync(path.join(peersDir, "configs.json"), "utf8")) as Record<string, PeerConfig>;
    const names = (option(args, "configs") ?? "tiny,small").split(",");
    for (const name of names) if (!configs[name]) throw new UsageError(`--configs: no config "${name}" in ${peersDir}/configs.json`);
    const results: KernelRow[] = [];
    const steps: ProfileResult["steps"] = {};
    for (const name of names) {
      const warmup = Number(option(args, "warmup") ?? 2);
      const count = Number(option(args, "steps") ?? 3);
      log(`${name}: ${warmup} warmup, ${count} timed and ${count} profiled steps ...`);
      const { rows, stepMs, profiledMs } = await profileConfig(name, configs[name]!, warmup, count);
      results.push(...rows);
      steps[name] = { ms_per_step_profiled: round(profiledMs, 1), ms_per_step_unprofiled: round(stepMs, 1) };
      log(`${name}: ${round(stepMs, 1)} ms/step (${round(profiledMs, 1)} ms profiled)`);
    }
    return { benchmark: "profile-step", results, steps, machine: describeMachine(backend.description), tfjs: tf.version_core };
  },

  table(result) {
    return {
      header: ["config", "kernel", "calls/step", "ms/step", "% of step"],
      rows: result.results.filter((r) => r.percent >= 0.5).map((r) => [r.config, r.kernel, r.calls, r.ms_per_step, r.percent]),
    };
  },
};

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export default profileStep;
