/**
 * The student: a llama-family transformer in TensorFlow.js, built from a GGUF file, that computes what
 * llama.cpp computes for the same file (its build_llama / build_qwen2 / build_qwen3 graphs):
 *
 *   x = token_embd[tokens]
 *   for each block:  x += attn_output(attention(rope(q), rope(k), v))   q, k, v from attn_norm(x)
 *                    x += ffn_down(silu(ffn_gate(h)) · ffn_up(h))         h = ffn_norm(x)
 *   logits = output(output_norm(x))
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
import { attention, attentionBias, feedForward, linear, type LoraContext, type LoraWeights, rmsNorm, rope, ropeAngles, ropeAnglesOfRange } from "./layers.js";
import { nativeTransformerBlock } from "./fused/block.js";
import { type BaseWeightsRequest, resolveBaseWeights } from "./baseWeights.js";
import { embeddingRows } from "./storedProduct.js";
import { disposeWeights, type GgufTensorSource, loadStudentWeights, type StudentWeights } from "./weights.js";

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
    return linear(hidden, this.weights.output).reshape([b, t, this.config.nVocab]) as tf.Tensor3D;
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
      const angles =
        mask || w.ropeFreqFactors
          ? ropeAngles(positions(), c.nRot, c.ropeFreqBase, c.ropeFreqScale, w.ropeFreqFactors)
          : ropeAnglesOfRange(b, t, past, c.nRot, c.ropeFreqBase, c.ropeFreqScale);
      const bias = attentionBias(t, past, mask as tf.Tensor2D | undefined); // [B|1, 1, T, S]

      // Stored (quantized) embedding rows are decoded on the host from the ids as numbers: a GPU tensor has no sync read.
      const idValues = Array.isArray(tokens) ? tokens.flat() : undefined;
      let x: tf.Tensor = embeddingRows(w.tokenEmbd, ids.reshape([-1]) as tf.Tensor1D, idValues).reshape([b, t, c.nEmbd]); // [B, T, E]
      w.blocks.forEach((block, layer) => {
        // Training without a cache: the whole block as one native op when it can (src/student/fused/block.ts).
        const fused = options.training && !cache ? nativeTransformerBlock(x as tf.Tensor3D, block, c, angles, bias, lora, options.checkpoint) : undefined;
        if (fused) {
          x = fused;
          return;
        }
        // Attention
        const h = rmsNorm(x, block.attnNorm, c.rmsEps); // [B, T, E]
        let q = linear(h, block.attnQ, lora).reshape([b, t, c.nHead, c.headDimK]) as tf.Tensor4D; // [B, T, H, Dk]
        let k = linear(h, block.attnK, lora).reshape([b, t, c.nHeadKv, c.headDimK]) as tf.Tensor4D; // [B, T, Hkv, Dk]
        const v = linear(h, block.attnV, lora).reshape([b, t, c.nHeadKv, c.headDimV]) as tf.Tensor4D; // [B, T, Hkv, Dv]
        if (block.attnQNorm && block.attnKNorm) {
          q = rmsNorm(q, block.attnQNorm, c.rmsEps) as tf.Tensor4D; // qwen3: per head, before RoPE
          k = rmsNorm(k, block.attnKNorm, c.rmsEps) as tf.Tensor4D;
        }
        q = rope(q, angles, c.nRot, c.ropeType);
        k = rope(k, angles, c.nRot, c.ropeType);
        const all = cache ? cache.append(layer, k, v) : { k, v }; // [B, S, Hkv, D]
        const attended = attention(q, all.k, all.v, bias); // [B, T, H·Dv]
        x = tf.add(x, linear(attended, block.attnOutput, lora));
        // Feed-forward
        const f = rmsNorm(x, block.ffnNorm, c.rmsEps);
        x = tf.add(x, feedForward(f, block.ffnGate, block.ffnUp, block.ffnDown, lora));
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
