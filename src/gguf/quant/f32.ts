/** F32: little-endian float32, copied as is. */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";

export const f32Codec: TensorCodec = {
  type: GgmlType.F32,
  blockSize: 1,
  typeSize: 4,
  dequantize(src, out) {
    // A Uint8Array view may start at any byte; copy through bytes so the Float32Array view is aligned.
    new Uint8Array(out.buffer, out.byteOffset, out.length * 4).set(src.subarray(0, out.length * 4));
  },
  quantize(src, out) {
    out.set(new Uint8Array(src.buffer, src.byteOffset, src.length * 4));
  },
};
