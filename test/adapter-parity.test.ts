/**
 * Adapter parity (DESIGN.md §4): after real training (B ≠ 0), llama.cpp running the base with the exported
 * GGUF adapter and the tfjs student with the same LoRA weights agree on next-token distributions (mean KL <
 * 1e-3, argmax ≥ 99%, ≥ 64 positions), for random llama, qwen2, qwen3, gemma2, gemma3 and phi3 models and for
 * llama-2-tiny-random.gguf (F16, written by others). The merged GGUF in llama.cpp agrees with base + adapter in
 * llama.cpp to the same bounds. Each case also checks that the adapter moves the distribution by far more
 * than the bounds, so a dropped, transposed or mis-scaled adapter cannot pass.
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import { beforeAll, describe, it } from "vitest";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import { adapterParity } from "./helpers/adapterParity.js";
import { tempDir, writeParityModel } from "./loraModels.js";

const dir = tempDir("adapter-parity");

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("adapter parity: llama.cpp + GGUF adapter vs tfjs + LoRA, and merged export", () => {
  // phi3's adapters sit on its fused attn_qkv and ffn_up tensors.
  for (const architecture of ["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"] as const) {
    it(`random ${architecture}`, async () => {
      await adapterParity(architecture, await writeParityModel(path.join(dir, `${architecture}.gguf`), architecture), dir);
    });
  }
});

describe.skipIf(skipWithout("fixtures"))("adapter parity on a GGUF written by others", () => {
  it("llama-2-tiny-random.gguf (F16)", async () => {
    await adapterParity("llama-2-tiny-random", tinyRandomLlama, dir);
  });
});

