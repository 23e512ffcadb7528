/**
 * Small models for the LoRA tests, built on H2's random-model writer (test/helpers/randomModel.ts) with the
 * project's toy vocabulary (models/toy-vocab.gguf, ~1.3k tokens) so a training step takes milliseconds.
 *
 * `writeTrainableModel` also sets output_norm to 1: the random models scale it by 1/√E, which caps every
 * logit near ±8 and so puts a floor of about 0.5 nats under any completion loss (a 1.3k-way softmax with
 * bounded logits); LoRA cannot move the final norm, so an overfit test needs real logit range.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GgmlType, tokenizerMetadataFrom, writeGguf } from "../src/gguf/index.js";
import { repoRoot, vocabDir } from "./fixtures.js";
import { paritySpec, randomModelTensors, writeRandomModel, type RandomModelSpec } from "./helpers/randomModel.js";

export const toyVocab = path.join(repoRoot, "models/toy-vocab.gguf");

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `llm2llm-${prefix}-`));
}

/** H2's parity model of `architecture` (F32), with the toy vocabulary instead of a 32k–50k one. */
export async function writeParityModel(file: string, architecture: RandomModelSpec["architecture"]): Promise<string> {
  await writeRandomModel(file, { ...paritySpec(architecture, GgmlType.F32, vocabDir), vocabPath: toyVocab });
  return file;
}

/** A small llama (E 64, 2 layers, GQA) with output_norm 1, for training tests. */
export async function writeTrainableModel(file: string, overrides: Partial<RandomModelSpec> = {}): Promise<string> {
  const spec: RandomModelSpec = {
    architecture: "llama",
    type: GgmlType.F32,
    vocabPath: toyVocab,
    nEmbd: 64,
    nLayer: 2,
    nHead: 4,
    nHeadKv: 2,
    nFf: 128,
    seed: 11,
    ...overrides,
  };
  const tokenizer = await tokenizerMetadataFrom(spec.vocabPath);
  const nVocab = (tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")!.value as ArrayLike<string>).length;
  const { metadata, tensors } = randomModelTensors(spec, nVocab);
  tensors.find((t) => t.name === "output_norm.weight")!.data.fill(1);
  await writeGguf(file, { metadata: [...metadata, ...tokenizer], tensors });
  return file;
}

/** Eight prompt → completion pairs whose answers need the prompt (attention), not just the last token. */
export const eightExamples = Array.from({ length: 8 }, (_, i) => ({
  prompt: `What is ${i} plus ${i + 3}?`,
  completion: ` ${2 * i + 3}`,
  line: i + 1,
}));
