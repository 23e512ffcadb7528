/**
 * LoRA fine-tuning end to end on small gemma2, gemma3 and phi3 models (test/loraModels.ts's trainable model in
 * those architectures): 8 examples overfit to near-zero completion loss, and the trained student answers all 8
 * greedily through both engines, tfjs and llama.cpp with the exported GGUF adapter. phi3's adapter sits on its
 * fused tensors, named as llama.cpp names them (blk.N.attn_qkv.weight.lora_a, blk.N.ffn_up.weight.lora_b, ...).
 */
import * as tf from "@tensorflow/tfjs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeLoraAdapter } from "../src/gguf/adapter.js";
import { openGguf } from "../src/gguf/index.js";
import { evaluateExamples } from "../src/student/evaluate/evaluateExamples.js";
import { LlamaCppStudentGenerator } from "../src/student/evaluate/LlamaCppStudentGenerator.js";
import { TfjsStudentGenerator } from "../src/student/evaluate/TfjsStudentGenerator.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { tokenizeExamples } from "../src/student/train/trainingData.js";
import { trainLora } from "../src/student/train/trainLora.js";
import { eightExamples, tempDir, writeTrainableModel } from "./loraModels.js";

const dir = tempDir("lora-architectures");
const greedy = { maxTokens: 8, temperature: 0 };
const expected = eightExamples.map((e) => e.completion.trim());

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("LoRA overfit on 8 examples, other architectures", () => {
  for (const architecture of ["gemma2", "gemma3", "phi3"] as const) {
    it(`${architecture}: loss near zero; tfjs and llama.cpp with the exported adapter answer all 8`, async () => {
      const modelPath = path.join(dir, `${architecture}.gguf`);
      const adapterPath = path.join(dir, `${architecture}.adapter.gguf`);
      // gemma ties its output to the embedding, as Google's models do (and llama.cpp's gemma2 graph always does), and
      // caps the logits at 30 as gemma2 does: the trainable model's logits reach tens, which a cap of 12 would flatten.
      const gemma = architecture !== "phi3";
      await writeTrainableModel(modelPath, { architecture, seed: 12, ...(gemma ? { tiedOutput: true, finalLogitSoftcap: 30 } : {}) });
      const model = await StudentModel.fromGguf(await openGguf(modelPath));
      const tokenizer = await StudentTokenizer.load(modelPath);
      try {
        const examples = tokenizeExamples(eightExamples, tokenizer, 64).examples;
        const trained = await trainLora(model, examples, { epochs: 40, batchSize: 8, learningRate: 1e-2, warmupRatio: 0.05, seed: 3 });
        try {
          const losses = trained.lossCurve.map((p) => p.loss);
          console.log(`${architecture} overfit: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(4)} in ${losses.length} steps`);
          expect(losses[0]).toBeGreaterThan(1);
          expect(losses.at(-1)).toBeLessThan(0.05);

          const tfjs = await evaluateExamples(new TfjsStudentGenerator(model, tokenizer, trained.adapter), eightExamples, greedy);
          expect(tfjs.predictions.map((p) => p.output.trim())).toEqual(expected);

          const tensors = await trained.adapter.toTensors(model.config.architecture);
          const names = tensors.pairs.filter((p) => p.baseName.startsWith("blk.0.")).map((p) => p.baseName);
          expect(names).toEqual(
            architecture === "phi3"
              ? ["blk.0.attn_qkv.weight", "blk.0.attn_output.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight"]
              : ["q", "k", "v", "output", "gate", "up", "down"].map((n) => `blk.0.${n.length === 1 ? `attn_${n}` : n === "output" ? "attn_output" : `ffn_${n}`}.weight`),
          );
          await writeLoraAdapter(adapterPath, tensors);
          const generator = await LlamaCppStudentGenerator.load({ modelPath, adapterPath, parallel: 4, contextSize: 128 });
          try {
            const llama = await evaluateExamples(generator, eightExamples, greedy);
            expect(llama.predictions.map((p) => p.output.trim())).toEqual(expected);
          } finally {
            await generator.dispose();
          }
        } finally {
          trained.adapter.dispose();
        }
      } finally {
        model.dispose();
        await tokenizer.dispose();
      }
    }, 300_000);
  }
});
