/**
 * The native quantized-weight kernels (native/src/quant, native/src/gemm/gemm_quant.cc) against this project's
 * TypeScript decoders (bit-exact with llama.cpp, test/gguf-quant-llamacpp.test.ts) and the float32 GEMM:
 *  - dequantizeRows gives the TS decoder's floats bit for bit (random bytes, so every scale pattern: NaN-aware);
 *  - matMulQuantized gives matMul / matMulAccumulate on the dequantized W bit for bit: both orientations, =, +=
 *    and bias, odd sizes that take the float path's narrow / shallow / threaded routes, 1 and 2 threads, every
 *    micro-kernel family this CPU runs;
 *  - bad arguments throw TypeError / RangeError; mapFile reads a file back, and W read through it (or any view
 *    with a byteOffset) gives the same results.
 * The addon is built by `npm install`; missing, these tests fail (LLM2LLM_NATIVE_OPTIONAL=1 skips them).
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NativeAddon } from "../src/backend/nativeAddon.js";
import { nativeAddon } from "../src/backend/nativeKernels.js";
import { GgmlType, ggmlTypeName, ggmlTypeTraits } from "../src/gguf/ggmlType.js";
import { codecFor, decoderFor, floatToHalf } from "../src/gguf/quant/index.js";
import { setUpNativeKernels } from "./helpers/nativeKernelSetup.js";

const { registered, optional, defaultThreads } = await setUpNativeKernels("native-quant-gemm");

const allTypes = [
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
  GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
];

/** Byte offsets of each block's f16 scales (d, dmin, ...): random bytes there could be NaN or infinite. */
const halfOffsets: Partial<Record<GgmlType, number[]>> = {
  [GgmlType.Q4_0]: [0], [GgmlType.Q4_1]: [0, 2], [GgmlType.Q5_0]: [0], [GgmlType.Q5_1]: [0, 2], [GgmlType.Q8_0]: [0],
  [GgmlType.IQ4_NL]: [0], [GgmlType.Q2_K]: [80, 82], [GgmlType.Q3_K]: [108], [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2], [GgmlType.Q6_K]: [208], [GgmlType.IQ4_XS]: [0],
};

const blockSize = (type: GgmlType) => ggmlTypeTraits(type)!.blockSize;
const rowBytes = (type: GgmlType, cols: number) => (cols / blockSize(type)) * ggmlTypeTraits(type)!.typeSize;

function randomFloats(count: number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (Math.random() * 2 - 1) * scale;
  return out;
}

function randomBytes(count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(Math.random() * 256);
  return out;
}

/**
 * A valid W of `rows` x `cols` with finite values: random floats through the project's quantizer where it has one,
 * else random blocks whose f16 scales are set to finite values.
 */
function finiteWeight(type: GgmlType, rows: number, cols: number): Uint8Array {
  const codec = codecFor(type);
  if (codec) {
    const out = new Uint8Array(rows * rowBytes(type, cols));
    codec.quantize(randomFloats(rows * cols), out);
    return out;
  }
  const out = randomBytes(rows * rowBytes(type, cols));
  const { typeSize } = ggmlTypeTraits(type)!;
  for (let at = 0; at < out.length; at += typeSize) {
    for (const offset of halfOffsets[type]!) {
      const h = floatToHalf((Math.random() * 2 - 1) * 0.05);
      out[at + offset] = h & 0xff;
      out[at + offset + 1] = h >> 8;
    }
  }
  return out;
}

function tsDequantize(type: GgmlType, w: Uint8Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  decoderFor(type)!.dequantize(w, out);
  return out;
}

/** Where `actual` and `expected` first differ in bits (NaN-aware: any NaN matches any NaN), or undefined. */
function firstDifference(actual: Float32Array, expected: Float32Array, nanAware = false) {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === e[i]) continue;
    if (nanAware && Number.isNaN(actual[i]) && Number.isNaN(expected[i])) continue;
    return { index: i, actual: actual[i], expected: expected[i], actualBits: a[i]!.toString(16), expectedBits: e[i]!.toString(16) };
  }
  return undefined;
}

