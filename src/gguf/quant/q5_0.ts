/**
 * Q5_0 (block_q5_0, 22 bytes per 32 values): half d, 4 bytes qh (bit j = 5th bit of value j), 16 bytes of
 * nibbles (low = value j, high = value j + 16); value = (q - 16) * d (ggml's dequantize_row_q5_0).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

const QK = 32;
const blockBytes = 22;

export const q5_0Decoder: TensorDecoder = {
  type: GgmlType.Q5_0,
  blockSize: QK,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const qh = (src[at + 2]! | (src[at + 3]! << 8) | (src[at + 4]! << 16) | (src[at + 5]! << 24)) >>> 0;
      const y = b * QK;
      for (let j = 0; j < QK / 2; j++) {
        const q = src[at + 6 + j]!;
        const x0 = ((q & 0x0f) | (((qh >>> j) & 1) << 4)) - 16;
        const x1 = ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16;
        out[y + j] = x0 * d;
        out[y + j + QK / 2] = x1 * d;
      }
    }
  },
};
