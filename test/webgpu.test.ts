/**
 * The student on the webgpu backend (tfjs-backend-webgpu on Dawn), here on SwiftShader, a CPU Vulkan driver
 * (test/helpers/webgpuSetup.ts): forward parity with llama.cpp (DESIGN.md §4 bounds) for random llama / qwen2 /
 * qwen3 / gemma3 / phi3 models in F32 and Q8_0, KV-cache greedy generation equal to llama.cpp's, LoRA gradients equal to the
 * cpu backend's (dropout and the masked loss included), an overfit whose exported adapter llama.cpp runs to the
 * same logits and answers, a flat live tensor count over 100 steps, and GPU memory given back on dispose.
 * Small shapes throughout: SwiftShader runs a GPU's work on the CPU.
 */
import * as tf from "@tensorflow/tfjs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeLoraAdapter } from "../src/gguf/adapter.js";
import { GgmlType, openGguf } from "../src/gguf/index.js";
import type { Architecture } from "../src/student/config.js";
import { evaluateExamples } from "../src/student/evaluate/evaluateExamples.js";
import { LlamaCppStudentGenerator } from "../src/student/evaluate/LlamaCppStudentGenerator.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { loraTargets } from "../src/student/lora/loraTargets.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { makeBatch } from "../src/student/train/batches.js";
import { LoraTrainer } from "../src/student/train/LoraTrainer.js";
import { maskedCrossEntropy } from "../src/student/train/maskedCrossEntropy.js";
import { tokenizeExamples } from "../src/student/train/trainingData.js";
import { trainLora } from "../src/student/train/trainLora.js";
import { vocabDir } from "./fixtures.js";
import {
  checkParity, describeParity, llamaCppGreedy, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsGreedy,
} from "./helpers/parity.js";
import { paritySpec, randomModelSource, writeRandomModel } from "./helpers/randomModel.js";
import { runCli } from "./helpers/runCli.js";
import { setUpWebGpuForTests } from "./helpers/webgpuSetup.js";
import { eightExamples, tempDir, toyVocab, writeTrainableModel } from "./loraModels.js";

const setup = await setUpWebGpuForTests();
if (!setup.ok) console.warn(`webgpu tests ${setup.reason}`);
else console.log(`tfjs backend: ${setup.report.description}`);
const noWebGpu = !setup.ok;
const dir = tempDir("webgpu");
/** Per-test limit: SwiftShader compiles each new shader on the CPU (about a second each on a busy machine). */
const slow = 300_000;

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(noWebGpu)("webgpu backend", () => {
  it("is the forced choice and names its adapter", () => {
    if (!setup.ok) return;
    expect(setup.report.choice).toBe("webgpu");
    expect(setup.report.tfjsBackend).toBe("webgpu");
    expect(tf.getBackend()).toBe("webgpu");
    const adapter = setup.report.webgpuAdapter!;
    expect(adapter.vendor.length).toBeGreaterThan(0);
    expect(["vulkan", "metal", "d3d12"]).toContain(adapter.dawnBackend);
    expect(setup.report.description).toContain(adapter.name);
    if (/swiftshader/i.test(adapter.architecture)) {
      expect(adapter.software).toBe(true);
      expect(setup.report.description).toMatch(/not GPU speed/);
    }
  });

  it("`doctor --json` names the adapter and, unforced, skips a software one, saying why", async () => {
    if (!setup.ok) return;
    const env = { ...process.env };
    delete env.LLM2LLM_BACKEND;
    const run = await runCli(["doctor", "--json"], { env });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { student: { choice: string; skipped: { choice: string; reason: string }[] }; webgpu: { adapter?: { name: string; software: boolean } } };
    expect(report.webgpu.adapter?.name).toBe(setup.report.webgpuAdapter!.name);
    if (report.webgpu.adapter?.software) {
      expect(report.student.choice).not.toBe("webgpu");
      expect(report.student.skipped.find((s) => s.choice === "webgpu")?.reason).toMatch(/software adapter.*LLM2LLM_BACKEND=webgpu forces it/);
    } else {
      expect(["gpu", "webgpu"]).toContain(report.student.choice); // a hardware adapter is taken unless CUDA is
    }
  }, slow);
});

