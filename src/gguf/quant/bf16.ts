/** BF16: the top 16 bits of a float32. Encoding rounds to nearest even and keeps NaN quiet (ggml_compute_fp32_to_bf16). */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";

export const bf16Codec: TensorCodec = {
  type: GgmlType.BF16,
  blockSize: 1,
  typeSize: 2,
  dequantize(src, out) {
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0, o = 0; i < out.length; i++, o += 2) bits[i] = ((src[o]! | (src[o + 1]! << 8)) << 16) >>> 0;
  },
  quantize(src, out) {
    const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
    for (let i = 0, o = 0; i < src.length; i++, o += 2) {
      const u = bits[i]!;
      const h = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 64 : ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) & 0xffff;
      out[o] = h & 0xff;
      out[o + 1] = h >>> 8;
    }
  },
};
