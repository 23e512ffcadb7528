/**
 * Writer round trips: every metadata value type (scalars and arrays of each) and every tensor type written by
 * writeGguf reads back identical through node-llama-cpp's readGgufFileInfo and through openGguf.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { codecFor, flattenMetadata, GgmlType, ggufMetadataEntry, openGguf, tokenizerMetadataFrom, writeGguf, type GgufMetadataEntry } from "../src/gguf/index.js";
import { skipWithout, vocabDir } from "./fixtures.js";
import { seededRandom } from "./ggufTinyLlama.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-gguf-writer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each scalar type at its edges; node-llama-cpp returns 64-bit integers as bigint. */
const scalars: { entry: GgufMetadataEntry; readBack: unknown }[] = [
  { entry: { key: "t.u8", type: "u8", value: 255 }, readBack: 255 },
  { entry: { key: "t.i8", type: "i8", value: -128 }, readBack: -128 },
  { entry: { key: "t.u16", type: "u16", value: 65535 }, readBack: 65535 },
  { entry: { key: "t.i16", type: "i16", value: -32768 }, readBack: -32768 },
  { entry: { key: "t.u32", type: "u32", value: 4294967295 }, readBack: 4294967295 },
  { entry: { key: "t.i32", type: "i32", value: -2147483648 }, readBack: -2147483648 },
  { entry: { key: "t.u64", type: "u64", value: 18446744073709551615n }, readBack: 18446744073709551615n },
  { entry: { key: "t.i64", type: "i64", value: -9223372036854775808n }, readBack: -9223372036854775808n },
  { entry: { key: "t.u64small", type: "u64", value: 7 }, readBack: 7n },
  { entry: { key: "t.f32", type: "f32", value: 0.1 }, readBack: Math.fround(0.1) },
  { entry: { key: "t.f64", type: "f64", value: 0.1 }, readBack: 0.1 },
  { entry: { key: "t.bool", type: "bool", value: true }, readBack: true },
  { entry: { key: "t.boolf", type: "bool", value: false }, readBack: false },
  { entry: { key: "t.string", type: "string", value: "héllo ✓ 🦙\n\"q\"" }, readBack: "héllo ✓ 🦙\n\"q\"" },
  { entry: { key: "t.empty", type: "string", value: "" }, readBack: "" },
];

const arrays: { entry: GgufMetadataEntry; readBack: unknown }[] = [
  { entry: { key: "a.u8", type: "array", arrayType: "u8", value: [0, 1, 255] }, readBack: [0, 1, 255] },
  { entry: { key: "a.i8", type: "array", arrayType: "i8", value: [-128, 0, 127] }, readBack: [-128, 0, 127] },
  { entry: { key: "a.u16", type: "array", arrayType: "u16", value: [0, 65535] }, readBack: [0, 65535] },
  { entry: { key: "a.i16", type: "array", arrayType: "i16", value: [-32768, 32767] }, readBack: [-32768, 32767] },
  { entry: { key: "a.u32", type: "array", arrayType: "u32", value: Uint32Array.of(1, 4294967295) }, readBack: [1, 4294967295] },
  { entry: { key: "a.i32", type: "array", arrayType: "i32", value: Int32Array.of(-2147483648, 2147483647) }, readBack: [-2147483648, 2147483647] },
  { entry: { key: "a.u64", type: "array", arrayType: "u64", value: [0n, 18446744073709551615n] }, readBack: [0n, 18446744073709551615n] },
  { entry: { key: "a.i64", type: "array", arrayType: "i64", value: [-9223372036854775808n, 5] }, readBack: [-9223372036854775808n, 5n] },
  { entry: { key: "a.f32", type: "array", arrayType: "f32", value: Float32Array.of(-1.5, 3.25e-8) }, readBack: [-1.5, Math.fround(3.25e-8)] },
  { entry: { key: "a.f64", type: "array", arrayType: "f64", value: [Math.PI, -0.1] }, readBack: [Math.PI, -0.1] },
  { entry: { key: "a.bool", type: "array", arrayType: "bool", value: [true, false, true] }, readBack: [true, false, true] },
  { entry: { key: "a.string", type: "array", arrayType: "string", value: ["", "▁the", "<0x0A>", "日本"] }, readBack: ["", "▁the", "<0x0A>", "日本"] },
  { entry: { key: "a.empty", type: "array", arrayType: "u32", value: [] }, readBack: [] },
];