/** matMulQuantized against the float GEMM on the TS-dequantized W, bit for bit, in every mode. */
function checkProduct(addon: NativeAddon, type: GgmlType, m: number, wRows: number, wCols: number, transposeW: boolean) {
  const w = finiteWeight(type, wRows, wCols);
  const wf = tsDequantize(type, w, wRows, wCols);
  const [n, k] = transposeW ? [wRows, wCols] : [wCols, wRows];
  const a = randomFloats(m * k);
  const bias = randomFloats(n);
  const start = randomFloats(m * n);
  const label = `${ggmlTypeName(type)} m ${m}, W ${wRows}x${wCols}${transposeW ? "ᵀ" : ""}, ${addon.gemmIsa()}, ${addon.threads()} threads`;
  for (const mode of ["assign", "bias", "accumulate"] as const) {
    const expected = mode === "accumulate" ? start.slice() : new Float32Array(m * n);
    if (mode === "accumulate") addon.matMulAccumulate(a, wf, expected, m, n, k, false, transposeW);
    else addon.matMul(a, wf, expected, 1, 1, 1, m, n, k, false, transposeW, mode === "bias" ? bias : null, 0, 0, null);
    const actual = mode === "accumulate" ? start.slice() : randomFloats(m * n); // "assign" must overwrite
    addon.matMulQuantized(a, w, type, wRows, wCols, actual, m, transposeW, mode === "accumulate", mode === "bias" ? bias : null);
    expect(firstDifference(actual, expected), `${label} ${mode}`).toBeUndefined();
  }
}

/** Shapes per block size: odd m (1 takes the float path's transposed-narrow route), n off the tile, k over KC. */
function shapes(type: GgmlType): { m: number; wRows: number; wCols: number; transposeW: boolean }[] {
  const wide = blockSize(type) === 256 ? 256 * 3 : blockSize(type) === 32 ? 32 * 5 : 161;
  const deep = blockSize(type) === 256 ? 256 * 3 : blockSize(type) === 32 ? 32 * 9 : 300; // past one KC block of 256
  return [
    { m: 1, wRows: 77, wCols: wide, transposeW: true },
    { m: 37, wRows: 45, wCols: deep, transposeW: true },
    { m: 37, wRows: 45, wCols: wide, transposeW: true },
    { m: 64, wRows: 300, wCols: wide, transposeW: true }, // wide: split by columns over threads
    { m: 1, wRows: 300, wCols: wide, transposeW: false },
    { m: 37, wRows: 45, wCols: wide, transposeW: false },
    { m: 70, wRows: 8, wCols: wide, transposeW: false }, // k = 8: the float path's shallow route
    { m: 29, wRows: 261, wCols: blockSize(type) === 256 ? 512 : 320, transposeW: false },
    // One 256-block wide: 2 threads split it at column 128, so slices start and end inside a block.
    { m: 40, wRows: 300, wCols: blockSize(type) === 256 ? 256 : 96, transposeW: false },
  ];
}

describe("native addon (quantized kernels)", () => {
  it.skipIf(optional && !registered.ok)("is built", () => {
    expect(registered.ok ? "ok" : registered.reason).toBe("ok");
  });
});

