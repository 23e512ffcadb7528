/**
 * How the base matrices sit in memory: "stored" keeps each quantized or half-precision matrix in its GGUF blocks
 * (StoredMatrix, memory-mapped), "f32" dequantizes every tensor once at load (the only form tfjs-node and
 * tfjs-node-gpu multiply with). "auto" — the default — is "stored" on the tfjs cpu backend with this project's
 * native kernels (their GEMM packs straight from the blocks, bit-identical to the float32 path) and on WebGPU
 * (the blocks in GPU memory, a shader writing one float32 matrix per product: webgpuDequantize.ts — a GPU's
 * memory, not its arithmetic, is what a 4-bit 7B student runs out of), "f32" elsewhere (tfjs-node(-gpu), and the
 * plain cpu backend, which would dequantize in JavaScript for every product).
 * `--base-weights` or LLM2LLM_BASE_WEIGHTS chooses.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAddon, nativeKernelsActive } from "../backend/nativeKernels.js";
import { GgufFormatError, UsageError } from "../errors.js";
import { GgmlType } from "../gguf/ggmlType.js";
import { decoderFor } from "../gguf/quant/index.js";

/** What reading a tensor's bytes needs from a GGUF source (weights.ts's GgufTensorSource has it). */
interface TensorBytesSource {
  path: string;
  tensors: readonly { name: string }[];
  readTensorBytes?(name: string): Promise<Uint8Array>;
}

export const baseWeightsModes = ["auto", "stored", "f32"] as const;
export type BaseWeightsRequest = (typeof baseWeightsModes)[number];
export type BaseWeightsMode = Exclude<BaseWeightsRequest, "auto">;

/** The mode for this process: the request (flag), else LLM2LLM_BASE_WEIGHTS, else auto; auto resolved by backend. */
export function resolveBaseWeights(request?: BaseWeightsRequest): BaseWeightsMode {
  const asked = request ?? process.env.LLM2LLM_BASE_WEIGHTS ?? "auto";
  if (!(baseWeightsModes as readonly string[]).includes(asked)) {
    throw new UsageError(`base weights "${asked}": expected one of ${baseWeightsModes.join(", ")} (--base-weights or LLM2LLM_BASE_WEIGHTS)`);
  }
  if (asked !== "auto") return asked as BaseWeightsMode;
  const backend = tf.getBackend();
  return (backend === "cpu" && nativeKernelsActive()) || backend === "webgpu" ? "stored" : "f32";
}

/** Whether a matrix of this type stays in its blocks: every readable type but F32 (already float32) in "stored". */
export function keepsStored(mode: BaseWeightsMode, type: number): boolean {
  return mode === "stored" && type !== GgmlType.F32 && decoderFor(type) !== undefined;
}

/** What the student holds of a file's tensors in `mode`: a matrix kept in its blocks takes its stored bytes, anything else 4 a value. */
export function heldBytes(tensors: readonly { shape: readonly number[]; type: number; byteLength: number }[], mode: BaseWeightsMode): number {
  let total = 0;
  for (const t of tensors) {
    const matrix = t.shape.filter((d) => d > 1).length >= 2;
    total += matrix && keepsStored(mode, t.type) ? t.byteLength : t.shape.reduce((a, b) => a * b, 1) * 4;
  }
  return total;
}

const mappedFiles = new Map<string, WeakRef<ArrayBuffer>>();

/**
 * A tensor's bytes as stored: a view into the memory-mapped file where the native addon maps files (pages the
 * kernel can drop and re-read, shared by every matrix of the file), else a positioned read into a buffer.
 */
export async function storedTensorBytes(file: TensorBytesSource, name: string): Promise<Uint8Array> {
  const info = file.tensors.find((t) => t.name === name) as { fileOffset?: number; byteLength?: number } | undefined;
  const addon = nativeAddon();
  if (addon && typeof addon.mapFile === "function" && info?.fileOffset !== undefined && info.byteLength !== undefined) {
    let mapped = mappedFiles.get(file.path)?.deref();
    if (!mapped) {
      mapped = addon.mapFile(file.path);
      mappedFiles.set(file.path, new WeakRef(mapped));
    }
    if (info.fileOffset + info.byteLength > mapped.byteLength) {
      throw new GgufFormatError(file.path, `tensor "${name}" ends at byte ${info.fileOffset + info.byteLength}, the file has ${mapped.byteLength} (changed since it was opened?)`);
    }
    return new Uint8Array(mapped, info.fileOffset, info.byteLength);
  }
  return file.readTensorBytes!(name);
}
