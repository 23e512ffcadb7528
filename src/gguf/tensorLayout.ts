/** Size of a tensor's data in a GGUF, and the shape rules its type imposes (ggml_nbytes, ggml_row_size). */
import { GgmlType, ggmlTypeName, ggmlTypeTraits } from "./ggmlType.js";

/** ggml supports at most 4 dimensions (GGML_MAX_DIMS). */
export const maxTensorDims = 4;

/**
 * Bytes of a tensor of `shape` (ggml order, shape[0] contiguous) and `type`, or a sentence saying why the shape
 * cannot hold that type (unknown type, shape[0] not a whole number of blocks).
 */
export function tensorByteLength(shape: readonly number[], type: GgmlType): number | string {
  const traits = ggmlTypeTraits(type);
  if (!traits) return `unknown tensor type ${type}`;
  const ne0 = shape[0] ?? 1;
  if (ne0 % traits.blockSize !== 0) {
    return `${ggmlTypeName(type)} stores blocks of ${traits.blockSize} values, so shape[0] (ne[0] = ${ne0}) must be a multiple of ${traits.blockSize}`;
  }
  let rows = 1;
  for (let i = 1; i < shape.length; i++) rows *= shape[i]!;
  return (ne0 / traits.blockSize) * traits.typeSize * rows;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
