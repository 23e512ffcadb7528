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
  /** qwen3, gemma3: RMSNorm weights over one head of q / k. */
  attnQNorm?: tf.Tensor1D; // [Dk]
  attnKNorm?: tf.Tensor1D; // [Dk]
  ffnNorm: tf.Tensor1D; // [E]
  ffnGate: Linear; // [F, E]
  ffnUp: Linear; // [F, E]
  ffnDown: Linear; // [E, F]
  /** gemma2/gemma3: RMSNorm weights of the attention / feed-forward output, before its residual add. */
  attnPostNorm?: tf.Tensor1D; // [E]
  ffnPostNorm?: tf.Tensor1D; // [E]
}

/**
 * phi3's block: q|k|v in one projection (attn_qkv, rows q then k then v) and gate|up in one (ffn_up [2F, E], the
 * gate's rows first: llama.cpp's ggml_swiglu applies silu to the first half). LoRA adapts each fused matrix whole.
 */
export interface FusedBlockWeights {
  attnNorm: tf.Tensor1D; // [E]
  attnQkv: Linear; // [H·D + 2·Hkv·D, E]
  attnOutput: Linear; // [E, H·D]
  ffnNorm: tf.Tensor1D; // [E]
  ffnUp: Linear; // [2F, E]
  ffnDown: Linear; // [E, F]
}

export function isFusedBlock(block: BlockWeights | FusedBlockWeights): block is FusedBlockWeights {
  return "attnQkv" in block;
}

export interface StudentWeights {
  tokenEmbd: tf.Tensor2D | StoredMatrix; // [V, E]
  blocks: (BlockWeights | FusedBlockWeights)[];
  outputNorm: tf.Tensor1D; // [E]
  /** The same tensor as tokenEmbd when the model ties them. */
  output: Linear; // [V, E]
  /** Per-frequency RoPE divisors, when the file has them: llama-3's rope_freqs.weight, phi3's rope_factors_short.weight. */
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
    const blocks: (BlockWeights | FusedBlockWeights)[] = [];
    const gemma = c.architecture === "gemma2" || c.architecture === "gemma3";
    for (let i = 0; i < c.nLayer; i++) {
      const p = `blk.${i}`;
      if (c.architecture === "phi3") {
        blocks.push({
          attnNorm: await vector(`${p}.attn_norm.weight`, E),
          attnQkv: await matrix(`${p}.attn_qkv`, (c.nHead + 2 * c.nHeadKv) * c.headDimK, E),
          attnOutput: await matrix(`${p}.attn_output`, E, c.nHead * c.headDimV),
          ffnNorm: await vector(`${p}.ffn_norm.weight`, E),
          ffnUp: await matrix(`${p}.ffn_up`, 2 * c.nFf, E),
          ffnDown: await matrix(`${p}.ffn_down`, E, c.nFf),
        });
        continue;
      }
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
        ...(gemma
          ? { attnPostNorm: await vector(`${p}.post_attention_norm.weight`, E), ffnPostNorm: await vector(`${p}.post_ffw_norm.weight`, E) }
          : {}),
      });
    }
    const outputNorm = await vector("output_norm.weight", E);
    const output: Linear = c.tiedOutput
      ? { name: "token_embd.weight", weight: tokenEmbd }
      : await matrix("output", c.nVocab, E);
    // phi3: the short factors, which llama.cpp takes up to rope.scaling.original_context_length (config.ts); gemma has none.
    const factorsName = c.architecture === "phi3" ? "rope_factors_short.weight" : gemma ? undefined : "rope_freqs.weight";
    const hasFreqFactors = file.tensors.some((t) => t.name === factorsName);
    const ropeFreqFactors = hasFreqFactors ? await vector(factorsName!, c.nRot / 2) : undefined;
    return { tokenEmbd, blocks, outputNorm, output, ...(ropeFreqFactors ? { ropeFreqFactors } : {}) };
  } catch (error) {
    tf.dispose(created); // a half-loaded model frees what it made
    throw error;
  }
}

/**
 * The Linear of blk.<layer>.<projection>, for LoRA code that walks the adaptable projections. In a fused block
 * attn_q, attn_k and attn_v are all attn_qkv, and ffn_gate and ffn_up are both ffn_up.
 */
export function projectionOf(weights: StudentWeights, layer: number, projection: AdaptableProjection): Linear {
  const block = weights.blocks[layer]!;
  if (isFusedBlock(block)) {
    if (projection === "attn_output") return block.attnOutput;
    if (projection === "ffn_down") return block.ffnDown;
    return projection.startsWith("attn_") ? block.attnQkv : block.ffnUp;
  }
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

/** Frees the float32 tensors and stored matrices' GPU copies; the blocks are views of the mapped file, released with the model object. */
export function disposeWeights(weights: StudentWeights): void {
  const tensors: (tf.Tensor | StoredMatrix)[] = [weights.tokenEmbd, weights.outputNorm];
  if (weights.output.weight !== weights.tokenEmbd) tensors.push(weights.output.weight);
  if (weights.ropeFreqFactors) tensors.push(weights.ropeFreqFactors);
  for (const b of weights.blocks) {
    tensors.push(b.attnNorm, b.ffnNorm);
    const linears = isFusedBlock(b) ? [b.attnQkv, b.attnOutput, b.ffnUp, b.ffnDown] : [b.attnQ, b.attnK, b.attnV, b.attnOutput, b.ffnGate, b.ffnUp, b.ffnDown];
    if (!isFusedBlock(b)) for (const norm of [b.attnQNorm, b.attnKNorm, b.attnPostNorm, b.ffnPostNorm]) if (norm) tensors.push(norm);
    for (const l of linears) {
      tensors.push(l.weight);
      if (l.bias) tensors.push(l.bias);
    }
  }
  for (const t of tensors) t.dispose();
}
