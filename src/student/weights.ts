/**
 * The frozen base weights of the student, read from the GGUF: plain tf tensors (not variables, so no optimizer can
 * touch them and gradients flow only to LoRA), or, for the matrices, StoredMatrix objects that keep the file's
 * own blocks (baseWeights "stored": a 4-bit 7B model stays 3.8 GB instead of 27 GB of float32). Tensor names are
 * llama.cpp's (token_embd, blk.N.attn_q, ...), and each matrix keeps the GGUF's own layout: ggml [n_in, n_out]
 * is the row-major [n_out, n_in] matrix W of y = x·Wᵀ (llama's q/k rows stay permuted for "normal" RoPE).
 */
import * as tf from "@tensorflow/tfjs";
import { UnsupportedModelError } from "../errors.js";
import type { GgufModelDescription, LlamaConfig } from "./config.js";
import type { Linear } from "./layers.js";
import { StoredMatrix } from "./StoredMatrix.js";
import { type BaseWeightsMode, keepsStored, storedTensorBytes } from "./baseWeights.js";

/** What loading needs from a GGUF file (src/gguf's GgufFile provides it). */
export interface GgufTensorSource extends GgufModelDescription {
  readTensor(name: string): Promise<Float32Array>;
  /** The tensor's bytes as stored (absent: every tensor is read as float32). */
  readTensorBytes?(name: string): Promise<Uint8Array>;
}

export interface BlockWeights {
  attnNorm: tf.Tensor1D; // [E]
  attnQ: Linear; // [H·Dk, E]
  attnK: Linear; // [Hkv·Dk, E]
  attnV: Linear; // [Hkv·Dv, E]
  attnOutput: Linear; // [E, H·Dv]
  /** qwen3 only: RMSNorm weights over one head of q / k. */
  attnQNorm?: tf.Tensor1D; // [Dk]
  attnKNorm?: tf.Tensor1D; // [Dk]
  ffnNorm: tf.Tensor1D; // [E]
  ffnGate: Linear; // [F, E]
  ffnUp: Linear; // [F, E]
  ffnDown: Linear; // [E, F]
}

export interface StudentWeights {
  tokenEmbd: tf.Tensor2D | StoredMatrix; // [V, E]
  blocks: BlockWeights[];
  outputNorm: tf.Tensor1D; // [E]
  /** The same tensor as tokenEmbd when the model ties them. */
  output: Linear; // [V, E]
  /** llama-3 style per-frequency RoPE divisors (rope_freqs.weight), when the file has them. */
  ropeFreqFactors?: tf.Tensor1D; // [nRot/2]
}

/** The projections LoRA can adapt, in llama.cpp's names (the `<name>` of blk.N.<name>.weight). */
export const adaptableProjections = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"] as const;
export type AdaptableProjection = (typeof adaptableProjections)[number];

