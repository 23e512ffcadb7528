/**
 * A random model held in memory whose matrices are `type` blocks, made by llama.cpp's own quantizer (libggml-base
 * through koffi; the project's codec where that library is missing): read as bytes, the student keeps them stored
 * (StoredMatrix); read as float32 (the project's bit-exact decoder), it gets the same values dequantized. No file.
 */
import { codecFor, decoderFor, GgmlType, ggmlTypeName, type GgufTensorToWrite } from "../../src/gguf/index.js";
import { nestedMetadata } from "../../src/student/pretrain/modelShape.js";
import type { GgufTensorSource } from "../../src/student/weights.js";
import { ggmlReference } from "./ggmlReference.js";
import { randomModelTensors, type RandomModelSpec } from "./randomModel.js";

const reference = ggmlReference();

function quantize(type: GgmlType, data: Float32Array, nPerRow: number): Uint8Array | undefined {
  if (reference) return reference.quantize(type, data, nPerRow);
  const codec = codecFor(type);
  if (!codec) return undefined;
  const out = new Uint8Array((data.length / codec.blockSize) * codec.typeSize);
  codec.quantize(data, out);
  return out;
}

/** undefined when neither llama.cpp's quantizer nor a codec of this project writes `type` here. */
export function storedModelSource(spec: Omit<RandomModelSpec, "vocabPath" | "type">, type: GgmlType, nVocab: number): GgufTensorSource | undefined {
  const { metadata, tensors } = randomModelTensors({ ...spec, type: GgmlType.F32 }, nVocab);
  const nested = nestedMetadata(metadata);
  const decoder = decoderFor(type)!;
  const bytes = new Map<string, Uint8Array>();
  const floats = new Map<string, Float32Array>();
  const typeOf = (t: GgufTensorToWrite) => (t.shape.length === 2 ? type : GgmlType.F32);
  for (const t of tensors) {
    if (typeOf(t) === GgmlType.F32) {
      floats.set(t.name, t.data);
      continue;
    }
    const blocks = quantize(type, t.data, t.shape[0]!);
    if (!blocks) return undefined;
    bytes.set(t.name, blocks);
    const decoded = new Float32Array(t.data.length);
    decoder.dequantize(blocks, decoded);
    floats.set(t.name, decoded);
  }
  return {
    path: `memory:stored-${spec.architecture}-${ggmlTypeName(type)}`,
    metadata: nested,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, type: typeOf(t) })),
    readTensor: async (name) => floats.get(name)!.slice(),
    readTensorBytes: async (name) => bytes.get(name)!,
  };
}
