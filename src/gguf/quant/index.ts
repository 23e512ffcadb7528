/** The tensor types this project reads (and, for some, writes), by ggml type number. */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec, TensorDecoder } from "./codec.js";
import { f16Codec } from "./f16.js";
import { f32Codec } from "./f32.js";
import { bf16Codec } from "./bf16.js";
import { iq4_nlDecoder } from "./iq4_nl.js";
import { iq4_xsDecoder } from "./iq4_xs.js";
import { q2_KDecoder } from "./q2_K.js";
import { q3_KDecoder } from "./q3_K.js";
import { q4_0Codec } from "./q4_0.js";
import { q4_1Decoder } from "./q4_1.js";
import { q4_KCodec } from "./q4_K.js";
import { q5_0Decoder } from "./q5_0.js";
import { q5_1Decoder } from "./q5_1.js";
import { q5_KDecoder } from "./q5_K.js";
import { q6_KCodec } from "./q6_K.js";
import { q8_0Codec } from "./q8_0.js";

export type { TensorCodec, TensorDecoder } from "./codec.js";
export { floatToHalf, halfToFloat, roundToHalf } from "./f16.js";

const codecs = new Map<GgmlType, TensorCodec>([f32Codec, f16Codec, bf16Codec, q8_0Codec, q4_0Codec, q4_KCodec, q6_KCodec].map((codec) => [codec.type, codec]));

/** Types read but not written: files quantized by llama.cpp (llama-quantize) come with them. */
const decodeOnly: TensorDecoder[] = [q4_1Decoder, q5_0Decoder, q5_1Decoder, q2_KDecoder, q3_KDecoder, q5_KDecoder, iq4_nlDecoder, iq4_xsDecoder];
const decoders = new Map<GgmlType, TensorDecoder>([...codecs.values(), ...decodeOnly].map((decoder) => [decoder.type, decoder]));

/** The codec (read and write) for `type`, or undefined when this project does not write it. */
export function codecFor(type: GgmlType): TensorCodec | undefined {
  return codecs.get(type);
}

/** The decoder for `type`, or undefined when this project does not read it. */
export function decoderFor(type: GgmlType): TensorDecoder | undefined {
  return decoders.get(type);
}

/** Every tensor type this project reads and writes. */
export function supportedTensorTypes(): GgmlType[] {
  return [...codecs.keys()];
}

/** Every tensor type this project reads (a superset of supportedTensorTypes). */
export function readableTensorTypes(): GgmlType[] {
  return [...decoders.keys()];
}
