/**
 * Q6_K (block_q6_K, 210 bytes per 256 values): ql[128] low 4 bits, qh[64] high 2 bits, 16 int8 scales, half d.
 * The 256 values are 16 groups of 16; value = d * scale[g] * (q - 32), q a 6-bit number. Within each half
 * (128 values) byte l of ql holds values l and l + 64 (low / high nibble), byte l + 32 values l + 32 and l + 96,
 * and qh byte l their high bits at shifts 0, 4, 2, 6. Quantizer: ggml's quantize_row_q6_K_ref.
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";
import { floatToHalf, halfToFloatTable } from "./f16.js";
import { groupMaxEps, makeQxQuants } from "./kQuantSearch.js";
import { nearestInt } from "./rounding.js";

const QK_K = 256;
const blockBytes = 210;
const qhAt = 128;
const scalesAt = 192;
const dAt = 208;

export const q6_KCodec: TensorCodec = {
  type: GgmlType.Q6_K,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at + dAt]! | (src[at + dAt + 1]! << 8)]!;
      for (let n = 0; n < 2; n++) {
        const ql = at + 64 * n;
        const qh = at + qhAt + 32 * n;
        const sc = at + scalesAt + 8 * n;
        const y = b * QK_K + 128 * n;
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const h = src[qh + l]!;
          const q1 = ((src[ql + l]! & 0xf) | (((h >> 0) & 3) << 4)) - 32;
          const q2 = ((src[ql + l + 32]! & 0xf) | (((h >> 2) & 3) << 4)) - 32;
          const q3 = ((src[ql + l]! >> 4) | (((h >> 4) & 3) << 4)) - 32;
          const q4 = ((src[ql + l + 32]! >> 4) | (((h >> 6) & 3) << 4)) - 32;
          out[y + l] = Math.fround(d * ((src[sc + is]! << 24) >> 24)) * q1;
          out[y + l + 32] = Math.fround(d * ((src[sc + is + 2]! << 24) >> 24)) * q2;
          out[y + l + 64] = Math.fround(d * ((src[sc + is + 4]! << 24) >> 24)) * q3;
          out[y + l + 96] = Math.fround(d * ((src[sc + is + 6]! << 24) >> 24)) * q4;
        }
      }
    }
  },
  quantize(src, out) {
    const L = new Uint8Array(QK_K);
    const scales = new Float32Array(16);
    const half = halfToFloatTable();
    const blocks = src.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const x = src.subarray(b * QK_K, (b + 1) * QK_K);
      const at = b * blockBytes;
      out.fill(0, at, at + blockBytes);
      let maxScale = 0;
      let maxAbsScale = 0;
      for (let g = 0; g < 16; g++) {
        const scale = makeQxQuants(16, 32, x.subarray(16 * g, 16 * g + 16), L.subarray(16 * g, 16 * g + 16));
        scales[g] = scale;
        if (Math.abs(scale) > maxAbsScale) {
          maxAbsScale = Math.abs(scale);
          maxScale = scale;
        }
      }
      if (maxAbsScale < groupMaxEps) continue; // an all-zero block: every byte 0, d = 0
      const iscale = Math.fround(-128 / maxScale);
      const dBits = floatToHalf(1 / iscale);
      out[at + dAt] = dBits & 0xff;
      out[at + dAt + 1] = dBits >> 8;
      for (let g = 0; g < 16; g++) out[at + scalesAt + g] = Math.min(127, nearestInt(iscale * scales[g]!)) & 0xff;
      // Requantize against the stored int8 scales and half d.
      for (let g = 0; g < 16; g++) {
        const d = Math.fround(half[dBits]! * ((out[at + scalesAt + g]! << 24) >> 24));
        if (!d) continue;
        for (let l = 0; l < 16; l++) L[16 * g + l] = Math.max(-32, Math.min(31, nearestInt(x[16 * g + l]! / d))) + 32;
      }
      for (let n = 0; n < 2; n++) {
        const ql = at + 64 * n;
        const qh = at + qhAt + 32 * n;
        const j = 128 * n;
        for (let l = 0; l < 32; l++) {
          const a = L[j + l]!, b2 = L[j + l + 32]!, c = L[j + l + 64]!, e = L[j + l + 96]!;
          out[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
          out[ql + l + 32] = (b2 & 0xf) | ((e & 0xf) << 4);
          out[qh + l] = (a >> 4) | ((b2 >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
        }
      }
    }
  },
};