describe("metadata round trip", () => {
  it("every scalar type and an array of every type reads back identical", async () => {
    const file = path.join(dir, "metadata.gguf");
    const all = [...scalars, ...arrays];
    await writeGguf(file, { metadata: [{ key: "general.architecture", type: "string", value: "llama" }, ...all.map((c) => c.entry)], tensors: [] });
    const info = await readGgufFileInfo(file, { logWarnings: false });
    expect(info.version).toBe(3);
    const flat = flattenMetadata(info.metadata as unknown as Record<string, unknown>);
    for (const c of all) expect([c.entry.key, flat[c.entry.key]]).toEqual([c.entry.key, c.readBack]);
    const opened = await openGguf(file);
    expect(opened.tensors).toEqual([]);
    expect(flattenMetadata(opened.metadata)).toEqual(flat);
    // A vocabulary-only file is padded to the alignment, as gguf.cpp writes it.
    expect(statSync(file).size % 32).toBe(0);
  });

  it("honours general.alignment: every tensor starts at a multiple of it", async () => {
    const file = path.join(dir, "aligned.gguf");
    const tensors = [1, 3, 5].map((n, i) => ({ name: `t${i}`, shape: [n], type: GgmlType.F32, data: new Float32Array(n).fill(i) }));
    await writeGguf(file, { metadata: [], tensors, alignment: 64 });
    const info = await readGgufFileInfo(file, { logWarnings: false });
    expect(flattenMetadata(info.metadata as unknown as Record<string, unknown>)["general.alignment"]).toBe(64);
    for (const t of info.tensorInfo ?? []) expect(Number(t.fileOffset) % 64).toBe(0);
    const opened = await openGguf(file);
    for (const [i, t] of tensors.entries()) expect(await opened.readTensor(`t${i}`)).toEqual(t.data);
  });

  it("ggufMetadataEntry gives llama.cpp's types for known keys", () => {
    expect(ggufMetadataEntry("llama.context_length", 4096)).toMatchObject({ type: "u32" });
    expect(ggufMetadataEntry("qwen2.attention.layer_norm_rms_epsilon", 1e-6)).toMatchObject({ type: "f32" });
    expect(ggufMetadataEntry("qwen3.rope.freq_base", 1000000)).toMatchObject({ type: "f32" });
    expect(ggufMetadataEntry("tokenizer.ggml.token_type", [1, 2])).toMatchObject({ type: "array", arrayType: "i32" });
    expect(ggufMetadataEntry("tokenizer.ggml.scores", [0, -1])).toMatchObject({ type: "array", arrayType: "f32" });
    expect(ggufMetadataEntry("tokenizer.ggml.padding_token_id", 0)).toMatchObject({ type: "u32" });
    expect(ggufMetadataEntry("adapter.lora.alpha", 16)).toMatchObject({ type: "f32" });
    expect(ggufMetadataEntry("my.own", -3)).toMatchObject({ type: "i32" });
  });
});

describe.skipIf(skipWithout("fixtures"))("tokenizer metadata copied from the vocabulary GGUFs", () => {
  for (const name of ["ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-phi-3.gguf"]) {
    it(`${name}: every tokenizer.* key, typed as llama.cpp expects, survives a write`, async () => {
      const source = path.join(vocabDir, name);
      const entries = await tokenizerMetadataFrom(source);
      const types = Object.fromEntries(entries.map((e) => [e.key, e.arrayType ? `${e.arrayType}[]` : e.type]));
      expect(types["tokenizer.ggml.model"]).toBe("string");
      expect(types["tokenizer.ggml.tokens"]).toBe("string[]");
      expect(types["tokenizer.ggml.token_type"]).toBe("i32[]");
      expect(types["tokenizer.ggml.bos_token_id"]).toBe("u32");
      if (name.includes("spm")) expect(types["tokenizer.ggml.scores"]).toBe("f32[]");
      if (name.includes("gpt-2")) expect(types["tokenizer.ggml.merges"]).toBe("string[]");
      if (name.includes("phi-3")) expect(types["tokenizer.chat_template"]).toBe("string");
      const copy = path.join(dir, `copy-${name}`);
      await writeGguf(copy, { metadata: [{ key: "general.architecture", type: "string", value: "llama" }, ...entries], tensors: [] });
      const original = flattenMetadata((await readGgufFileInfo(source, { logWarnings: false })).metadata as unknown as Record<string, unknown>);
      const copied = flattenMetadata((await readGgufFileInfo(copy, { logWarnings: false })).metadata as unknown as Record<string, unknown>);
      for (const key of Object.keys(original).filter((k) => k.startsWith("tokenizer."))) expect([key, copied[key]]).toEqual([key, original[key]]);
    });
  }
});

