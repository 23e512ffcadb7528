/**
 * Truncated and hostile GGUF files: each is refused with a typed error naming the problem, before any
 * allocation sized by the file's claims, and without hanging (node-llama-cpp's reader alone would allocate
 * what a length field says and read zeros past the end of the file).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GgufFormatError, MissingFileError, UnsupportedModelError } from "../src/errors.js";
import { GgmlType, openGguf, tokenizerMetadataFrom, writeGguf } from "../src/gguf/index.js";
import { rawGguf, u32, u64, type RawGguf } from "./ggufRawFile.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-gguf-bad-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNumber = 0;
function fileWith(bytes: Buffer): string {
  const file = path.join(dir, `bad-${fileNumber++}.gguf`);
  writeFileSync(file, bytes);
  return file;
}

/** One F32 tensor of shape [8, 2] (64 bytes of data) at offset 0. */
function goodTensorFile(overrides: Partial<RawGguf> = {}): RawGguf {
  return {
    tensors: [{ name: "w", dims: [8n, 2n], type: GgmlType.F32, offset: 0n }],
    data: Buffer.alloc(64),
    ...overrides,
  };
}

async function expectFormatError(bytes: Buffer, pattern: RegExp): Promise<void> {
  const file = fileWith(bytes);
  const error = await openGguf(file).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GgufFormatError);
  expect((error as Error).message).toContain(file);
  expect((error as Error).message).toMatch(pattern);
}

