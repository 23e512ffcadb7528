/**
 * Q4_1 (block_q4_1, 20 bytes per 32 values): half d, half m, then 16 bytes of 4-bit quants; byte j holds value
 * j in its low nibble and value j + 16 in its high nibble; value = q * d + m (ggml's dequantize_row_q4_1).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

const QK = 32;
const blockBytes = 20;

export const q4_1Decoder: TensorDecoder = {
  type: GgmlType.Q4_1,
  blockSize: QK,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const m = half[src[at + 2]! | (src[at + 3]! << 8)]!;
      const y = b * QK;
      for (let j = 0; j < QK / 2; j++) {
        const q = src[at + 4 + j]!;
        // q * d is exact (4 × 11 significant bits) and q * d + m exact in float64: one rounding, as in C.
        out[y + j] = (q & 0x0f) * d + m;
        out[y + j + QK / 2] = (q >> 4) * d + m;
      }
    }
  },
};
