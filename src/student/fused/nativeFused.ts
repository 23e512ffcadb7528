/**
 * When the fused native kernels of native/src/fused run: only on the tfjs cpu backend with this project's
 * native kernels registered and switched on (DESIGN.md §5). tfjs-node / tfjs-node-gpu keep their own kernels
 * and the pure-JS cpu backend its own ops: there every fused op returns undefined and the caller uses the
 * plain tfjs composition of src/student/layers.ts. LLM2LLM_FUSED=0 turns the fused kernels off (matmul stays native).
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "../../backend/nativeAddon.js";
import { fusedKernelsEnabled, nativeAddon, nativeKernelsActive } from "../../backend/nativeKernels.js";
import { StoredMatrix } from "../StoredMatrix.js";
import type { WeightValues } from "../storedProduct.js";

/** The addon, when the fused kernels should run for float32 tensors now; otherwise undefined. */
export function activeFusedKernels(): NativeAddon | undefined {
  if (tf.getBackend() !== "cpu" || !fusedKernelsEnabled() || !nativeKernelsActive()) return undefined;
  const addon = nativeAddon();
  return addon && typeof addon.attention === "function" ? addon : undefined;
}

/**
 * Whether the fused native path runs now: the one place that decides it (other backends, e.g. WebGPU, take
 * the tfjs compositions). The fused ops, the block op and the optimizer's typed-array update all ask here.
 */
export function nativeFusedAvailable(): boolean {
  return activeFusedKernels() !== undefined;
}

/** The values of a float32 tensor of the cpu backend (its own array: never written to). */
export function float32Values(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Whether the native products take this frozen weight: float32, or blocks native/ packs from (StoredMatrix). */
export function nativeWeight(w: tf.Tensor | StoredMatrix): boolean {
  return w instanceof StoredMatrix ? w.nativeProduct : w.dtype === "float32";
}

/** A frozen weight as the native products take it (storedProduct.ts's weightProduct). */
export function weightValues(w: tf.Tensor | StoredMatrix): WeightValues {
  return w instanceof StoredMatrix ? w : float32Values(w);
}

/** Every tensor is float32 (the fused kernels' only dtype). */
export function allFloat32(...tensors: tf.Tensor[]): boolean {
  return tensors.every((t) => t.dtype === "float32");
}
