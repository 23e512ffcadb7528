/**
 * Q3_K (block_q3_K, 110 bytes per 256 values): hmask[32] (the high bit, bit m of byte l for value 32m + l),
 * qs[64] (2-bit low parts, as Q2_K), 12 bytes packing sixteen 6-bit scales, half d.
 * value = d * (scale - 32) * (q - (high bit ? 0 : 4)) (ggml's dequantize_row_q3_K).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

const QK_K = 256;
const blockBytes = 110;
const qsAt = 32;
const scalesAt = 96;
const dAt = 108;

/** Scale j (0..15) from the 12 packed bytes at `s`: low 4 bits from bytes 0-7, high 2 bits from bytes 8-11. */
function scale(src: Uint8Array, s: number, j: number): number {
  const low = j < 8 ? src[s + j]! & 0xf : src[s + j - 8]! >> 4;
  const high = (src[s + 8 + (j % 4)]! >> (2 * Math.floor(j / 4))) & 3;
  return (low | (high << 4)) - 32;
}

export const q3_KDecoder: TensorDecoder = {
  type: GgmlType.Q3_K,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const dAll = half[src[at + dAt]! | (src[at + dAt + 1]! << 8)]!;
      let y = b * QK_K;
      let is = 0;
      let m = 1;
      for (let n = 0; n < 2; n++) {
        const q = at + qsAt + 32 * n;
        for (let shift = 0; shift < 8; shift += 2) {
          for (let half16 = 0; half16 < 2; half16++) {
            const dl = dAll * scale(src, at + scalesAt, is++); // exact: 11 × 6 significant bits
            const off = 16 * half16;
            for (let l = 0; l < 16; l++) {
              const low = (src[q + off + l]! >> shift) & 3;
              out[y + l] = dl * (low - (src[at + off + l]! & m ? 0 : 4));
            }
            y += 16;
          }
          m <<= 1;
        }
      }
    }
  },
};
