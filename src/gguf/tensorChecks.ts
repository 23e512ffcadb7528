/** The checks every tensor info must pass before its data is read: dimensions, type, bounds, alignment. */
import { GgufFormatError } from "../errors.js";
import { ggmlTypeName, ggmlTypeTraits } from "./ggmlType.js";
import { tensorByteLength } from "./tensorLayout.js";

/** No real tensor comes near 2^50 values; beyond 2^53 the arithmetic below would stop being exact. */
const maxElements = 2n ** 50n;

export interface TensorInfoToCheck {
  name: string;
  dims: readonly (bigint | number)[];
  type: number;
  /** Offset relative to the data section, as stored. */
  offset: bigint | number;
  dataStart: number;
  alignment: number;
  fileSize: number;
}

/** Throws GgufFormatError unless the tensor's data lies whole inside the file; returns its shape and byte length. */
export function checkTensorInfo(path: string, t: TensorInfoToCheck): { shape: number[]; byteLength: number; fileOffset: number } {
  const fail = (detail: string): never => {
    throw new GgufFormatError(path, `tensor "${t.name}": ${detail}`);
  };
  if (t.dims.length < 1 || t.dims.length > 4) fail(`has ${t.dims.length} dimensions; ggml tensors have 1 to 4`);
  let elements = 1n;
  for (const d of t.dims) {
    const dim = BigInt(d);
    if (dim < 1n) fail(`dimension ${dim} in [${t.dims.join(", ")}] must be at least 1`);
    elements *= dim;
    if (elements > maxElements) fail(`shape [${t.dims.join(", ")}] is absurdly large`);
  }
  const shape = t.dims.map(Number);
  if (!ggmlTypeTraits(t.type)) fail(`unknown tensor type ${t.type} (${ggmlTypeName(t.type)})`);
  const byteLength = tensorByteLength(shape, t.type);
  if (typeof byteLength === "string") return fail(byteLength);
  const offset = BigInt(t.offset);
  if (offset % BigInt(t.alignment) !== 0n) fail(`data offset ${offset} is not a multiple of the alignment ${t.alignment}`);
  const end = BigInt(t.dataStart) + offset + BigInt(byteLength);
  if (end > BigInt(t.fileSize)) {
    fail(`its ${byteLength} bytes of data at byte ${BigInt(t.dataStart) + offset} run past the end of the ${t.fileSize}-byte file (truncated?)`);
  }
  return { shape, byteLength, fileOffset: t.dataStart + Number(offset) };
}
