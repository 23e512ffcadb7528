/**
 * One transformer block as a tfjs composition, for every architecture the student reads (llama.cpp's graphs in
 * src/models/<arch>.cpp):
 *
 *   h = attn_norm(x);  q, k, v = attn_q/k/v(h)  (phi3: one attn_qkv, split after the product)
 *   [q, k = attn_q_norm(q), attn_k_norm(k)]     (qwen3, gemma3: per head)
 *   a = attention(rope(q), rope(k), v)         (gemma2: soft-capped scores)
 *   x += [post_attention_norm](attn_output(a))  (gemma2/3: the post-norm)
 *   f = ffn_norm(x)
 *   x += [post_ffw_norm](ffn_down(act(gate(f)) · up(f)))   act: silu, gemma's GELU; phi3: gate|up is one ffn_up
 *
 * The caller picks the layer's RoPE angles and mask (sliding-window layers have their own) and owns tf.tidy.
 */
import * as tf from "@tensorflow/tfjs";
import type { LlamaConfig } from "./config.js";
import { gegluFeedForward } from "./gemmaOps.js";
import type { KvCache } from "./kvCache.js";
import { attention, attentionComposed, feedForward, type Linear, linear, type LoraContext, rmsNorm, rope, swiglu } from "./layers.js";
import { type BlockWeights, type FusedBlockWeights, isFusedBlock } from "./weights.js";

export interface BlockInputs {
  config: LlamaConfig;
  layer: number;
  angles: { cos: tf.Tensor; sin: tf.Tensor }; // [B, T, 1, nRot/2]
  bias: tf.Tensor; // [B or 1, 1, T, S]
  cache?: KvCache;
  lora?: LoraContext;
}

/** x [B, T, E] → [B, T, E]. */
export function transformerBlock(x: tf.Tensor, block: BlockWeights | FusedBlockWeights, inputs: BlockInputs): tf.Tensor {
  const { config: c, angles, bias, cache, lora } = inputs;
  const [b, t] = x.shape as [number, number, number];
  const h = rmsNorm(x, block.attnNorm, c.rmsEps); // [B, T, E]
  const projected = isFusedBlock(block)
    ? tf.split(linear(h, block.attnQkv, lora), [c.nHead * c.headDimK, c.nHeadKv * c.headDimK, c.nHeadKv * c.headDimV], -1)
    : [linear(h, block.attnQ, lora), linear(h, block.attnK, lora), linear(h, block.attnV, lora)];
  let q = projected[0]!.reshape([b, t, c.nHead, c.headDimK]) as tf.Tensor4D; // [B, T, H, Dk]
  let k = projected[1]!.reshape([b, t, c.nHeadKv, c.headDimK]) as tf.Tensor4D; // [B, T, Hkv, Dk]
  const v = projected[2]!.reshape([b, t, c.nHeadKv, c.headDimV]) as tf.Tensor4D; // [B, T, Hkv, Dv]
  if (!isFusedBlock(block) && block.attnQNorm && block.attnKNorm) {
    q = rmsNorm(q, block.attnQNorm, c.rmsEps) as tf.Tensor4D; // per head, before RoPE
    k = rmsNorm(k, block.attnKNorm, c.rmsEps) as tf.Tensor4D;
  }
  q = rope(q, angles, c.nRot, c.ropeType);
  k = rope(k, angles, c.nRot, c.ropeType);
  // attention() divides the scores by √Dk; a model with another scale (gemma's 27B) rescales q first, as llama.cpp does.
  if (c.attentionScale !== undefined) q = tf.mul(q, c.attentionScale * Math.sqrt(c.headDimK)) as tf.Tensor4D;
  const all = cache ? cache.append(inputs.layer, k, v) : { k, v }; // [B, S, Hkv, D]
  const attended = c.attnLogitSoftcap ? attentionComposed(q, all.k, all.v, bias, c.attnLogitSoftcap) : attention(q, all.k, all.v, bias); // [B, T, H·Dv]
  let out = linear(attended, block.attnOutput, lora);
  if (!isFusedBlock(block) && block.attnPostNorm) out = rmsNorm(out, block.attnPostNorm, c.rmsEps);
  const mid = tf.add(x, out);

  const f = rmsNorm(mid, block.ffnNorm, c.rmsEps);
  let ffn: tf.Tensor;
  if (isFusedBlock(block)) ffn = fusedFeedForward(f, block.ffnUp, block.ffnDown, lora);
  else if (c.ffnActivation === "gelu") ffn = gegluFeedForward(f, block.ffnGate, block.ffnUp, block.ffnDown, lora);
  else ffn = feedForward(f, block.ffnGate, block.ffnUp, block.ffnDown, lora);
  if (!isFusedBlock(block) && block.ffnPostNorm) ffn = rmsNorm(ffn, block.ffnPostNorm, c.rmsEps);
  return tf.add(mid, ffn);
}

/** phi3's feed-forward: ffn_up gives gate|up [.., 2F], the gate half first; ffn_down(silu(gate) · up). */
function fusedFeedForward(x: tf.Tensor, gateUp: Linear, down: Linear, lora?: LoraContext): tf.Tensor {
  const [g, u] = tf.split(linear(x, gateUp, lora), 2, -1);
  return linear(swiglu(g!, u!), down, lora);
}
