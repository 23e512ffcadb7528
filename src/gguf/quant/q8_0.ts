/**
 * Q8_0 (block_q8_0, 34 bytes per 32 values): half d, then 32 int8 quants; value = q * d.
 * Quantizer: ggml's quantize_row_q8_0_ref (d = max|x| / 127, q = roundf(x / d)).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";
import { floatToHalf, halfToFloatTable } from "./f16.js";
import { roundAwayFromZero } from "./rounding.js";

const QK = 32;
const blockBytes = 34;

export const q8_0Codec: TensorCodec = {
  type: GgmlType.Q8_0,
  blockSize: QK,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const y = b * QK;
      for (let j = 0; j < QK; j++) out[y + j] = ((src[at + 2 + j]! << 24) >> 24) * d;
    }
  },
  quantize(src, out) {
    const blocks = src.length / QK;
    for (let b = 0; b < blocks; b++) {
      const x = b * QK;
      let amax = 0;
      for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(src[x + j]!));
      const d = Math.fround(amax / 127);
      const id = d ? Math.fround(1 / d) : 0;
      const h = floatToHalf(d);
      const at = b * blockBytes;
      out[at] = h & 0xff;
      out[at + 1] = h >> 8;
      for (let j = 0; j < QK; j++) out[at + 2 + j] = roundAwayFromZero(Math.fround(src[x + j]! * id)) & 0xff;
    }
  },
};
