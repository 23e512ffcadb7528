/** Reading tensors from someone else's GGUF (the shared tiny llama) and writing / reading back our own. */
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { checkGgufFile, GgmlType, halfToFloat, openGguf, writeGguf } from "../src/gguf/index.js";
import { skipWithout, tinyRandomLlama, vocabDir } from "./fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-gguf-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(skipWithout("fixtures"))("the shared llama-2-tiny-random.gguf", () => {
  it("lists its 12 tensors: 9 F16 matrices and 3 F32 norms, in ggml order", async () => {
    const file = await openGguf(tinyRandomLlama);
    expect(file.architecture).toBe("llama");
    expect(file.version).toBe(3);
    expect(file.tensors).toHaveLength(12);
    expect(file.tensors.filter((t) => t.type === GgmlType.F16)).toHaveLength(9);
    expect(file.tensors.filter((t) => t.type === GgmlType.F32)).toHaveLength(3);
    expect(file.tensor("token_embd.weight")?.shape).toEqual([8, 32000]);
    expect(file.tensor("blk.0.ffn_down.weight")?.shape).toEqual([32, 8]);
    expect((file.metadata.llama as { attention: { head_count: number } }).attention.head_count).toBe(2);
  });

  it("reads F16 and F32 tensors equal to a by-hand decode of the file's bytes", async () => {
    const file = await openGguf(tinyRandomLlama);
    const bytes = await readFile(tinyRandomLlama);
    for (const name of ["token_embd.weight", "blk.0.ffn_down.weight", "output_norm.weight"]) {
      const info = file.tensor(name)!;
      const values = await file.readTensor(name);
      const n = info.shape.reduce((a, b) => a * b, 1);
      expect(values.length).toBe(n);
      for (let i = 0; i < n; i += info.type === GgmlType.F16 ? 97 : 1) {
        const expected = info.type === GgmlType.F16 ? halfToFloat(bytes.readUInt16LE(info.fileOffset + 2 * i)) : bytes.readFloatLE(info.fileOffset + 4 * i);
        expect(values[i]).toBe(expected);
      }
    }
  });
});

describe("writing F32 and F16 tensors", () => {
  it("reads back through readGgufFileInfo and openGguf", async () => {
    const file = path.join(dir, "plain.gguf");
    const a = Float32Array.from({ length: 6 * 4 }, (_, i) => i * 0.25 - 3);
    const b = Float32Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i));
    await writeGguf(file, {
      metadata: [{ key: "general.architecture", type: "string", value: "llama" }],
      tensors: [
        { name: "a", shape: [6, 4], type: GgmlType.F32, data: a },
        { name: "b", shape: [5, 3], type: GgmlType.F16, data: b },
      ],
    });
    const info = await readGgufFileInfo(file, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(info.tensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([["a", [6, 4], 0], ["b", [5, 3], 1]]);
    for (const t of info.tensorInfo ?? []) expect(Number(t.fileOffset) % 32).toBe(0);
    const read = await openGguf(file);
    expect(read.architecture).toBe("llama");
    expect(await read.readTensor("a")).toEqual(a);
    const bBack = await read.readTensor("b");
    for (let i = 0; i < b.length; i++) expect(Math.abs(bBack[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(b[i]!) * 2 ** -11);
  });
});

describe.skipIf(skipWithout("fixtures"))("the size check walks large metadata", () => {
  // Regression: the walk read a field from its 1 MiB window before refilling it, so a length that straddled
  // the window's end came out as garbage and ggml-vocab-gpt-2.gguf (merges past 1 MiB) was called truncated.
  it("accepts every vocabulary GGUF, whose tokenizer arrays span several read windows", async () => {
    const { readdirSync } = await import("node:fs");
    for (const name of readdirSync(vocabDir).filter((f) => f.endsWith(".gguf"))) {
      const summary = await checkGgufFile(path.join(vocabDir, name));
      expect([name, summary.tensorCount]).toEqual([name, 0]);
    }
  });
});
