/**
 * IEEE half precision (ggml_fp16_t) <-> float32, bit-exact with ggml: decoding is a 65536-entry table,
 * encoding is ggml's portable `ggml_compute_fp32_to_fp16` (round to nearest even), carried out in float32
 * arithmetic with Math.fround so every intermediate rounds as it does in C.
 */
import { GgmlType } from "../ggmlType.js";
import type { TensorCodec } from "./codec.js";

let halfTable: Float32Array | undefined;

/** float32 value of every half bit pattern. */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24; // subnormal (or zero)
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

export function halfToFloat(h: number): number {
  return halfToFloatTable()[h & 0xffff]!;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

function floatOfBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

const scaleToInf = 2 ** 112;
const scaleToZero = 2 ** -110;

/** Half bit pattern of a float32 value, rounded to nearest even (ggml's fp32 -> fp16). */
export function floatToHalf(x: number): number {
  const fx = Math.fround(x);
  let base = Math.fround(Math.fround(Math.abs(fx) * scaleToInf) * scaleToZero);
  const w = bitsOf(fx);
  const shl1W = (w * 2) >>> 0; // w + w as uint32
  const sign = w & 0x80000000;
  let bias = (shl1W & 0xff000000) >>> 0;
  if (bias < 0x71000000) bias = 0x71000000;
  base = Math.fround(floatOfBits((bias >>> 1) + 0x07800000) + base);
  const bits = bitsOf(base);
  const exponentBits = (bits >>> 13) & 0x00007c00;
  const mantissaBits = bits & 0x00000fff;
  const nonSign = exponentBits + mantissaBits;
  return ((sign >>> 16) | (shl1W > 0xff000000 ? 0x7e00 : nonSign)) & 0xffff;
}

/** The float32 value `x` becomes after a round trip through half precision. */
export function roundToHalf(x: number): number {
  return halfToFloat(floatToHalf(x));
}

export const f16Codec: TensorCodec = {
  type: GgmlType.F16,
  blockSize: 1,
  typeSize: 2,
  dequantize(src, out) {
    const table = halfToFloatTable();
    for (let i = 0, o = 0; i < out.length; i++, o += 2) out[i] = table[src[o]! | (src[o + 1]! << 8)]!;
  },
  quantize(src, out) {
    for (let i = 0, o = 0; i < src.length; i++, o += 2) {
      const h = floatToHalf(src[i]!);
      out[o] = h & 0xff;
      out[o + 1] = h >> 8;
    }
  },
};