describe.skipIf(noWebGpu)("webgpu parity with llama.cpp", () => {
  const cases: [Architecture, GgmlType][] = (["llama", "qwen2", "qwen3", "gemma3", "phi3"] as const).flatMap((a) => [
    [a, GgmlType.F32] as [Architecture, GgmlType],
    [a, GgmlType.Q8_0] as [Architecture, GgmlType],
  ]);
  for (const [architecture, type] of cases) {
    const greedy = type === GgmlType.F32; // KV-cache generation once per architecture: the weights' type does not change it
    it(`random ${architecture} ${GgmlType[type]}: same next-token distributions over 64 positions${greedy ? ", same 8 greedy tokens (KV cache)" : ""}`, async () => {
      const file = path.join(dir, `${architecture}-${GgmlType[type]}.gguf`);
      // The project's toy vocabulary (~1.3k tokens), not a 32k one: SwiftShader runs the output matmul on the CPU.
      await writeRandomModel(file, { ...paritySpec(architecture, type, vocabDir), vocabPath: toyVocab });
      const llamaModel = await loadLlamaCppModel(file);
      const student = await loadStudent(file);
      try {
        const tokens = randomTokens(parityBounds.minPositions, student.config.nVocab, 17 + type, llamaModel.tokens.bos ?? undefined);
        const result = await checkParity(llamaModel, student, tokens);
        console.log(describeParity(`webgpu: random ${architecture} ${GgmlType[type]}`, result));
        expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
        expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
        expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
        if (greedy) {
          const prompt = tokens.slice(0, 4);
          expect(await tfjsGreedy(student, prompt, 8)).toEqual(await llamaCppGreedy(llamaModel, prompt, 8));
        }
      } finally {
        student.dispose();
        await llamaModel.dispose();
        await rm(file, { force: true });
      }
    }, slow);
  }
});

