/**
 * Loads the native addon (native/, built by `npm install` through node-gyp) and registers its kernels
 * into the tfjs cpu backend, replacing the JavaScript ones (which stay the fallback for the cases the
 * native kernels do not cover). When the addon is missing the pure-JS path is used and the reason is shown.
 * tfjs-node backends are untouched: only backendName "cpu" is replaced.
 */
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../errors.js";
import { loadNativeAddon, type NativeAddon } from "./nativeAddon.js";
import { rowGatherKernel } from "./nativeGather.js";
import { nativeBinaryKernel, nativeBinaryOps, type NativeBinaryKernel } from "./nativeElementwise.js";
import { nativeMatMulKernels, type MatMulKernels } from "./nativeMatMul.js";

export type NativeResult = { ok: true; description: string } | { ok: false; reason: string };

const binaryKernels = Object.keys(nativeBinaryOps) as NativeBinaryKernel[];
const replacedKernels = ["BatchMatMul", "_FusedMatMul", ...binaryKernels, "GatherV2"] as const;

/** The cpu backend's own kernels, kept when ours are registered. */
let jsKernels: Map<string, tf.KernelConfig> | undefined;
let nativeKernels: Map<string, tf.KernelConfig> | undefined;

function swapKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, "cpu")) tf.unregisterKernel(config.kernelName, "cpu");
  tf.registerKernel(config);
}

/** Threads from LLM2LLM_THREADS, or undefined for the addon's default (all cores). */
function threadsFromEnv(): number | undefined {
  const raw = process.env.LLM2LLM_THREADS;
  if (raw === undefined || raw === "") return undefined;
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UsageError(`LLM2LLM_THREADS=${raw}: expected a whole number of threads >= 1`);
  }
  return threads;
}

export function registerNativeKernels(): NativeResult {
  const loaded = loadNativeAddon();
  if (!loaded.ok) return loaded;
  const addon = loaded.addon;
  const threads = threadsFromEnv();
  if (threads !== undefined) addon.setThreads(threads);

  if (!jsKernels) {
    jsKernels = new Map();
    for (const name of replacedKernels) {
      const config = tf.getKernel(name, "cpu");
      if (!config) return { ok: false, reason: `the tfjs cpu backend has no ${name} kernel to replace` };
      jsKernels.set(name, config);
    }
    const fallback: MatMulKernels = {
      batchMatMul: jsKernels.get("BatchMatMul")!.kernelFunc,
      fusedMatMul: jsKernels.get("_FusedMatMul")!.kernelFunc,
    };
    const native = nativeMatMulKernels(addon, fallback);
    nativeKernels = new Map([
      ["BatchMatMul", { kernelName: "BatchMatMul", backendName: "cpu", kernelFunc: native.batchMatMul }],
      ["_FusedMatMul", { kernelName: "_FusedMatMul", backendName: "cpu", kernelFunc: native.fusedMatMul }],
    ]);
    // LLM2LLM_FUSED=0: native matmul only (the fused and element-wise kernels off), to measure what they bring.
    for (const name of fusedKernelsEnabled() ? binaryKernels : []) {
      const kernelFunc = nativeBinaryKernel(addon, name, jsKernels.get(name)!.kernelFunc);
      nativeKernels.set(name, { kernelName: name, backendName: "cpu", kernelFunc });
    }
    if (fusedKernelsEnabled()) nativeKernels.set("GatherV2", { kernelName: "GatherV2", backendName: "cpu", kernelFunc: rowGatherKernel(jsKernels.get("GatherV2")!.kernelFunc) });
  }
  useNativeKernels(true);
  return { ok: true, description: describeNative(addon) };
}

function describeNative(addon: NativeAddon): string {
  const threads = addon.threads();
  const fused = fusedKernelsEnabled() ? `fused ${addon.fusedIsa()} attention/RMSNorm/RoPE/SwiGLU/LoRA/cross-entropy/element-wise` : "fused kernels off (LLM2LLM_FUSED=0)";
  return `native kernels: ${addon.gemmIsa()} matmul, ${fused}, ${threads} thread${threads === 1 ? "" : "s"}`;
}

/** Switches the cpu backend between the native kernels and its own JS ones (tests, benchmarks). */
export function useNativeKernels(on: boolean): void {
  const configs = on ? nativeKernels : jsKernels;
  if (!configs) throw new UsageError("native kernels were never registered (call registerNativeKernels first)");
  for (const config of configs.values()) swapKernel(config);
}

/** Whether the cpu backend's BatchMatMul, _FusedMatMul, Add, Sub, Multiply, RealDiv and GatherV2 are ours right now. */
export function nativeKernelsActive(): boolean {
  if (!nativeKernels) return false;
  return [...nativeKernels].every(([name, config]) => tf.getKernel(name, "cpu")?.kernelFunc === config.kernelFunc);
}

/** False when LLM2LLM_FUSED=0: then only the matmul kernels are native (for before/after measurements). */
export function fusedKernelsEnabled(): boolean {
  return process.env.LLM2LLM_FUSED !== "0";
}

/** Sets the native kernels' thread count (the calling thread included). */
export function setNativeThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`native threads: expected a whole number >= 1, got ${threads}`);
  const loaded = loadNativeAddon();
  if (!loaded.ok) throw new UsageError(loaded.reason);
  loaded.addon.setThreads(threads);
}

/** The addon, for benchmarks and tests that call it directly; undefined when it is not built. */
export function nativeAddon(): NativeAddon | undefined {
  const loaded = loadNativeAddon();
  return loaded.ok ? loaded.addon : undefined;
}