/** Largest error each type may make on values of magnitude up to `amax` in one block (ggml's schemes). */
const tensorCases: { type: GgmlType; ne0: number; check: (x: Float32Array, y: Float32Array, blockSize: number) => void }[] = [
  { type: GgmlType.F32, ne0: 40, check: (x, y) => expect(y).toEqual(x) },
  { type: GgmlType.F16, ne0: 40, check: (x, y) => x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25)) },
  { type: GgmlType.BF16, ne0: 40, check: (x, y) => x.forEach((v, i) => expect(Math.abs(y[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8)) },
  // Q8_0: q = round(x / d), d = amax / 127 stored in half precision.
  { type: GgmlType.Q8_0, ne0: 64, check: (x, y, bs) => perBlock(x, y, bs, (amax) => (amax / 127) * (0.5 + 127 * 2 ** -11) + 1e-7) },
  // Q4_0: 16 levels of d = max / -8; the top level is clamped away, costing at most one step.
  { type: GgmlType.Q4_0, ne0: 64, check: (x, y, bs) => perBlock(x, y, bs, (amax) => (amax / 8) * (1 + 8 * 2 ** -11) + 1e-7) },
  // K-quants: the scale search minimises a weighted error, so bound the relative RMS error.
  { type: GgmlType.Q4_K, ne0: 512, check: (x, y) => expect(relativeRms(x, y)).toBeLessThan(0.09) },
  { type: GgmlType.Q6_K, ne0: 512, check: (x, y) => expect(relativeRms(x, y)).toBeLessThan(0.02) },
];

function perBlock(x: Float32Array, y: Float32Array, blockSize: number, bound: (amax: number) => number): void {
  for (let b = 0; b < x.length; b += blockSize) {
    let amax = 0;
    for (let i = b; i < b + blockSize; i++) amax = Math.max(amax, Math.abs(x[i]!));
    for (let i = b; i < b + blockSize; i++) expect(Math.abs(y[i]! - x[i]!)).toBeLessThanOrEqual(bound(amax));
  }
}

function relativeRms(x: Float32Array, y: Float32Array): number {
  let error = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    error += (y[i]! - x[i]!) ** 2;
    norm += x[i]! ** 2;
  }
  return Math.sqrt(error / norm);
}

describe("tensor round trip", () => {
  for (const c of tensorCases) {
    it(`${GgmlType[c.type]}: read back equals dequant(quant(x)), within the type's error bound`, async () => {
      const rows = 3;
      // Mixed magnitudes per row, an all-zero block and one outlier, so scales differ between blocks.
      const x = seededRandom(c.type + 11, c.ne0 * rows, 1);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * (1 + Math.floor(i / 256)) * 0.3;
      x.fill(0, c.ne0, c.ne0 + Math.min(c.ne0, 256));
      x[5] = 7.5;
      const file = path.join(dir, `tensor-${GgmlType[c.type]}.gguf`);
      await writeGguf(file, { metadata: [], tensors: [{ name: "w", shape: [c.ne0, rows], type: c.type, data: x }, { name: "tail", shape: [3], type: GgmlType.F32, data: Float32Array.of(1, 2, 3) }] });
      const info = await readGgufFileInfo(file, { logWarnings: false });
      expect(info.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([["w", [c.ne0, rows], c.type], ["tail", [3], 0]]);
      const codec = codecFor(c.type)!;
      const bytes = new Uint8Array((x.length / codec.blockSize) * codec.typeSize);
      codec.quantize(x, bytes);
      const expected = new Float32Array(x.length);
      codec.dequantize(bytes, expected);
      const opened = await openGguf(file);
      expect(opened.tensor("w")).toMatchObject({ shape: [c.ne0, rows], type: c.type, byteLength: bytes.length });
      const y = await opened.readTensor("w");
      expect(y).toEqual(expected);
      c.check(x, y, codec.blockSize);
      expect(await opened.readTensor("tail")).toEqual(Float32Array.of(1, 2, 3));
    });
  }
});
