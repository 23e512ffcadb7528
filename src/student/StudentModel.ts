/**
 * The student: a llama-family transformer in TensorFlow.js, built from a GGUF file, that computes what
 * llama.cpp computes for the same file (its llama, qwen2, qwen3, gemma2, gemma3 and phi3 graphs):
 *
 *   x = token_embd[tokens]                                                 (gemma: · √n_embd)
 *   for each block:  x += attn_output(attention(rope(q), rope(k), v))   q, k, v from attn_norm(x)
 *                    x += ffn_down(silu(ffn_gate(h)) · ffn_up(h))         h = ffn_norm(x)
 *   logits = output(output_norm(x))                                        (gemma2: soft-capped)
 *
 * transformerBlock.ts has each architecture's variations of the block; sliding-window layers (gemma) get their own
 * RoPE angles and mask.
 *
 * The base weights are frozen tensors; LoRA adapters come in as an argument of `forward`, so the model stays
 * a function of (tokens, adapters) and a trainer can take gradients with respect to the adapters alone.
 * References: llama.cpp src/llama-model.cpp and ggml's rope; karpathy/nanoGPT model.py for the form.
 */
import * as tf from "@tensorflow/tfjs";
import { releasePooledDeviceMemory } from "../backend/deviceMemory.js";
import { UsageError } from "../errors.js";
import { configFromGguf, type LlamaConfig } from "./config.js";
import type { KvCache } from "./kvCache.js";
import { attentionBias, linear, type LoraContext, type LoraWeights, rmsNorm, ropeAngles, ropeAnglesOfRange, softcap } from "./layers.js";
import { nativeTransformerBlock } from "./fused/block.js";
import { type BaseWeightsRequest, resolveBaseWeights } from "./baseWeights.js";
import { slidingWindowBias } from "./slidingWindow.js";
import { embeddingRows } from "./storedProduct.js";
import { transformerBlock } from "./transformerBlock.js";
import { disposeWeights, type GgufTensorSource, isFusedBlock, loadStudentWeights, type StudentWeights } from "./weights.js";

export interface ForwardOptions {
  /** LoRA adapters by base tensor name ("blk.0.attn_q.weight"); absent: the base model. */
  lora?: LoraWeights;
  /** Dropout rate on each LoRA input (applied only when `training`). Default 0. */
  loraDropout?: number;
  /** Training pass: enables LoRA dropout. Default false. */
  training?: boolean;
  /** Seed for this pass's dropout masks. */
  dropoutSeed?: number;
  /**
   * Padding mask [B, T]: 1 for a real token, 0 for padding. Padded keys are never attended to, and
   * positions count real tokens only, so left and right padding both give each sequence its own result.
   */
  attentionMask?: tf.Tensor2D | number[][];
  /** Keys/values of earlier positions: the new tokens continue them, and are appended. Not with a mask. */
  cache?: KvCache;
  /** Training: recompute each block's activations in the backward instead of keeping them (native path). */
  checkpoint?: boolean;
}

export class StudentModel {
  private constructor(
    readonly config: LlamaConfig,
    readonly weights: StudentWeights,
    /** The GGUF file the model was built from. */
    readonly path: string,
  ) {}

  /**
   * Builds the model from an opened GGUF (src/gguf's openGguf): config from metadata, then the weights, the
   * matrices kept in their GGUF blocks or dequantized to float32 (baseWeights.ts; default: auto).
   */
  static async fromGguf(file: GgufTensorSource, options: { baseWeights?: BaseWeightsRequest } = {}): Promise<StudentModel> {
    const config = configFromGguf(file);
    return new StudentModel(config, await loadStudentWeights(file, config, resolveBaseWeights(options.baseWeights)), file.path);
  }

