/**
 * Q4_0 (block_q4_0, 18 bytes per 32 values): half d, then 16 bytes of 4-bit quants; byte j holds value j in
 * its low nibble and value j + 16 in its high nibble; value = (q - 8) * d.
 * Quantizer: ggml's quantize_row_q4_0_ref (d = the signed value of largest magnitude / -8).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";
import { floatToHalf, halfToFloatTable } from "./f16.js";

const QK = 32;
const blockBytes = 18;

export const q4_0Codec: TensorCodec = {
  type: GgmlType.Q4_0,
  blockSize: QK,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const y = b * QK;
      for (let j = 0; j < QK / 2; j++) {
        const q = src[at + 2 + j]!;
        out[y + j] = ((q & 0x0f) - 8) * d;
        out[y + j + QK / 2] = ((q >> 4) - 8) * d;
      }
    }
  },
  quantize(src, out) {
    const blocks = src.length / QK;
    for (let b = 0; b < blocks; b++) {
      const x = b * QK;
      let amax = 0;
      let max = 0;
      for (let j = 0; j < QK; j++) {
        const v = src[x + j]!;
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          max = v;
        }
      }
      const d = Math.fround(max / -8);
      const id = d ? Math.fround(1 / d) : 0;
      const h = floatToHalf(d);
      const at = b * blockBytes;
      out[at] = h & 0xff;
      out[at + 1] = h >> 8;
      for (let j = 0; j < QK / 2; j++) {
        // (int8_t)(x*id + 8.5f): truncation toward zero, then at most 15.
        const q0 = Math.min(15, Math.trunc(Math.fround(Math.fround(src[x + j]! * id) + 8.5)));
        const q1 = Math.min(15, Math.trunc(Math.fround(Math.fround(src[x + j + QK / 2]! * id) + 8.5)));
        out[at + 2 + j] = q0 | (q1 << 4);
      }
    }
  },
};
