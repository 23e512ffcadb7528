/**
 * The types the student reads but does not write (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL, IQ4_XS), as a user
 * downloads them: a random llama model (helpers/randomModel.ts, toy vocabulary) whose matrices llama.cpp itself quantized
 * (ggml_quantize_chunk, helpers/ggmlReference.ts), run through llama.cpp and the tfjs student (DESIGN §4 bounds).
 * llama.cpp rounds activations to Q8 in its quantized matmuls while the student multiplies dequantized float32
 * weights, so each type also writes the model's dequantized-F32 twin: the student must give it identical logits,
 * which pins any remaining gap on llama.cpp's activation rounding, not on reading the type.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { GgmlType, readableTensorTypes, supportedTensorTypes, tokenizerMetadataFrom, writeGguf, type GgufTensorToWrite } from "../src/gguf/index.js";
import { repoRoot, skipWithout, vocabDir } from "./fixtures.js";
import { ggmlReference, type GgmlReference } from "./helpers/ggmlReference.js";
import {
  checkParity, describeParity, llamaCppGreedy, loadLlamaCppModel, loadStudent, parityBounds, randomTokens, tfjsGreedy, tfjsLogits,
} from "./helpers/parity.js";
import { paritySpec, randomModelTensors } from "./helpers/randomModel.js";

const reference = ggmlReference();
if (!reference) console.warn("skipped: node-llama-cpp's libggml-base or koffi is not installed for this platform");
const readOnlyTypes = readableTensorTypes().filter((type) => !supportedTensorTypes().includes(type));

/** The random model with its matrices in `type` (quantized by llama.cpp), and its twin with those blocks decoded to F32. */
async function writeModelAndTwin(ref: GgmlReference, type: GgmlType, file: string, twin: string): Promise<void> {
  // The project's toy vocabulary (1,265 tokens) rather than a 32k one: the output matmul over the vocabulary is
  // most of the work, and the types under test are in every matrix, not only the output.
  const spec = { ...paritySpec("llama", type, vocabDir), vocabPath: path.join(repoRoot, "models/toy-vocab.gguf") };
  const tokenizer = await tokenizerMetadataFrom(spec.vocabPath);
  const nVocab = (tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")!.value as ArrayLike<string>).length;
  const { metadata, tensors } = randomModelTensors(spec, nVocab);
  const quantized: GgufTensorToWrite[] = [];
  const decoded: GgufTensorToWrite[] = [];
  for (const tensor of tensors) {
    if (tensor.type !== type) {
      quantized.push(tensor);
      decoded.push(tensor);
      continue;
    }
    const blocks = ref.quantize(type, tensor.data, tensor.shape[0]!);
    quantized.push({ ...tensor, blocks });
    decoded.push({ ...tensor, type: GgmlType.F32, data: ref.dequantize(type, blocks, tensor.data.length) });
  }
  await writeGguf(file, { metadata: [...metadata, ...tokenizer], tensors: quantized });
  await writeGguf(twin, { metadata: [...metadata, ...tokenizer], tensors: decoded });
}

describe.skipIf(skipWithout("fixtures") || !reference)("parity with llama.cpp: types read but not written, quantized by llama.cpp", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-parity-quant-"));
    console.log(`tfjs backend: ${(await initBackend()).description}`);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("covers every read-only type", () => {
    expect(readOnlyTypes.map((t) => GgmlType[t]).sort()).toEqual(["IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_1", "Q5_0", "Q5_1", "Q5_K"]);
  });

  for (const type of readOnlyTypes) {
    const typeName = GgmlType[type];
    it(`${typeName}: llama.cpp's distributions and greedy tokens; the F32 twin gives the student identical logits`, async () => {
      const file = path.join(dir, `llama-${typeName}.gguf`);
      const twin = path.join(dir, `llama-${typeName}-f32.gguf`);
      await writeModelAndTwin(reference!, type, file, twin);
      const llamaModel = await loadLlamaCppModel(file);
      const student = await loadStudent(file);
      try {
        const tokens = randomTokens(parityBounds.minPositions, student.config.nVocab, 17 + type, llamaModel.tokens.bos ?? undefined);
        const result = await checkParity(llamaModel, student, tokens);
        console.log(describeParity(`random llama ${typeName}`, result));
        expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
        expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
        expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
        const prompt = tokens.slice(0, 4);
        expect(await tfjsGreedy(student, prompt, 32)).toEqual(await llamaCppGreedy(llamaModel, prompt, 32));

        const twinStudent = await loadStudent(twin);
        try {
          const ours = await tfjsLogits(student, tokens);
          const theirs = await tfjsLogits(twinStudent, tokens);
          for (let i = 0; i < ours.length; i++) expect(ours[i]!.every((v, j) => Object.is(v, theirs[i]![j]))).toBe(true);
        } finally {
          twinStudent.dispose();
        }
      } finally {
        student.dispose();
        await llamaModel.dispose();
        await rm(file, { force: true });
        await rm(twin, { force: true });
      }
    });
  }
});
