/**
 * How the student would hold a GGUF's weights (for `inspect`): per tensor type, whether its matrices stay in their
 * blocks with native products, stay in their blocks with a dequantize-per-product fallback, or become float32,
 * and the bytes each form takes.
 */
import { GgmlType, ggmlTypeName } from "../gguf/ggmlType.js";
import type { GgufTensorInfo } from "../gguf/openGguf.js";
import { heldBytes, keepsStored } from "./baseWeights.js";
import { nativeStoredTypes } from "./StoredMatrix.js";

export interface BaseWeightsSummary {
  /** Bytes the weights take held as stored (--base-weights stored) and as float32 (--base-weights f32). */
  storedBytes: number;
  float32Bytes: number;
  /** Per type: how its matrices are held in "stored" mode. */
  types: { type: string; tensors: number; held: "native blocks" | "blocks, dequantized per product" | "float32" }[];
}

export function summarizeBaseWeights(tensors: readonly GgufTensorInfo[]): BaseWeightsSummary {
  const native = nativeStoredTypes();
  const byType = new Map<number, number>();
  for (const t of tensors) byType.set(t.type, (byType.get(t.type) ?? 0) + 1);
  const types = [...byType].map(([type, count]) => ({
    type: ggmlTypeName(type),
    tensors: count,
    held: type === GgmlType.F32 || !keepsStored("stored", type) ? ("float32" as const) : native.has(type) ? ("native blocks" as const) : ("blocks, dequantized per product" as const),
  }));
  return { storedBytes: heldBytes(tensors, "stored"), float32Bytes: heldBytes(tensors, "f32"), types };
}
