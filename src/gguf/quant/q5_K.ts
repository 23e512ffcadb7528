/**
 * Q5_K (block_q5_K, 176 bytes per 256 values): half d, half dmin, 12 bytes of 6-bit scales and mins (packed as
 * Q4_K's), qh[32] (5th bits: value 32c + l has its bit c in byte l), qs[128] (low nibbles, as Q4_K).
 * value = d * scale[g] * q - dmin * min[g] (ggml's dequantize_row_q5_K).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";
import { scaleMinK4 } from "./q4_K.js";

const QK_K = 256;
const blockBytes = 176;
const scalesAt = 4;
const qhAt = 16;
const qsAt = 48;

export const q5_KDecoder: TensorDecoder = {
  type: GgmlType.Q5_K,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const dmin = half[src[at + 2]! | (src[at + 3]! << 8)]!;
      const qh = at + qhAt;
      let y = b * QK_K;
      for (let c = 0; c < 4; c++) {
        const ql = at + qsAt + 32 * c;
        const [sc1, m1] = scaleMinK4(src, at + scalesAt, 2 * c);
        const [sc2, m2] = scaleMinK4(src, at + scalesAt, 2 * c + 1);
        // d * sc and d1 * q are exact (11 + 6 + 5 significant bits); the subtraction rounds once, as in C.
        const d1 = d * sc1, min1 = dmin * m1;
        const d2 = d * sc2, min2 = dmin * m2;
        const u1 = 1 << (2 * c), u2 = 2 << (2 * c);
        for (let l = 0; l < 32; l++) out[y + l] = d1 * ((src[ql + l]! & 0xf) + (src[qh + l]! & u1 ? 16 : 0)) - min1;
        for (let l = 0; l < 32; l++) out[y + 32 + l] = d2 * ((src[ql + l]! >> 4) + (src[qh + l]! & u2 ? 16 : 0)) - min2;
        y += 64;
      }
    }
  },
};