  /** Next-token logits at every position: tokens [B, T] → [B, T, V]. */
  forward(tokens: tf.Tensor2D | number[][], options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.logitsOf(this.finalHidden(tokens, options)));
  }

  /** The output projection: hidden [B, T, E] (finalHidden's) → logits [B, T, V]. */
  logitsOf(hidden: tf.Tensor3D): tf.Tensor3D {
    const [b, t] = hidden.shape;
    const logits = linear(hidden, this.weights.output).reshape([b, t, this.config.nVocab]) as tf.Tensor3D;
    const cap = this.config.finalLogitSoftcap;
    return cap ? (softcap(logits, cap) as tf.Tensor3D) : logits;
  }

  /**
   * The last block's output after output_norm, [B, T, E]: what the output projection reads (a trainer that needs
   * the logits of some rows only projects those).
   */
  finalHidden(tokens: tf.Tensor2D | number[][], options: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const w = this.weights;
      const ids = tokens instanceof tf.Tensor ? tokens.toInt() : tf.tensor2d(tokens, undefined, "int32"); // [B, T]
      const [b, t] = ids.shape as [number, number];
      const mask = options.attentionMask === undefined ? undefined : toMask(options.attentionMask);
      const cache = options.cache;
      if (mask && cache) throw new UsageError("forward: a padding mask together with a KV cache is not supported");
      const past = cache?.length ?? 0;
      if (c.ropeShortFactorsContext !== undefined && past + t > c.ropeShortFactorsContext) {
        throw new UsageError(
          `${this.path}: ${past + t} positions; this model's RoPE factors hold ${c.ropeShortFactorsContext} ` +
            "(llama.cpp switches to rope_factors_long beyond that context size, which the student does not implement)",
        );
      }
      const lora: LoraContext | undefined = options.lora && {
        weights: options.lora,
        dropout: options.loraDropout ?? 0,
        training: options.training ?? false,
        ...(options.dropoutSeed === undefined ? {} : { dropoutSeed: options.dropoutSeed }),
      };

      // Positions count real tokens: with left padding the first real token is still position 0. Without padding
      // (and without llama-3's frequency factors) every row has positions past … past + t − 1: no tensor ops.
      const positions = () =>
        (mask
          ? tf.relu(tf.sub(tf.cumsum(mask, 1), 1)).toInt()
          : tf.add(tf.range(past, past + t, 1, "int32").reshape([1, t]), tf.zeros([b, t], "int32"))) as tf.Tensor2D;
      const anglesOf = (freqBase: number, freqScale: number) => {
        const angles =
          mask || w.ropeFreqFactors
            ? ropeAngles(positions(), c.nRot, freqBase, freqScale, w.ropeFreqFactors)
            : ropeAnglesOfRange(b, t, past, c.nRot, freqBase, freqScale);
        const factor = c.ropeAttnFactor; // ggml_rope_ext's attn_factor multiplies cos and sin
        return factor === undefined ? angles : { cos: tf.mul(angles.cos, factor), sin: tf.mul(angles.sin, factor) };
      };
      const angles = anglesOf(c.ropeFreqBase, c.ropeFreqScale);
      const bias = attentionBias(t, past, mask as tf.Tensor2D | undefined); // [B|1, 1, T, S]
      const swa = c.slidingWindow;
      const local = swa && { angles: anglesOf(swa.ropeFreqBase, swa.ropeFreqScale), bias: slidingWindowBias(t, past, swa.size, mask as tf.Tensor2D | undefined) };

      // Stored (quantized) embedding rows are decoded on the host from the ids as numbers: a GPU tensor has no sync read.
      const idValues = Array.isArray(tokens) ? tokens.flat() : undefined;
      let x: tf.Tensor = embeddingRows(w.tokenEmbd, ids.reshape([-1]) as tf.Tensor1D, idValues).reshape([b, t, c.nEmbd]); // [B, T, E]
      if (c.embeddingScale !== undefined) x = tf.mul(x, c.embeddingScale);
      w.blocks.forEach((block, layer) => {
        // Training without a cache: the whole block as one native op when it can (src/student/fused/block.ts).
        const fused =
          options.training && !cache && !isFusedBlock(block)
            ? nativeTransformerBlock(x as tf.Tensor3D, block, c, angles, bias, lora, options.checkpoint)
            : undefined;
        if (fused) {
          x = fused;
          return;
        }
        const layerInputs = local && swa.layers[layer] ? local : { angles, bias };
        x = transformerBlock(x, block, { config: c, layer, ...layerInputs, ...(cache ? { cache } : {}), ...(lora ? { lora } : {}) });
      });
      cache?.advance(t);

      return rmsNorm(x, w.outputNorm, c.rmsEps) as tf.Tensor3D; // [B, T, E]
    });
  }

  /** Frees the weights; on a GPU backend their memory goes back to the driver (not kept in tfjs's buffer pool). */
  dispose(): void {
    disposeWeights(this.weights);
    releasePooledDeviceMemory();
  }
}

function toMask(mask: tf.Tensor2D | number[][]): tf.Tensor2D {
  return (mask instanceof tf.Tensor ? mask : tf.tensor2d(mask)).toFloat() as tf.Tensor2D;
}
