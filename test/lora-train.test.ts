/**
 * LoRA fine-tuning end to end on a small llama (test/loraModels.ts): 8 examples overfit to near-zero
 * completion loss, every base tensor stays bit-identical, the trained student answers all 8 greedily through
 * both engines (tfjs, and llama.cpp with the exported GGUF adapter), llama.cpp with N parallel sequences
 * answers exactly as with one, and the adapter read back gives the same LoRA weights.
 */
import * as tf from "@tensorflow/tfjs";
import { float32Weight } from "../src/student/StoredMatrix.js";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLoraAdapter, writeLoraAdapter } from "../src/gguf/adapter.js";
import { openGguf } from "../src/gguf/index.js";
import { evaluateExamples } from "../src/student/evaluate/evaluateExamples.js";
import { LlamaCppStudentGenerator } from "../src/student/evaluate/LlamaCppStudentGenerator.js";
import { TfjsStudentGenerator } from "../src/student/evaluate/TfjsStudentGenerator.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { tokenizeExamples, type TokenizedExample } from "../src/student/train/trainingData.js";
import { trainLora, type TrainLoraResult } from "../src/student/train/trainLora.js";
import { eightExamples, tempDir, writeTrainableModel } from "./loraModels.js";

const dir = tempDir("lora-train");
const modelPath = path.join(dir, "base.gguf");
const adapterPath = path.join(dir, "adapter.gguf");
const greedy = { maxTokens: 8, temperature: 0 };

let model: StudentModel;
let tokenizer: StudentTokenizer;
let examples: TokenizedExample[];
let before: Map<string, Float32Array>;
let trained: TrainLoraResult;

/** Every base tensor's values, by name. */
function baseTensors(m: StudentModel): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const add = (name: string, t: tf.Tensor | undefined) => t && out.set(name, (t.dataSync() as Float32Array).slice());
  add("token_embd", float32Weight(m.weights.tokenEmbd));
  add("output_norm", m.weights.outputNorm);
  add("output", float32Weight(m.weights.output.weight));
  m.weights.blocks.forEach((b, i) => {
    for (const [key, value] of Object.entries(b)) {
      if (value instanceof tf.Tensor) add(`blk.${i}.${key}`, value);
      else if (value && "weight" in value) {
        add(`blk.${i}.${key}.weight`, value.weight);
        add(`blk.${i}.${key}.bias`, value.bias);
      }
    }
  });
  return out;
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  await writeTrainableModel(modelPath);
  model = await StudentModel.fromGguf(await openGguf(modelPath));
  tokenizer = await StudentTokenizer.load(modelPath);
  examples = tokenizeExamples(eightExamples, tokenizer, 64).examples;
  before = baseTensors(model);
  trained = await trainLora(model, examples, { epochs: 40, batchSize: 8, learningRate: 1e-2, warmupRatio: 0.05, seed: 3 });
  await writeLoraAdapter(adapterPath, await trained.adapter.toTensors(model.config.architecture));
});

afterAll(async () => {
  trained?.adapter.dispose();
  model?.dispose();
  await tokenizer?.dispose();
});

describe("LoRA overfit on 8 examples", () => {
  it("drives the completion loss near zero", () => {
    const losses = trained.lossCurve.map((p) => p.loss);
    expect(losses[0]).toBeGreaterThan(1);
    expect(losses.at(-1)).toBeLessThan(0.05);
  });

  it("changes no base tensor, bit for bit", () => {
    const after = baseTensors(model);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    expect(after.size).toBeGreaterThan(20);
    for (const [name, values] of before) {
      expect(Buffer.from(after.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
    }
  });

  it("answers all 8 greedily with the tfjs student", async () => {
    const generator = new TfjsStudentGenerator(model, tokenizer, trained.adapter);
    const { summary, predictions } = await evaluateExamples(generator, eightExamples, greedy);
    expect(predictions.map((p) => p.output.trim())).toEqual(eightExamples.map((e) => e.completion.trim()));
    expect(summary.accuracy).toBe(1);
  });

  it("answers all 8 greedily in llama.cpp with the exported adapter", async () => {
    const generator = await LlamaCppStudentGenerator.load({ modelPath, adapterPath, parallel: 4, contextSize: 128 });
    try {
      const { summary, predictions } = await evaluateExamples(generator, eightExamples, greedy);
      expect(predictions.map((p) => p.output.trim())).toEqual(eightExamples.map((e) => e.completion.trim()));
      expect(summary.accuracy).toBe(1);
    } finally {
      await generator.dispose();
    }
  });

  it("gives the same greedy answers with 4 parallel sequences as with one at a time", async () => {
    // Unseen prompts too, so the answers are not all the memorised ones.
    const prompts = [...eightExamples.map((e) => e.prompt), "What is 9 plus 2?", "Say hello.", "3 plus 4 is", "Why?"];
    const outputs = [];
    for (const parallel of [1, 4]) {
      const generator = await LlamaCppStudentGenerator.load({ modelPath, adapterPath, parallel, contextSize: 128 });
      try {
        outputs.push(await generator.generate(prompts, { maxTokens: 12, temperature: 0 }));
      } finally {
        await generator.dispose();
      }
    }
    expect(outputs[1]).toEqual(outputs[0]);
  });

  it("reads the adapter back with the same weights, scale and logits", async () => {
    const read = await readLoraAdapter(adapterPath);
    const loaded = LoraAdapter.fromTensors(read);
    try {
      expect(loaded.scale).toBe(trained.adapter.scale);
      const original = (await trained.adapter.toTensors("llama")).pairs;
      read.pairs.forEach((p, i) => {
        expect(p.baseName).toBe(original[i]!.baseName);
        expect(Buffer.from(p.a.buffer).equals(Buffer.from(original[i]!.a.buffer))).toBe(true);
        expect(Buffer.from(p.b.buffer).equals(Buffer.from(original[i]!.b.buffer))).toBe(true);
      });
      const tokens = [examples[0]!.ids];
      const [x, y] = [trained.adapter, loaded].map((a) => model.forward(tokens, { lora: a.forwardMap() }));
      expect(Buffer.from(x!.dataSync().buffer).equals(Buffer.from(y!.dataSync().buffer))).toBe(true);
      tf.dispose([x!, y!]);
    } finally {
      loaded.dispose();
    }
  });
});

describe("seeded training", () => {
  it("is reproducible with the same seed (dropout included) and differs with another", async () => {
    const run = async (seed: number) => {
      const r = await trainLora(model, examples, { epochs: 3, batchSize: 3, learningRate: 1e-2, seed, lora: { rank: 4, alpha: 8, dropout: 0.1, targets: ["q", "v", "down"] } });
      const out = { losses: r.lossCurve.map((p) => p.loss), weights: (await r.adapter.toTensors("llama")).pairs.map((p) => [...p.a, ...p.b]) };
      r.adapter.dispose();
      return out;
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    expect(a.losses.length).toBe(9);
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
  });
});
