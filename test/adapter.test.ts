/**
 * The adapter GGUF format (llama.cpp's llama-adapter.cpp is the reference): metadata keys and types, tensor
 * names, ggml shapes [n_in, r] / [r, n_out], F32, exact values back; and every mismatch with a base refused
 * with an error that says what does not fit, before llama.cpp sees it.
 */
import { readGgufFileInfo } from "node-llama-cpp";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AdapterMismatchError, GgufFormatError, MissingFileError } from "../src/errors.js";
import { checkAdapterFitsBase, readLoraAdapter, writeLoraAdapter, type LoraAdapterTensors } from "../src/gguf/adapter.js";
import { addLowRankUpdate } from "../src/gguf/mergeAdapter.js";
import { GgmlType, openGguf, writeGguf } from "../src/gguf/index.js";
import { tempDir, writeTrainableModel } from "./loraModels.js";

const dir = tempDir("adapter");
const basePath = path.join(dir, "base.gguf");

function pair(baseName: string, nIn: number, nOut: number, rank: number, seed: number) {
  const a = Float32Array.from({ length: rank * nIn }, (_, i) => Math.sin(seed + i));
  const b = Float32Array.from({ length: nOut * rank }, (_, i) => Math.cos(seed * 3 + i));
  return { baseName, rank, nIn, nOut, a, b };
}

/** An adapter on blk.0's q and ffn_down of the trainable model (E 64, q 64 → 64, down 128 → 64). */
const adapter: LoraAdapterTensors = {
  architecture: "llama",
  alpha: 12,
  pairs: [pair("blk.0.attn_q.weight", 64, 64, 4, 1), pair("blk.0.ffn_down.weight", 128, 64, 4, 2)],
};

beforeAll(async () => {
  await writeTrainableModel(basePath);
});

describe("writeLoraAdapter / readLoraAdapter", () => {
  it("writes what llama.cpp's loader expects and reads back the exact values", async () => {
    const file = path.join(dir, "a.gguf");
    await writeLoraAdapter(file, adapter);
    const info = await readGgufFileInfo(file);
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(meta.general!.type).toBe("adapter");
    expect(meta.general!.architecture).toBe("llama");
    expect(meta.adapter!.type).toBe("lora");
    expect((meta.adapter!.lora as Record<string, unknown>).alpha).toBe(12);
    const tensors = info.fullTensorInfo!.map((t) => ({ name: t.name, dims: t.dimensions.map(Number), type: t.ggmlType as number }));
    expect(tensors).toEqual([
      { name: "blk.0.attn_q.weight.lora_a", dims: [64, 4], type: GgmlType.F32 },
      { name: "blk.0.attn_q.weight.lora_b", dims: [4, 64], type: GgmlType.F32 },
      { name: "blk.0.ffn_down.weight.lora_a", dims: [128, 4], type: GgmlType.F32 },
      { name: "blk.0.ffn_down.weight.lora_b", dims: [4, 64], type: GgmlType.F32 },
    ]);
    const back = await readLoraAdapter(file);
    expect(back).toEqual(adapter);
  });

  it("refuses a full model, a half pair and a missing file", async () => {
    await expect(readLoraAdapter(basePath)).rejects.toThrow(/general\.type is .*, expected "adapter"/);
    const half = path.join(dir, "half.gguf");
    await writeGguf(half, {
      metadata: [
        { key: "general.architecture", type: "string", value: "llama" },
        { key: "general.type", type: "string", value: "adapter" },
        { key: "adapter.type", type: "string", value: "lora" },
      ],
      tensors: [{ name: "blk.0.attn_q.weight.lora_a", shape: [64, 4], type: GgmlType.F32, data: new Float32Array(256) }],
    });
    await expect(readLoraAdapter(half)).rejects.toThrow(GgufFormatError);
    await expect(readLoraAdapter(half)).rejects.toThrow(/missing its lora_b/);
    await expect(readLoraAdapter(path.join(dir, "absent.gguf"))).rejects.toThrow(MissingFileError);
  });
});

describe("checkAdapterFitsBase", () => {
  it("accepts the adapter on its base", async () => {
    expect(() => checkAdapterFitsBase(adapter, "a.gguf", base)).not.toThrow();
  });

  it("refuses another architecture, a tensor the base lacks, and other shapes, naming them", async () => {
    const fits = (a: LoraAdapterTensors) => () => checkAdapterFitsBase(a, "a.gguf", base);
    expect(fits({ ...adapter, architecture: "qwen2" })).toThrow(AdapterMismatchError);
    expect(fits({ ...adapter, architecture: "qwen2" })).toThrow(/adapter is for architecture "qwen2", the model is "llama"/);
    expect(fits({ ...adapter, pairs: [pair("blk.7.attn_q.weight", 64, 64, 4, 1)] })).toThrow(/no tensor "blk\.7\.attn_q\.weight"/);
    expect(fits({ ...adapter, pairs: [pair("blk.0.attn_q.weight", 128, 64, 4, 1)] })).toThrow(/"blk\.0\.attn_q\.weight" is \[64,64\] in the model but .* \[128, 64\]/);
  });

  let base: Awaited<ReturnType<typeof openGguf>>;
  beforeAll(async () => {
    base = await openGguf(basePath);
  });
});

describe("addLowRankUpdate", () => {
  it("adds scale · B·A to W [n_out][n_in]", () => {
    // W 2×3, A 1×3 (r = 1), B 2×1: W' = W + 0.5 · B·A
    const w = Float32Array.from([1, 2, 3, 4, 5, 6]);
    addLowRankUpdate(w, Float32Array.from([1, 0, -1]), Float32Array.from([2, 4]), 3, 2, 1, 0.5);
    expect([...w]).toEqual([2, 2, 2, 6, 5, 4]);
  });
});
