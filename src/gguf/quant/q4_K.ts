/**
 * Q4_K (block_q4_K, 144 bytes per 256 values): half d, half dmin, 12 bytes packing eight 6-bit scales and
 * eight 6-bit mins, then 128 bytes of 4-bit quants. The 256 values are 8 groups of 32; group g has
 * value = d * scale[g] * q - dmin * min[g]. Bytes 32c..32c+31 hold group 2c in their low nibbles and group
 * 2c + 1 in their high nibbles. Quantizer: ggml's quantize_row_q4_K_ref (make_qkx2_quants per group).
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";
import { floatToHalf, halfToFloatTable } from "./f16.js";
import { makeQkx2Quants } from "./kQuantSearch.js";
import { nearestInt } from "./rounding.js";

const QK_K = 256;
const blockBytes = 144;
const scalesAt = 4;
const qsAt = 16;

/** get_scale_min_k4: the 6-bit scale and min of group j from the 12 packed bytes at `s`. */
export function scaleMinK4(src: Uint8Array, s: number, j: number): [number, number] {
  if (j < 4) return [src[s + j]! & 63, src[s + j + 4]! & 63];
  return [(src[s + j + 4]! & 0xf) | ((src[s + j - 4]! >> 6) << 4), (src[s + j + 4]! >> 4) | ((src[s + j]! >> 6) << 4)];
}

export const q4_KCodec: TensorCodec = {
  type: GgmlType.Q4_K,
  blockSize: QK_K,
  typeSize: blockBytes,
  dequantize(src, out) {
    const half = halfToFloatTable();
    const blocks = out.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const at = b * blockBytes;
      const d = half[src[at]! | (src[at + 1]! << 8)]!;
      const dmin = half[src[at + 2]! | (src[at + 3]! << 8)]!;
      let y = b * QK_K;
      for (let c = 0; c < 4; c++) {
        const q = at + qsAt + 32 * c;
        const [sc1, m1] = scaleMinK4(src, at + scalesAt, 2 * c);
        const [sc2, m2] = scaleMinK4(src, at + scalesAt, 2 * c + 1);
        // float arithmetic as in C: each product rounded to float32 before the subtraction.
        const d1 = Math.fround(d * sc1), min1 = Math.fround(dmin * m1);
        const d2 = Math.fround(d * sc2), min2 = Math.fround(dmin * m2);
        for (let l = 0; l < 32; l++) out[y + l] = Math.fround(d1 * (src[q + l]! & 0xf)) - min1;
        for (let l = 0; l < 32; l++) out[y + 32 + l] = Math.fround(d2 * (src[q + l]! >> 4)) - min2;
        y += 64;
      }
    }
  },
  quantize(src, out) {
    const L = new Uint8Array(QK_K);
    const laux = new Uint8Array(32);
    const weights = new Float32Array(32);
    const scales = new Float32Array(8);
    const mins = new Float32Array(8);
    const half = halfToFloatTable();
    const blocks = src.length / QK_K;
    for (let b = 0; b < blocks; b++) {
      const x = src.subarray(b * QK_K, (b + 1) * QK_K);
      const at = b * blockBytes;
      out.fill(0, at, at + blockBytes);
      let maxScale = 0;
      let maxMin = 0;
      for (let j = 0; j < 8; j++) {
        const group = x.subarray(32 * j, 32 * j + 32);
        let sumX2 = 0;
        for (let l = 0; l < 32; l++) sumX2 += group[l]! * group[l]!;
        const avX = Math.sqrt(sumX2 / 32);
        for (let l = 0; l < 32; l++) weights[l] = avX + Math.abs(group[l]!);
        const { scale, min } = makeQkx2Quants(32, 15, group, weights, L.subarray(32 * j, 32 * j + 32), laux, -1, 0.1, 20);
        scales[j] = scale;
        mins[j] = min;
        maxScale = Math.max(maxScale, scale);
        maxMin = Math.max(maxMin, min);
      }
      const invScale = maxScale > 0 ? 63 / maxScale : 0;
      const invMin = maxMin > 0 ? 63 / maxMin : 0;
      const s = at + scalesAt;
      for (let j = 0; j < 8; j++) {
        // uint8_t of nearest_int, then at most 63 (as ggml does).
        const ls = Math.min(63, nearestInt(invScale * scales[j]!) & 0xff);
        const lm = Math.min(63, nearestInt(invMin * mins[j]!) & 0xff);
        if (j < 4) {
          out[s + j] = ls;
          out[s + j + 4] = lm;
        } else {
          out[s + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
          out[s + j - 4]! |= (ls >> 4) << 6;
          out[s + j]! |= (lm >> 4) << 6;
        }
      }
      const dBits = floatToHalf(maxScale / 63);
      const dminBits = floatToHalf(maxMin / 63);
      out[at] = dBits & 0xff;
      out[at + 1] = dBits >> 8;
      out[at + 2] = dminBits & 0xff;
      out[at + 3] = dminBits >> 8;
      // Requantize against the scales as stored (6-bit, half precision), so decoding sees what was chosen.
      for (let j = 0; j < 8; j++) {
        const [sc, m] = scaleMinK4(out, s, j);
        const d = Math.fround(half[dBits]! * sc);
        if (!d) continue;
        const dm = Math.fround(half[dminBits]! * m);
        for (let l = 0; l < 32; l++) L[32 * j + l] = Math.max(0, Math.min(15, nearestInt((x[32 * j + l]! + dm) / d)));
      }
      for (let c = 0; c < 4; c++) {
        const q = at + qsAt + 32 * c;
        for (let l = 0; l < 32; l++) out[q + l] = L[64 * c + l]! | (L[64 * c + 32 + l]! << 4);
      }
    }
  },
};
