/**
 * IQ4_XS (block_iq4_xs, 136 bytes per 256 values): half d, u16 scales_h (2 high bits per group of 32),
 * scales_l[4] (4 low bits per group, group 2i in the low nibble of byte i), qs[128]: per group 16 bytes of
 * IQ4_NL indices (low nibble = value j, high = value j + 16). value = d * (scale - 32) * table[q]
 * (ggml's dequantize_row_iq4_xs).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";
import { iq4nlValues } from "./iq4_nl.js";

const QK_K = 256;
const blockBytes = 136;
const scalesLAt = 4;
const qsAt = 8;

export const iq4_xsDecoder: TensorDecoder = {
  type: GgmlType.IQ4_XS,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const scalesH = src[at + 2]! | (src[at + 3]! << 8);
      for (let ib = 0; ib < 8; ib++) {
        const ls = ((src[at + scalesLAt + (ib >> 1)]! >> (4 * (ib % 2))) & 0xf) | (((scalesH >> (2 * ib)) & 3) << 4);
        const dl = d * (ls - 32); // exact, and dl * table[q] fits float32's 24 bits
        const qs = at + qsAt + 16 * ib;
        const y = b * QK_K + 32 * ib;
        for (let j = 0; j < 16; j++) {
          out[y + j] = dl * iq4nlValues[src[qs + j]! & 0xf]!;
          out[y + j + 16] = dl * iq4nlValues[src[qs + j]! >> 4]!;
        }
      }
    }
  },
};