export async function loadStudentWeights(file: GgufTensorSource, c: LlamaConfig, baseWeights: BaseWeightsMode = "f32"): Promise<StudentWeights> {
  const created: tf.Tensor[] = [];
  const check = (name: string, shape: number[]) => {
    const info = file.tensors.find((t) => t.name === name);
    if (!info) throw new UnsupportedModelError(file.path, `tensor ${name} is missing (expected for ${c.architecture})`);
    const ggmlShape = [...shape].reverse(); // ggml order: ne0 (contiguous) first
    const stored = info.shape.map(Number);
    while (stored.length > ggmlShape.length && stored.at(-1) === 1) stored.pop();
    if (stored.join(",") !== ggmlShape.join(",")) {
      throw new UnsupportedModelError(file.path, `tensor ${name} has ggml shape [${stored}], expected [${ggmlShape}]`);
    }
    return info;
  };
  const read = async (name: string, shape: number[]): Promise<tf.Tensor> => {
    check(name, shape);
    const tensor = tf.tensor(await file.readTensor(name), shape, "float32");
    created.push(tensor);
    return tensor;
  };
  /** A matrix [nOut, nIn]: its stored blocks when the mode and type allow, else float32. */
  const weightMatrix = async (name: string, nOut: number, nIn: number): Promise<tf.Tensor2D | StoredMatrix> => {
    const info = check(name, [nOut, nIn]);
    const type = (info as { type?: number }).type;
    if (type !== undefined && file.readTensorBytes && keepsStored(baseWeights, type)) {
      return new StoredMatrix(name, type, await storedTensorBytes(file, name), nOut, nIn);
    }
    return (await read(name, [nOut, nIn])) as tf.Tensor2D;
  };
  const vector = async (name: string, n: number) => (await read(name, [n])) as tf.Tensor1D;
  const matrix = async (name: string, nOut: number, nIn: number, bias = false): Promise<Linear> => {
    const weightName = `${name}.weight`;
    const weight = await weightMatrix(weightName, nOut, nIn);
    return { name: weightName, weight, ...(bias ? { bias: await vector(`${name}.bias`, nOut) } : {}) };
  };

  try {
    const E = c.nEmbd;
    const tokenEmbd = await weightMatrix("token_embd.weight", c.nVocab, E);
    const blocks: BlockWeights[] = [];
    for (let i = 0; i < c.nLayer; i++) {
      const p = `blk.${i}`;
      blocks.push({
        attnNorm: await vector(`${p}.attn_norm.weight`, E),
        attnQ: await matrix(`${p}.attn_q`, c.nHead * c.headDimK, E, c.qkvBias),
        attnK: await matrix(`${p}.attn_k`, c.nHeadKv * c.headDimK, E, c.qkvBias),
        attnV: await matrix(`${p}.attn_v`, c.nHeadKv * c.headDimV, E, c.qkvBias),
        attnOutput: await matrix(`${p}.attn_output`, E, c.nHead * c.headDimV),
        ...(c.qkNorm
          ? { attnQNorm: await vector(`${p}.attn_q_norm.weight`, c.headDimK), attnKNorm: await vector(`${p}.attn_k_norm.weight`, c.headDimK) }
          : {}),
        ffnNorm: await vector(`${p}.ffn_norm.weight`, E),
        ffnGate: await matrix(`${p}.ffn_gate`, c.nFf, E),
        ffnUp: await matrix(`${p}.ffn_up`, c.nFf, E),
        ffnDown: await matrix(`${p}.ffn_down`, E, c.nFf),
      });
    }
    const outputNorm = await vector("output_norm.weight", E);
    const output: Linear = c.tiedOutput
      ? { name: "token_embd.weight", weight: tokenEmbd }
      : await matrix("output", c.nVocab, E);
    const hasFreqFactors = file.tensors.some((t) => t.name === "rope_freqs.weight");
    const ropeFreqFactors = hasFreqFactors ? await vector("rope_freqs.weight", c.nRot / 2) : undefined;
    return { tokenEmbd, blocks, outputNorm, output, ...(ropeFreqFactors ? { ropeFreqFactors } : {}) };
  } catch (error) {
    tf.dispose(created); // a half-loaded model frees what it made
    throw error;
  }
}

/** The Linear of blk.<layer>.<projection>, for LoRA code that walks the adaptable projections. */
export function projectionOf(weights: StudentWeights, layer: number, projection: AdaptableProjection): Linear {
  const block = weights.blocks[layer]!;
  const byName: Record<AdaptableProjection, Linear> = {
    attn_q: block.attnQ,
    attn_k: block.attnK,
    attn_v: block.attnV,
    attn_output: block.attnOutput,
    ffn_gate: block.ffnGate,
    ffn_up: block.ffnUp,
    ffn_down: block.ffnDown,
  };
  return byName[projection];
}

/** Frees the float32 tensors; stored matrices are views of the mapped file, released with the model object. */
export function disposeWeights(weights: StudentWeights): void {
  const tensors: (tf.Tensor | StoredMatrix)[] = [weights.tokenEmbd, weights.outputNorm];
  if (weights.output.weight !== weights.tokenEmbd) tensors.push(weights.output.weight);
  if (weights.ropeFreqFactors) tensors.push(weights.ropeFreqFactors);
  for (const b of weights.blocks) {
    tensors.push(b.attnNorm, b.ffnNorm);
    if (b.attnQNorm) tensors.push(b.attnQNorm);
    if (b.attnKNorm) tensors.push(b.attnKNorm);
    for (const l of [b.attnQ, b.attnK, b.attnV, b.attnOutput, b.ffnGate, b.ffnUp, b.ffnDown]) {
      tensors.push(l.weight);
      if (l.bias) tensors.push(l.bias);
    }
  }
  tf.dispose(tensors.filter((t): t is tf.Tensor => t instanceof tf.Tensor));
}
