/** The tensor types this project reads and writes, by ggml type number. */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";
import { f16Codec } from "./f16.js";
import { f32Codec } from "./f32.js";
import { bf16Codec } from "./bf16.js";
import { q4_0Codec } from "./q4_0.js";
import { q4_KCodec } from "./q4_K.js";
import { q6_KCodec } from "./q6_K.js";
import { q8_0Codec } from "./q8_0.js";

export type { TensorCodec } from "./codec.js";
export { floatToHalf, halfToFloat, roundToHalf } from "./f16.js";

const codecs = new Map<GgmlType, TensorCodec>([f32Codec, f16Codec, bf16Codec, q8_0Codec, q4_0Codec, q4_KCodec, q6_KCodec].map((codec) => [codec.type, codec]));

/** The codec for `type`, or undefined when this project does not implement it. */
export function codecFor(type: GgmlType): TensorCodec | undefined {
  return codecs.get(type);
}

/** Every tensor type this project reads and writes. */
export function supportedTensorTypes(): GgmlType[] {
  return [...codecs.keys()];
}