describe("openGguf on bad files", () => {
  it("reads the well-formed base file (the cases below each break one thing)", async () => {
    const file = await openGguf(fileWith(rawGguf(goodTensorFile())));
    expect(file.tensors.map((t) => [t.name, t.shape, t.byteLength])).toEqual([["w", [8, 2], 64]]);
    expect(await file.readTensor("w")).toEqual(new Float32Array(16));
  });

  it("a missing file is a MissingFileError", async () => {
    await expect(openGguf(path.join(dir, "no-such.gguf"))).rejects.toBeInstanceOf(MissingFileError);
  });

  it("a directory, an empty file and a file shorter than the header are refused", async () => {
    const sub = path.join(dir, "a-directory.gguf");
    mkdirSync(sub);
    await expect(openGguf(sub)).rejects.toBeInstanceOf(GgufFormatError);
    await expectFormatError(Buffer.alloc(0), /shorter than the 24-byte GGUF header/);
    await expectFormatError(rawGguf(goodTensorFile()).subarray(0, 20), /shorter than the 24-byte/);
  });

  it("wrong magic", async () => {
    const bytes = rawGguf(goodTensorFile({ magic: "GGML" }));
    await expectFormatError(bytes, /expected the magic "GGUF".*"GGML"/);
    await expectFormatError(Buffer.from("{\"not\": \"a model\"}\n".repeat(4)), /expected the magic "GGUF"/);
  });

  it("GGUF v1 is refused by name; unknown versions too", async () => {
    await expectFormatError(rawGguf(goodTensorFile({ version: 1 })), /GGUF v1 is not supported/);
    await expectFormatError(rawGguf(goodTensorFile({ version: 7 })), /unsupported GGUF version 7/);
    await expectFormatError(rawGguf(goodTensorFile({ version: 0x03000000 })), /big-endian/);
  });

  it("truncated anywhere: in the metadata, in the tensor infos, in the tensor data", async () => {
    const whole = rawGguf(goodTensorFile());
    for (const cut of [30, 50, 70, whole.length - 64 - 8, whole.length - 1]) {
      await expectFormatError(whole.subarray(0, cut), /truncated/);
    }
  });

  it("absurd tensor count and metadata count", async () => {
    await expectFormatError(rawGguf(goodTensorFile({ tensorCount: 1n << 40n })), /claims 1099511627776 tensors/);
    await expectFormatError(rawGguf(goodTensorFile({ tensorCount: (1n << 64n) - 1n })), /claims 18446744073709551615 tensors/);
    await expectFormatError(rawGguf(goodTensorFile({ kvCount: 1n << 50n })), /claims 1125899906842624 metadata entries/);
  });

  it("absurd lengths inside the metadata: a huge string, a huge array, a huge string array", async () => {
    const hugeString = { key: "general.name", type: 8, value: Buffer.concat([u64(1n << 61n), Buffer.from("x")]) };
    await expectFormatError(rawGguf(goodTensorFile({ kvs: [hugeString] })), /general\.name.*2305843009213693952 bytes/);
    const hugeArray = { key: "tokenizer.ggml.scores", type: 9, value: Buffer.concat([u32(6), u64(1n << 60n)]) };
    await expectFormatError(rawGguf(goodTensorFile({ kvs: [hugeArray] })), /tokenizer\.ggml\.scores/);
    const hugeStrings = { key: "tokenizer.ggml.tokens", type: 9, value: Buffer.concat([u32(8), u64(1n << 40n)]) };
    await expectFormatError(rawGguf(goodTensorFile({ kvs: [hugeStrings] })), /claims 1099511627776 strings/);
    const hugeKey = Buffer.concat([u64(1n << 62n)]);
    const bytes = rawGguf(goodTensorFile({ kvs: [], kvCount: 1n }));
    // Splice a key whose length field is absurd where the first key would be.
    await expectFormatError(Buffer.concat([bytes.subarray(0, 24), hugeKey, Buffer.alloc(64)]), /key claims to be 4611686018427387904 bytes/);
  });

  it("unknown metadata value types and nested arrays", async () => {
    await expectFormatError(rawGguf(goodTensorFile({ kvs: [{ key: "x", type: 13, value: u32(0) }] })), /"x" has unknown value type id 13/);
    const nested = { key: "y", type: 9, value: Buffer.concat([u32(9), u64(1n), u32(4), u64(1n), u32(5)]) };
    await expectFormatError(rawGguf(goodTensorFile({ kvs: [nested] })), /array of arrays/);
  });

  it("tensor data offset past the end of the file, and misaligned", async () => {
    await expectFormatError(rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [8n, 2n], type: 0, offset: 1n << 20n }] })), /tensor "w".*past the end/);
    await expectFormatError(rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [8n, 2n], type: 0, offset: 32n }] })), /tensor "w".*past the end/);
    await expectFormatError(rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [4n], type: 0, offset: 4n }] })), /offset 4 is not a multiple of the alignment 32/);
  });

  it("absurd dimensions: zero, huge, too many", async () => {
    const withDims = (dims: bigint[]) => rawGguf(goodTensorFile({ tensors: [{ name: "w", dims, type: 0, offset: 0n }] }));
    await expectFormatError(withDims([8n, 0n]), /dimension 0 .* must be at least 1/);
    await expectFormatError(withDims([1n << 40n, 1n << 40n]), /absurdly large/);
    await expectFormatError(withDims([(1n << 64n) - 1n]), /absurdly large/);
    await expectFormatError(withDims([1n, 1n, 1n, 1n, 1n]), /5 dimensions/);
    await expectFormatError(withDims([]), /0 dimensions/);
  });

  it("unknown tensor type", async () => {
    await expectFormatError(rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [8n, 2n], type: 99, offset: 0n }] })), /tensor "w": unknown tensor type 99/);
    await expectFormatError(rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [8n, 2n], type: 31, offset: 0n }] })), /unknown tensor type 31/);
  });

  it("a quantized tensor whose rows are not whole blocks", async () => {
    const bytes = rawGguf(goodTensorFile({ tensors: [{ name: "w", dims: [100n, 1n], type: GgmlType.Q4_K, offset: 0n }], data: Buffer.alloc(256) }));
    await expectFormatError(bytes, /tensor "w": Q4_K stores blocks of 256 values, so shape\[0\] \(ne\[0\] = 100\) must be a multiple of 256/);
  });

  it("a general.alignment that is not a power of two", async () => {
    const kvs = [{ key: "general.alignment", type: 4, value: u32(48) }];
    await expectFormatError(rawGguf(goodTensorFile({ kvs })), /general\.alignment = 48 is not a power of two/);
  });
});

