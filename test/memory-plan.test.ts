/**
 * The training memory plan (src/student/train/memoryPlan.ts): a 7B Q4_0 model held as stored blocks costs its
 * file size, as float32 seven times that; checkpointing goes on by itself where the kept activations would be
 * large; and a run that cannot fit is refused before loading — `train` exits non-zero with one line naming the
 * numbers and the flags that would fit, and writes nothing — instead of being killed by the kernel.
 * LLM2LLM_MEMORY_LIMIT stands in for a small machine.
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { GgmlType, ggmlTypeTraits, openGguf } from "../src/gguf/index.js";
import type { LlamaConfig } from "../src/student/config.js";
import { type MemoryPlanInput, planTrainingMemory, refuseUnlessFits } from "../src/student/train/memoryPlan.js";
import { planForFile } from "../src/student/train/planForFile.js";
import { runCli } from "./helpers/runCli.js";
import { eightExamples, tempDir, writeTrainableModel } from "./loraModels.js";

/** Llama-2-7B's hyper-parameters and tensor table in Q4_0 (norms F32), as a 3.8 GB file holds them. */
function llama7b(baseWeights: "stored" | "f32", batchSize: number, maxLength: number): MemoryPlanInput {
  const E = 4096, F = 11008, L = 32, V = 32000;
  const config: LlamaConfig = {
    architecture: "llama", nEmbd: E, nLayer: L, nHead: 32, nHeadKv: 32, headDimK: 128, headDimV: 128, nFf: F, nVocab: V, nCtxTrain: 4096,
    rmsEps: 1e-5, ropeFreqBase: 10000, nRot: 128, ropeFreqScale: 1, ropeType: "normal", tiedOutput: false, qkvBias: false, qkNorm: false,
  };
  const q4 = ggmlTypeTraits(GgmlType.Q4_0)!;
  const matrix = (name: string, nIn: number, nOut: number) => ({ name, shape: [nIn, nOut], type: GgmlType.Q4_0, byteLength: ((nIn * nOut) / q4.blockSize) * q4.typeSize });
  const vector = (name: string, n: number) => ({ name, shape: [n], type: GgmlType.F32, byteLength: 4 * n });
  const tensors = [matrix("token_embd.weight", E, V), matrix("output.weight", E, V), vector("output_norm.weight", E)];
  const loraShapes: [number, number][] = [];
  for (let l = 0; l < L; l++) {
    for (const [name, nIn, nOut] of [["attn_q", E, E], ["attn_k", E, E], ["attn_v", E, E], ["attn_output", E, E], ["ffn_gate", E, F], ["ffn_up", E, F], ["ffn_down", F, E]] as const) {
      tensors.push(matrix(`blk.${l}.${name}.weight`, nIn, nOut));
      loraShapes.push([nOut, nIn]);
    }
    tensors.push(vector(`blk.${l}.attn_norm.weight`, E), vector(`blk.${l}.ffn_norm.weight`, E));
  }
  return { config, tensors, baseWeights, rank: 8, loraShapes, batchSize, maxLength, checkpoint: "auto", fusedBlocks: true };
}

const gib = 2 ** 30;
const plenty = { bytes: 24 * gib, source: "test" };

describe("training memory plan", () => {
  it("a 7B Q4_0 model: stored blocks cost the file's size, float32 seven times more; checkpointing turns itself on", () => {
    const stored = planTrainingMemory(llama7b("stored", 8, 256), plenty);
    const f32 = planTrainingMemory(llama7b("f32", 8, 256), plenty);
    expect(stored.weightsBytes / gib).toBeGreaterThan(3.5);
    expect(stored.weightsBytes / gib).toBeLessThan(3.8);
    expect(f32.weightsBytes / stored.weightsBytes).toBeGreaterThan(7);
    expect(stored.checkpoint).toBe(true); // 32 blocks × ~190 MB kept activations at 8 × 256 tokens
    expect(stored.peakBytes / gib).toBeLessThan(8); // the bound for this run
    expect(stored.fits).toBe(true);
    expect(f32.fits).toBe(false); // 27 GB of float32 weights on a 24 GB machine
    const withoutCheckpoint = planTrainingMemory({ ...llama7b("stored", 8, 256), checkpoint: "off" }, plenty);
    expect(withoutCheckpoint.activationBytes).toBeGreaterThan(4 * stored.activationBytes);
  });

  it("a plan that does not fit is refused with its numbers and changes that fit", () => {
    const input = llama7b("f32", 8, 256);
    const plan = planTrainingMemory(input, plenty);
    expect(() => refuseUnlessFits(input, plan, "training 7b.gguf")).toThrow(/training 7b\.gguf does not fit in memory: peak \d+\.\d\d GiB of 24\.00 GiB .*base weights 2\d\.\d\d GiB.*would fit: --base-weights stored/);
    const small = planTrainingMemory(llama7b("stored", 8, 256), { bytes: 5 * gib, source: "test" });
    expect(small.fits).toBe(false);
    expect(() => refuseUnlessFits(llama7b("stored", 8, 256), small, "x")).toThrow(/--batch \d|--max-len \d|no single change/);
  });

  it("on WebGPU every tensor of a step must fit the adapter's largest buffer", () => {
    const limited = planTrainingMemory({ ...llama7b("stored", 8, 256), maxDeviceBufferBytes: 256 * 2 ** 20 }, plenty);
    expect(limited.largestTensorBytes).toBe(32000 * 4096 * 4); // output.weight dequantized for its product
    expect(limited.fits).toBe(false);
    expect(() => refuseUnlessFits({ ...llama7b("stored", 8, 256), maxDeviceBufferBytes: 256 * 2 ** 20 }, limited, "x")).toThrow(/largest tensor 0\.49 GiB of the GPU adapter's 0\.25 GiB buffer limit/);
    expect(planTrainingMemory({ ...llama7b("stored", 8, 256), maxDeviceBufferBytes: 2 ** 30 }, plenty).fits).toBe(true);
  });
});

describe("llm2llm train refuses before loading", () => {
  const dir = tempDir("memory-plan");
  const model = path.join(dir, "base.gguf");
  const data = path.join(dir, "train.jsonl");
  beforeAll(async () => {
    await writeTrainableModel(model);
    writeFileSync(data, eightExamples.map((e) => JSON.stringify(e)).join("\n") + "\n");
  });

  it("plans checkpointing as LLM2LLM_CHECKPOINT (what run --checkpoint sets) asks, for the dry run as for the training", async () => {
    const file = await openGguf(model);
    const before = process.env.LLM2LLM_CHECKPOINT;
    try {
      for (const request of ["on", "off"] as const) {
        process.env.LLM2LLM_CHECKPOINT = request;
        expect(planForFile(file, { batchSize: 8, maxLength: 32 }).input.checkpoint).toBe(request);
      }
    } finally {
      if (before === undefined) delete process.env.LLM2LLM_CHECKPOINT;
      else process.env.LLM2LLM_CHECKPOINT = before;
    }
  });

  it("exits non-zero with one line naming the numbers, and writes no adapter", async () => {
    const out = path.join(dir, "adapter.gguf");
    const run = await runCli(["train", "--model", model, "--data", data, "--out", out], {
      cwd: dir, killAfterMs: 120_000, env: { ...process.env, LLM2LLM_MEMORY_LIMIT: String(64 * 2 ** 20) },
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/does not fit in memory: peak \d+\.\d\d GiB of 0\.06 GiB available \(LLM2LLM_MEMORY_LIMIT\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(out)).toBe(false);
  });
});
