/**
 * IQ4_NL (block_iq4_nl, 18 bytes per 32 values): half d, then 16 bytes of 4-bit indices into a fixed
 * non-linear table (kvalues_iq4nl); low nibble = value j, high = value j + 16; value = d * table[q]
 * (ggml's dequantize_row_iq4_nl).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorDecoder } from "./codec.js";
import { halfToFloatTable } from "./f16.js";

/** ggml-common.h kvalues_iq4nl. */
export const iq4nlValues: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

const QK = 32;
const blockBytes = 18;

export const iq4_nlDecoder: TensorDecoder = {
  type: GgmlType.IQ4_NL,
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
        out[y + j] = d * iq4nlValues[q & 0xf]!;
        out[y + j + QK / 2] = d * iq4nlValues[q >> 4]!;
      }
    }
  },
};
