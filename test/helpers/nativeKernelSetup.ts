/**
 * What every native-kernel test file starts with: the tfjs cpu backend with the addon's kernels registered,
 * whether a missing addon may skip (LLM2LLM_NATIVE_OPTIONAL=1; CI builds it, so there it must not), the
 * float32 tolerance, and a way to run the plain JS kernels for comparison.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, registerNativeKernels, useNativeKernels } from "../../src/backend/nativeKernels.js";

export async function setUpNativeKernels(testName: string) {
  await tf.setBackend("cpu");
  const registered = registerNativeKernels();
  const optional = process.env.LLM2LLM_NATIVE_OPTIONAL === "1";
  if (!registered.ok) console.warn(`${testName}: ${registered.reason}${optional ? " (skipped: LLM2LLM_NATIVE_OPTIONAL=1)" : ""}`);
  return { registered, optional, tolerance: 1e-5, defaultThreads: nativeAddon()?.threads() ?? 1 };
}

/** Runs `fn` on tfjs's own JS kernels (the reference), then switches the native ones back on. */
export function withJsKernels<T>(fn: () => T): T {
  useNativeKernels(false);
  try {
    return fn();
  } finally {
    useNativeKernels(true);
  }
}