describe("well-formed files holding what llm2llm does not read", () => {
  it("opens a file with an IQ2_XXS tensor but refuses to read that tensor, naming type, tensor and what runs it", async () => {
    const bytes = rawGguf({ tensors: [{ name: "blk.0.ffn_up.weight", dims: [256n, 2n], type: GgmlType.IQ2_XXS, offset: 0n }], data: Buffer.alloc(2 * 66) });
    const file = await openGguf(fileWith(bytes));
    expect(file.tensor("blk.0.ffn_up.weight")?.byteLength).toBe(132);
    const error = await file.readTensor("blk.0.ffn_up.weight").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(/tensor "blk\.0\.ffn_up\.weight" has type IQ2_XXS, which llm2llm's student does not read \(it reads .*Q5_K.*\); llama\.cpp runs it/);
    await expect(file.readTensor("no.such.tensor")).rejects.toBeInstanceOf(UnsupportedModelError);
  });

  it("tokenizerMetadataFrom refuses a file without a tokenizer", async () => {
    await expect(tokenizerMetadataFrom(fileWith(rawGguf(goodTensorFile())))).rejects.toThrow(/no tokenizer/);
  });
});

describe("writeGguf refuses what llama.cpp could not read", () => {
  const write = (tensors: Parameters<typeof writeGguf>[1]["tensors"], metadata: Parameters<typeof writeGguf>[1]["metadata"] = []) =>
    writeGguf(path.join(dir, `written-${fileNumber++}.gguf`), { metadata, tensors });

  it("unsupported tensor types, partial blocks, shape/data mismatches, duplicate names", async () => {
    const data = new Float32Array(512);
    await expect(write([{ name: "w", shape: [256, 2], type: GgmlType.Q5_K, data }])).rejects.toThrow(/writing Q5_K is not supported/);
    await expect(write([{ name: "w", shape: [128, 4], type: GgmlType.Q6_K, data }])).rejects.toThrow(/must be a multiple of 256/);
    await expect(write([{ name: "w", shape: [16, 2], type: GgmlType.Q8_0, data: new Float32Array(32) }])).rejects.toThrow(/must be a multiple of 32/);
    await expect(write([{ name: "w", shape: [256, 3], type: GgmlType.F32, data }])).rejects.toThrow(/holds 768 values but data has 512/);
    await expect(write([{ name: "w", shape: [512], type: GgmlType.F32, data }, { name: "w", shape: [512], type: GgmlType.F32, data }])).rejects.toThrow(/duplicate tensor name "w"/);
    await expect(write([{ name: "x".repeat(64), shape: [512], type: GgmlType.F32, data }])).rejects.toThrow(/1 to 63 bytes/);
  });

  it("metadata values that do not fit their type", async () => {
    await expect(write([], [{ key: "a", type: "u8", value: 256 }])).rejects.toThrow(/"a": 256 is out of range for u8/);
    await expect(write([], [{ key: "a", type: "i32", value: 1.5 }])).rejects.toThrow(/expected an integer for i32/);
    await expect(write([], [{ key: "a", type: "string", value: 3 }])).rejects.toThrow(/expected a string/);
    await expect(write([], [{ key: "a", type: "array", arrayType: "u32", value: [1, -1] }])).rejects.toThrow(/"a"\[1\]: -1 is out of range for u32/);
    await expect(write([], [{ key: "a", type: "u32", value: 1 }, { key: "a", type: "u32", value: 2 }])).rejects.toThrow(/duplicate metadata key "a"/);
  });
});

