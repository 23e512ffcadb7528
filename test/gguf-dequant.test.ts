/**
 * Dequantizers against hand-built blocks whose values are known from the block layouts of ggml-common.h,
 * written out here byte by byte (not with the project's quantizers).
 */
import { describe, expect, it } from "vitest";
import { codecFor, floatToHalf, GgmlType, halfToFloat } from "../src/gguf/index.js";

function decode(type: GgmlType, bytes: number[] | Uint8Array): Float32Array {
  const codec = codecFor(type)!;
  const src = Uint8Array.from(bytes);
  const out = new Float32Array((src.length / codec.typeSize) * codec.blockSize);
  codec.dequantize(src, out);
  return out;
}

const half = (h: number) => [h & 0xff, h >> 8];

describe("F16 and BF16 bit patterns", () => {
  it("decode known halves, including subnormals, infinities and negative zero", () => {
    expect(Array.from(decode(GgmlType.F16, [...half(0x3c00), ...half(0xc000), ...half(0x0001), ...half(0x7bff), ...half(0x7c00), ...half(0x8000)])))
      .toEqual([1, -2, 2 ** -24, 65504, Infinity, -0]);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
  });

  it("encode to the nearest half, ties to even, overflow to infinity", () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie between 0x3c00 and 0x3c01: even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie between 0x3c01 and 0x3c02: even
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect(floatToHalf(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal: even
    expect(floatToHalf(-3 * 2 ** -25)).toBe(0x8002);
    expect(floatToHalf(NaN) & 0x7e00).toBe(0x7e00);
  });

  it("BF16 decodes the top half of a float32 and encodes rounding to nearest even", () => {
    expect(Array.from(decode(GgmlType.BF16, [...half(0x3f80), ...half(0xc040), ...half(0x0001)]))).toEqual([1, -3, 2 ** -133]);
    const codec = codecFor(GgmlType.BF16)!;
    const out = new Uint8Array(6);
    codec.quantize(Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, -65536 * 1.5), out);
    expect(Array.from(new Uint16Array(out.buffer))).toEqual([0x3f80, 0x3f82, 0xc7c0]);
  });
});

describe("Q8_0: half d, 32 int8", () => {
  it("value = q * d", () => {
    const qs = Array.from({ length: 32 }, (_, j) => j * 8 - 128); // -128 .. 120
    const y = decode(GgmlType.Q8_0, [...half(0x3800), ...qs.map((q) => q & 0xff)]); // d = 0.5
    expect(Array.from(y)).toEqual(qs.map((q) => q * 0.5));
  });
});

describe("Q4_0: half d, 16 bytes of nibbles (low = value j, high = value j + 16)", () => {
  it("value = (q - 8) * d", () => {
    const qs = Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4));
    const y = decode(GgmlType.Q4_0, [...half(0x4000), ...qs]); // d = 2
    const expected = [...Array.from({ length: 16 }, (_, j) => (j - 8) * 2), ...Array.from({ length: 16 }, (_, j) => (15 - j - 8) * 2)];
    expect(Array.from(y)).toEqual(expected);
  });
});

describe("Q4_K: half d, half dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles", () => {
  it("value i of group g = d * scale[g] * q - dmin * min[g]", () => {
    const scale = [1, 2, 3, 4, 17, 33, 50, 63];
    const min = [0, 5, 9, 12, 16, 31, 48, 62];
    const packed = new Array<number>(12).fill(0);
    for (let j = 0; j < 4; j++) {
      // groups 0-3: low 6 bits of bytes 0-3 (scale) and 4-7 (min); groups 4-7: nibbles of bytes 8-11 plus the top two bits of bytes 0-7
      packed[j] = scale[j]! | ((scale[j + 4]! >> 4) << 6);
      packed[j + 4] = min[j]! | ((min[j + 4]! >> 4) << 6);
      packed[j + 8] = (scale[j + 4]! & 0xf) | ((min[j + 4]! & 0xf) << 4);
    }
    const q = (i: number) => (i * 5 + 3) % 16;
    const qs = new Array<number>(128).fill(0);
    for (let i = 0; i < 256; i++) {
      const chunk = Math.floor(i / 64);
      const inChunk = i % 64;
      qs[32 * chunk + (inChunk % 32)]! |= inChunk < 32 ? q(i) : q(i) << 4;
    }
    const d = 0.25;
    const dmin = 0.125;
    const y = decode(GgmlType.Q4_K, [...half(floatToHalf(d)), ...half(floatToHalf(dmin)), ...packed, ...qs]);
    for (let i = 0; i < 256; i++) {
      const g = Math.floor(i / 32);
      expect([i, y[i]]).toEqual([i, d * scale[g]! * q(i) - dmin * min[g]!]);
    }
  });
});

describe("Q6_K: ql[128], qh[64], int8 scales[16], half d", () => {
  it("value i of group g = d * scale[g] * (q - 32), q a 6-bit number", () => {
    const scale = Array.from({ length: 16 }, (_, g) => g * 9 - 70);
    const q = (i: number) => (i * 7 + 1) % 64;
    const ql = new Array<number>(128).fill(0);
    const qh = new Array<number>(64).fill(0);
    for (let i = 0; i < 256; i++) {
      const halfIndex = Math.floor(i / 128); // each half of 128 values has 64 ql bytes and 32 qh bytes
      const quarter = Math.floor((i % 128) / 32);
      const l = i % 32;
      const qlByte = 64 * halfIndex + l + (quarter % 2 === 1 ? 32 : 0);
      ql[qlByte]! |= quarter < 2 ? q(i) & 0xf : (q(i) & 0xf) << 4;
      qh[32 * halfIndex + l]! |= (q(i) >> 4) << (2 * quarter);
    }
    const d = 0.5;
    const y = decode(GgmlType.Q6_K, [...ql, ...qh, ...scale.map((s) => s & 0xff), ...half(floatToHalf(d))]);
    for (let i = 0; i < 256; i++) expect([i, y[i]]).toEqual([i, d * scale[Math.floor(i / 16)]! * (q(i) - 32)]);
  });
});

describe("quantizers write the blocks above", () => {
  it("Q8_0 and Q4_0 reproduce exactly representable values", () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => (j % 16) - 8); // whole numbers in [-8, 7]; amax 8 at j = 0
    for (const type of [GgmlType.Q8_0, GgmlType.Q4_0]) {
      const codec = codecFor(type)!;
      const bytes = new Uint8Array(codec.typeSize);
      codec.quantize(x, bytes);
      const y = decode(type, bytes);
      if (type === GgmlType.Q4_0) expect(y).toEqual(x); // d = -8 / -8 = 1: every level is exact
      else for (let j = 0; j < 32; j++) expect(Math.abs(y[j]! - x[j]!)).toBeLessThanOrEqual((8 / 127) * (0.5 + 127 * 2 ** -11));
    }
  });

  it("an all-zero block decodes to zeros in every type", () => {
    for (const type of [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K]) {
      const codec = codecFor(type)!;
      const bytes = new Uint8Array(codec.typeSize).fill(0xaa);
      codec.quantize(new Float32Array(codec.blockSize), bytes);
      expect(Array.from(decode(type, bytes)).every((v) => v === 0)).toBe(true);
    }
  });
});