describe.skipIf(noWebGpu)("webgpu LoRA training", () => {
  const vocab = 96;
  const tinyModel = (architecture: Architecture) =>
    StudentModel.fromGguf(randomModelSource({ architecture, nEmbd: 32, nLayer: 1, nHead: 4, nHeadKv: 2, nFf: 64, headDim: architecture === "qwen3" ? 16 : 8, seed: 4 }, vocab));
  const example = (seed: number, length: number) => ({
    ids: Array.from({ length }, (_, i) => (seed * 31 + i * 7) % vocab),
    promptLength: Math.floor(length / 2),
    line: seed,
  });

  // gemma3: GELU, soft-cap (tanh) and sliding-window mask in the backward pass; phi3: the fused projections' splits.
  for (const architecture of ["llama", "qwen2", "qwen3", "gemma3", "phi3"] as const) {
    it(`${architecture}: LoRA gradients (dropout, masked loss, padding) equal the cpu backend's`, async () => {
      const batch = makeBatch([example(1, 9), example(2, 6)]);
      const shape: [number, number] = [batch.batchSize, batch.length];
      const gradients = async (backend: string): Promise<Float32Array[]> => {
        await tf.setBackend(backend);
        const model = await tinyModel(architecture);
        const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: 4, alpha: 8, dropout: 0.1 }, 1);
        // B starts at zero, which would leave A's gradient zero: give it values, the same on both backends.
        adapter.variables.forEach((v, i) => i % 2 === 1 && v.assign(tf.randomNormal(v.shape, 0, 0.2, "float32", 100 + i)));
        const { grads } = tf.variableGrads(() => {
          const logits = model.forward(tf.tensor2d(batch.inputs, shape, "int32"), {
            lora: adapter.forwardMap(), loraDropout: 0.1, training: true, dropoutSeed: 7,
          });
          return maskedCrossEntropy(logits, tf.tensor2d(batch.targets, shape, "int32"), tf.tensor2d(batch.mask, shape, "float32"), batch.completionTokens);
        }, adapter.variables);
        const values = await Promise.all(adapter.variables.map(async (v) => (await grads[v.name]!.data()) as Float32Array));
        tf.dispose(Object.values(grads));
        adapter.dispose();
        model.dispose();
        return values;
      };
      const cpu = await gradients("cpu");
      const webgpu = await gradients("webgpu");
      expect(webgpu.length).toBe(cpu.length);
      let largest = 0;
      let worst = 0;
      let normSquared = 0;
      let errorSquared = 0;
      cpu.forEach((c, i) => {
        for (let j = 0; j < c.length; j++) {
          const error = c[j]! - webgpu[i]![j]!;
          largest = Math.max(largest, Math.abs(c[j]!));
          worst = Math.max(worst, Math.abs(error));
          normSquared += c[j]! ** 2;
          errorSquared += error ** 2;
        }
      });
      const relative = Math.sqrt(errorSquared / normSquared);
      console.log(
        `webgpu ${architecture}: LoRA gradients, ‖webgpu − cpu‖ / ‖cpu‖ ${relative.toExponential(2)}, max |webgpu − cpu| ${worst.toExponential(2)} (largest |g| ${largest.toExponential(2)})`,
      );
      expect(largest).toBeGreaterThan(1e-3); // a real gradient, not zeros on both sides
      // Float32 rounding only: other summation orders, and WGSL's exp, log, inverseSqrt and division are not
      // correctly rounded (Vulkan allows exp 3 + 2·|x| ULP), amplified through the backward pass (measured on
      // SwiftShader: 1.1e-4 to 1.5e-4). A dropped, doubled or transposed term gives an error of order 1.
      expect(relative).toBeLessThan(1e-3);
    }, slow);
  }

  it("keeps the live tensor count flat over 100 steps (accumulation, clipping, dropout, AdamW) and gives GPU memory back on dispose", async () => {
    await tf.setBackend("webgpu");
    const base = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number; numBytesAllocatedInGPU: number };
    const model = await tinyModel("qwen2");
    const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: 4, alpha: 8, dropout: 0.1 }, 1);
    const trainer = new LoraTrainer(model, adapter, { maxGradNorm: 1 });
    const micro = [makeBatch([example(1, 9), example(2, 6)]), makeBatch([example(3, 12)])];
    const counts: number[] = [];
    const losses: number[] = [];
    for (let step = 1; step <= 100; step++) {
      const result = await trainer.step(micro, 1e-2, step);
      losses.push(result.loss);
      counts[step] = tf.memory().numTensors;
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!); // it trains
    expect(counts[100]).toBe(counts[2]);
    expect(counts[50]).toBe(counts[2]);
    const training = tf.memory() as typeof base;
    expect(training.numBytesInGPU).toBeGreaterThan(base.numBytesInGPU); // the weights live on the device
    trainer.dispose();
    adapter.dispose();
    model.dispose();
    const after = tf.memory() as typeof base;
    expect(after.numBytesInGPU).toBe(base.numBytesInGPU); // every tensor's buffer released
    expect(after.numBytesAllocatedInGPU).toBe(after.numBytesInGPU); // and none kept in tfjs's pool
  }, slow);

  it("overfits 4 examples; the exported adapter runs in llama.cpp to the same logits and answers", async () => {
    await tf.setBackend("webgpu");
    const modelPath = path.join(dir, "trainable.gguf");
    const adapterPath = path.join(dir, "trainable-adapter.gguf");
    await writeTrainableModel(modelPath);
    const model = await StudentModel.fromGguf(await openGguf(modelPath));
    const tokenizer = await StudentTokenizer.load(modelPath);
    const four = eightExamples.slice(0, 4);
    try {
      const examples = tokenizeExamples(four, tokenizer, 64).examples;
      const trained = await trainLora(model, examples, { epochs: 20, batchSize: 4, learningRate: 2e-2, warmupRatio: 0.05, seed: 3 });
      const losses = trained.lossCurve.map((p) => p.loss);
      console.log(`webgpu overfit: loss ${losses[0]!.toFixed(3)} → ${losses.at(-1)!.toFixed(4)} in ${losses.length} steps`);
      expect(losses[0]).toBeGreaterThan(1);
      expect(losses.at(-1)).toBeLessThan(0.05);
      await writeLoraAdapter(adapterPath, await trained.adapter.toTensors(model.config.architecture));

      // (tfjs's own greedy generation on webgpu is checked by the parity tests above.)
      const greedy = { maxTokens: 8, temperature: 0 };
      const expected = four.map((e) => e.completion.trim());

      const llamaModel = await loadLlamaCppModel(modelPath);
      try {
        const tokens = randomTokens(parityBounds.minPositions, model.config.nVocab, 5, llamaModel.tokens.bos ?? undefined);
        const result = await checkParity(llamaModel, model, tokens, { llamaCpp: [{ filePath: adapterPath }], tfjs: trained.adapter.forwardMap() });
        console.log(describeParity("webgpu-trained adapter, llama.cpp vs webgpu", result));
        expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
        expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
      } finally {
        await llamaModel.dispose();
      }
      const generator = await LlamaCppStudentGenerator.load({ modelPath, adapterPath, parallel: 1, contextSize: 128 });
      try {
        const llama = await evaluateExamples(generator, four, greedy);
        expect(llama.predictions.map((p) => p.output.trim())).toEqual(expected);
      } finally {
        await generator.dispose();
      }
      trained.adapter.dispose();
    } finally {
      model.dispose();
      await tokenizer.dispose();
    }
  }, slow);
});
