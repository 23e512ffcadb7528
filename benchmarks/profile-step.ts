/**
 * `npm run bench -- profile-step [--json] [--configs tiny,small] [--warmup N] [--steps N]`
 *
 * Where the time of one LoRA training step goes (forward + loss + backward + AdamW, the step of
 * benchmarks/train-step.ts on the shapes of ../shared/peers/configs.json), on the active backend, as
 * exclusive shares of the step's wall time:
 *   native:<fn>   time inside each function of the native addon (matMul, attention, rmsNormBackward, ...),
 *                 wherever it is called from (a tfjs kernel, a fused op's forward or gradient, the block op of
 *                 src/student/fused/block.ts, which runs a whole transformer block as native calls);
 *   js:<kernel>   time inside each tfjs kernel that runs JavaScript, less any native time within it;
 *   (outside)     the rest: JavaScript between kernels (tape, tidy, gradient bookkeeping, allocation).
 * "(gc, overlaps)" is V8's garbage-collection time in the same steps, already inside the rows above.
 * Kernels are timed by wrapping the cpu backend's kernel functions (the native-backed ones excepted: their
 * time is the native rows', their JavaScript part counts as outside). LLM2LLM_FUSED=0 profiles the step with
 * native matmul only (the "before" of the fused kernels).
 */
import * as tf from "@tensorflow/tfjs";
import { PerformanceObserver } from "node:perf_hooks";
import { fusedKernelsEnabled, nativeAddon } from "../src/backend/nativeKernels.js";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";
import { peerLoraStep, readPeerConfigs, type PeerConfig } from "./peers.js";

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
  const step = await peerLoraStep(config, 16);
  const { trainer, batch } = step;
  const plainTimes: number[] = [];
  const timers = new Timers();
  let profiledMs = 0;
  try {
    for (let s = 0; s < warmup; s++) await trainer.step([batch], 1e-3, s);
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      await trainer.step([batch], 1e-3, s);
      plainTimes.push(performance.now() - t0);
    }
    const restore = timers.install();
    try {
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        await trainer.step([batch], 1e-3, s);
        profiledMs += performance.now() - t0;
      }
      await new Promise((resolve) => setTimeout(resolve, 100)); // GC entries arrive on the event loop
    } finally {
      restore();
    }
  } finally {
    step.dispose();
  }
  plainTimes.sort((a, b) => a - b);
  const stepMs = plainTimes[plainTimes.length >> 1]!;
  const profiledStepMs = profiledMs / steps;
  const rows: KernelRow[] = [...timers.totals]
    .map(([kernel, e]) => ({ config: name, kernel, calls: e.calls / steps, ms_per_step: e.ms / steps, percent: 0 }))
    .sort((a, b) => b.ms_per_step - a.ms_per_step);
  const measured = rows.reduce((sum, r) => sum + r.ms_per_step, 0);
  rows.push({ config: name, kernel: "(outside)", calls: 0, ms_per_step: Math.max(0, profiledStepMs - measured), percent: 0 });
  rows.push({ config: name, kernel: "(gc, overlaps)", calls: timers.gcCount / steps, ms_per_step: timers.gcMs / steps, percent: 0 });
  for (const r of rows) {
    r.percent = round((100 * r.ms_per_step) / profiledStepMs, 1);
    r.ms_per_step = round(r.ms_per_step, 2);
    r.calls = round(r.calls, 1);
  }
  return { rows, stepMs, profiledMs: profiledMs / steps };
}

/** Exclusive wall time by native function and by JavaScript tfjs kernel, and GC time, while installed. */
class Timers {
  readonly totals = new Map<string, { calls: number; ms: number }>();
  gcMs = 0;
  gcCount = 0;
  private nativeMs = 0;

  private add(key: string, ms: number): void {
    const entry = this.totals.get(key) ?? { calls: 0, ms: 0 };
    entry.calls += 1;
    entry.ms += ms;
    this.totals.set(key, entry);
  }

  /** Wraps the addon's functions and the cpu backend's JS kernels; returns the undo. */
  install(): () => void {
    const undo: (() => void)[] = [];
    const addon = nativeAddon() as unknown as Record<string, unknown> | undefined;
    for (const [fnName, fn] of Object.entries(addon ?? {})) {
      if (typeof fn !== "function") continue;
      const original = fn as (...args: unknown[]) => unknown;
      addon![fnName] = (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return original(...args);
        } finally {
          const ms = performance.now() - t0;
          this.nativeMs += ms;
          this.add(`native:${fnName}`, ms);
        }
      };
      undo.push(() => (addon![fnName] = original));
    }
    // Kernels whose function is ours (native-backed) stay as they are: nativeKernelsActive() compares them.
    const ours = new Set(["BatchMatMul", "_FusedMatMul", ...(fusedKernelsEnabled() ? ["Add", "Sub", "Multiply", "RealDiv", "GatherV2"] : [])]);
    for (const config of tf.getKernelsForBackend("cpu")) {
      if (ours.has(config.kernelName)) continue;
      const original = config.kernelFunc;
      const timed: tf.KernelFunc = (args) => {
        const t0 = performance.now();
        const native0 = this.nativeMs;
        try {
          return original(args);
        } finally {
          this.add(`js:${config.kernelName}`, performance.now() - t0 - (this.nativeMs - native0));
        }
      };
      tf.unregisterKernel(config.kernelName, "cpu");
      tf.registerKernel({ ...config, kernelFunc: timed });
      undo.push(() => {
        tf.unregisterKernel(config.kernelName, "cpu");
        tf.registerKernel(config);
      });
    }
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        this.gcMs += entry.duration;
        this.gcCount += 1;
      }
    });
    gc.observe({ entryTypes: ["gc"] });
    undo.push(() => gc.disconnect());
    return () => undo.reverse().forEach((f) => f());
  }
}

const profileStep: Benchmark<ProfileResult> = {
  description: "LoRA training step profile: time per tfjs kernel, share of the step (configs of ../shared/peers)",

  async run(args, log) {
    const backend = await initBackend();
    log(`backend: ${backend.description}`);
    const names = (option(args, "configs") ?? "tiny,small").split(",");
    const configs = readPeerConfigs(names);
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
