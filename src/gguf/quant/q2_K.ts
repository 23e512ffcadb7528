/**
 * Q2_K (block_q2_K, 84 bytes per 256 values): 16 bytes of scales (low nibble scale, high nibble min of each
 * group of 16), 64 bytes of 2-bit quants, half d, half dmin. value = d * scale * q - dmin * min. Within each half
 * (128 values) byte l of qs holds values l, l + 32, l + 64, l + 96 at shifts 0, 2, 4, 6 (ggml's dequantize_row_q2_K).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

const QK_K = 256;
const blockBytes = 84;
const qsAt = 16;
const dAt = 80;

export const q2_KDecoder: TensorDecoder = {
  type: GgmlType.Q2_K,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at + dAt]! | (src[at + dAt + 1]! << 8)]!;
      const min = half[src[at + dAt + 2]! | (src[at + dAt + 3]! << 8)]!;
      let y = b * QK_K;
      let is = 0;
      for (let n = 0; n < 2; n++) {
        const q = at + qsAt + 32 * n;
        for (let shift = 0; shift < 8; shift += 2) {
          for (let half16 = 0; half16 < 2; half16++) {
            const sc = src[at + is++]!;
            // d * (sc & 15), min * (sc >> 4) and dl * q are exact; dl * q - ml rounds once, as in C.
            const dl = d * (sc & 0xf);
            const ml = min * (sc >> 4);
            const qAt = q + 16 * half16;
            for (let l = 0; l < 16; l++) out[y + l] = dl * ((src[qAt + l]! >> shift) & 3) - ml;
            y += 16;
          }
        }
      }
    }
  },
};