describe.skipIf(!registered.ok)("native quantized weights", () => {
  const addon = nativeAddon()!;
  afterAll(() => addon.setThreads(defaultThreads));

  it("decodes every listed type", () => {
    expect([...addon.quantizedTypes()].sort((x, y) => x - y)).toEqual([...allTypes].sort((x, y) => x - y));
  });

  it("dequantizeRows equals the TypeScript decoders bit for bit (random bytes: every scale, NaN and inf included)", () => {
    for (const type of allTypes) {
      const rows = 6;
      const cols = blockSize(type) === 1 ? 1000 : blockSize(type) * 7;
      const w = randomBytes(rows * rowBytes(type, cols));
      const expected = tsDequantize(type, w, rows, cols);
      const all = new Float32Array(rows * cols);
      addon.dequantizeRows(w, type, rows, cols, Int32Array.from({ length: rows }, (_, i) => i), all);
      expect(firstDifference(all, expected, true), ggmlTypeName(type)).toBeUndefined();
      // Picked rows, repeated and out of order.
      const ids = Int32Array.from([4, 0, 4, 5]);
      const picked = new Float32Array(ids.length * cols);
      addon.dequantizeRows(w, type, rows, cols, ids, picked);
      const pickedExpected = new Float32Array(ids.length * cols);
      ids.forEach((id, i) => pickedExpected.set(expected.subarray(id * cols, (id + 1) * cols), i * cols));
      expect(firstDifference(picked, pickedExpected, true), `${ggmlTypeName(type)} picked rows`).toBeUndefined();
    }
  });

  it("decodes every f16 bit pattern exactly (subnormals, infinities; NaN stays NaN)", () => {
    const w = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) [w[2 * h], w[2 * h + 1]] = [h & 0xff, h >> 8];
    const out = new Float32Array(65536);
    addon.dequantizeRows(w, GgmlType.F16, 1, 65536, Int32Array.of(0), out);
    expect(firstDifference(out, tsDequantize(GgmlType.F16, w, 1, 65536), true)).toBeUndefined();
    expect(out[0x0001]).toBe(2 ** -24);
    expect(out[0x7c00]).toBe(Infinity);
    expect(Number.isNaN(out[0xfe00])).toBe(true);
  });

  it("dequantizeRows and matMulQuantized read a Uint8Array view at a byteOffset", () => {
    const type = GgmlType.Q4_K;
    const [rows, cols] = [9, 512];
    const w = finiteWeight(type, rows, cols);
    const backing = new Uint8Array(w.length + 10);
    backing.set(w, 3);
    const view = backing.subarray(3, 3 + w.length);
    const out = new Float32Array(rows * cols);
    addon.dequantizeRows(view, type, rows, cols, Int32Array.from({ length: rows }, (_, i) => i), out);
    expect(firstDifference(out, tsDequantize(type, w, rows, cols))).toBeUndefined();
    const a = randomFloats(5 * cols);
    const [fromView, fromCopy] = [new Float32Array(5 * rows), new Float32Array(5 * rows)];
    addon.matMulQuantized(a, view, type, rows, cols, fromView, 5, true, false, null);
    addon.matMulQuantized(a, w, type, rows, cols, fromCopy, 5, true, false, null);
    expect(firstDifference(fromView, fromCopy)).toBeUndefined();
  });

  it("matMulQuantized equals matMul / matMulAccumulate on the dequantized W bit for bit (1 and 2 threads)", () => {
    for (const threads of [1, 2]) {
      addon.setThreads(threads);
      for (const type of allTypes) for (const s of shapes(type)) checkProduct(addon, type, s.m, s.wRows, s.wCols, s.transposeW);
    }
  });

  it("matMulQuantized is bit-exact with every micro-kernel family this CPU runs", () => {
    const keyOf: Record<string, "avx512" | "avx2" | "portable"> = { "AVX-512 FMA": "avx512", "AVX2 FMA": "avx2", portable: "portable" };
    const original = keyOf[addon.gemmIsa()]!;
    addon.setThreads(2);
    try {
      for (const isa of ["avx512", "avx2", "portable"] as const) {
        if (!addon.selectGemmIsa(isa)) continue;
        for (const type of [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16])
          for (const s of shapes(type)) checkProduct(addon, type, s.m, s.wRows, s.wCols, s.transposeW);
        // Wide enough for several column blocks and slices, deeper than one KC block.
        checkProduct(addon, GgmlType.Q4_K, 40, 2100, 512, true);
        checkProduct(addon, GgmlType.Q4_K, 40, 512, 2304, false);
      }
    } finally {
      addon.selectGemmIsa(original);
    }
  });

  it("rejects bad arguments with TypeError / RangeError", () => {
    const type = GgmlType.Q4_0;
    const [rows, cols, m] = [4, 64, 3];
    const w = finiteWeight(type, rows, cols);
    const a = randomFloats(m * cols);
    const c = new Float32Array(m * rows);
    const call = (over: Partial<{ a: Float32Array; w: unknown; type: number; rows: number; cols: number; c: Float32Array; m: number; accumulate: boolean; bias: Float32Array | null }>) =>
      () =>
        addon.matMulQuantized(
          over.a ?? a, (over.w ?? w) as Uint8Array, over.type ?? type, over.rows ?? rows, over.cols ?? cols, over.c ?? c,
          over.m ?? m, true, over.accumulate ?? false, over.bias === undefined ? null : over.bias,
        );
    expect(call({})).not.toThrow();
    expect(call({ w: w.subarray(1) })).toThrow(RangeError);
    expect(call({ w: new Uint8Array(w.length + 18) })).toThrow(/w has 162 bytes, expected 144/);
    expect(call({ w: new Float32Array(w.length / 4) })).toThrow(TypeError);
    expect(call({ type: GgmlType.Q8_K })).toThrow(TypeError);
    expect(call({ type: 99 })).toThrow(/wType 99 is not a ggml type/);
    expect(call({ cols: 48 })).toThrow(/not a multiple of Q4_0's block of 32/);
    expect(call({ rows: -4 })).toThrow(RangeError);
    expect(call({ rows: 4.5 })).toThrow(RangeError);
    expect(call({ a: randomFloats(m * cols - 1) })).toThrow(/a has 191 elements, expected 192/);
    expect(call({ c: new Float32Array(m * rows + 1) })).toThrow(RangeError);
    expect(call({ m: -1 })).toThrow(RangeError);
    expect(call({ bias: new Float32Array(rows + 1) })).toThrow(/bias has 5 elements, expected 4/);
    expect(call({ bias: new Float32Array(rows), accumulate: true })).toThrow(TypeError);
    expect(() => (addon.matMulQuantized as (...args: unknown[]) => void)(a, w, type)).toThrow(/expected 10 arguments/);

    const out = new Float32Array(2 * cols);
    expect(() => addon.dequantizeRows(w, type, rows, cols, Int32Array.of(0, 3), out)).not.toThrow();
    expect(() => addon.dequantizeRows(w, type, rows, cols, Int32Array.of(0, rows), out)).toThrow(/rowIds\[1\] = 4 is outside W's 4 rows/);
    expect(() => addon.dequantizeRows(w, type, rows, cols, Int32Array.of(-1, 0), out)).toThrow(RangeError);
    expect(() => addon.dequantizeRows(w, type, rows, cols, Int32Array.of(0), out)).toThrow(/out has 128 elements, expected 64/);
    expect(() => addon.dequantizeRows(w, type, rows, cols, Float32Array.of(0, 1) as unknown as Int32Array, out)).toThrow(TypeError);
    expect(() => addon.dequantizeRows(w.subarray(2), type, rows, cols, Int32Array.of(0, 1), out)).toThrow(RangeError);
  });

  describe("mapFile", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "llm2llm-mapfile-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("maps a file read-only and reads back its bytes", () => {
      const bytes = randomBytes(3 * 4096 + 123);
      const file = path.join(dir, "bytes.bin");
      writeFileSync(file, bytes);
      const mapped = addon.mapFile(file);
      expect(mapped).toBeInstanceOf(ArrayBuffer);
      expect(mapped.byteLength).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(mapped), Buffer.from(bytes))).toBe(0);
      const empty = path.join(dir, "empty.bin");
      writeFileSync(empty, new Uint8Array(0));
      expect(addon.mapFile(empty).byteLength).toBe(0);
    });

    it("serves quantized weights from the mapping at an unaligned offset", () => {
      const type = GgmlType.Q6_K;
      const [rows, cols] = [33, 512];
      const w = finiteWeight(type, rows, cols);
      const file = path.join(dir, "weights.bin");
      writeFileSync(file, Buffer.concat([Buffer.from("header!"), Buffer.from(w)]));
      const view = new Uint8Array(addon.mapFile(file), 7, w.length);
      const a = randomFloats(11 * cols);
      const [mapped, heap] = [new Float32Array(11 * rows), new Float32Array(11 * rows)];
      addon.matMulQuantized(a, view, type, rows, cols, mapped, 11, true, false, null);
      addon.matMulQuantized(a, w, type, rows, cols, heap, 11, true, false, null);
      expect(firstDifference(mapped, heap)).toBeUndefined();
    });

    it("throws the system's reason for a missing file or a directory", () => {
      expect(() => addon.mapFile(path.join(dir, "missing.bin"))).toThrow(/cannot open .*missing\.bin.*No such file/);
      mkdirSync(path.join(dir, "sub"));
      expect(() => addon.mapFile(path.join(dir, "sub"))).toThrow(/not a regular file/);
      expect(() => (addon.mapFile as (p: unknown) => ArrayBuffer)(42)).toThrow(TypeError);
    });
  });
});
