/**
 * Q5_1 (block_q5_1, 24 bytes per 32 values): half d, half m, 4 bytes qh (bit j = 5th bit of value j), 16 bytes
 * of nibbles (low = value j, high = value j + 16); value = q * d + m (ggml's dequantize_row_q5_1).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

const QK = 32;
const blockBytes = 24;

export const q5_1Decoder: TensorDecoder = {
  type: GgmlType.Q5_1,
  blockSize: QK,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const m = half[src[at + 2]! | (src[at + 3]! << 8)]!;
      const qh = (src[at + 4]! | (src[at + 5]! << 8) | (src[at + 6]! << 16) | (src[at + 7]! << 24)) >>> 0;
      const y = b * QK;
      for (let j = 0; j < QK / 2; j++) {
        const q = src[at + 8 + j]!;
        const x0 = (q & 0x0f) | (((qh >>> j) & 1) << 4);
        const x1 = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
        // Exact product, exact float64 sum: the Float32Array store is C's single rounding.
        out[y + j] = x0 * d + m;
        out[y + j + QK / 2] = x1 * d + m;
      }
    }
  },
};
