/**
 * The building blocks of the llama family, each the tfjs form of one ggml graph step in llama.cpp's
 * llama-model.cpp: RMSNorm, RoPE (normal and NeoX pairing), the linear projection (with its optional LoRA
 * term), grouped-query causal attention and the SwiGLU feed-forward. Pure functions of tensors: the caller
 * owns tf.tidy. On the tfjs cpu backend with native kernels, RMSNorm, RoPE, attention, the SwiGLU gate and the
 * LoRA projection (frozen W, no dropout) run as fused native kernels with their own gradients (src/student/fused); the `...Composed` forms are the plain tfjs
 * graphs used everywhere else (and the tests' reference). Shapes: B batch, T new positions, S all key positions (cache + new), E n_embd, H query heads,
 * Hkv key/value heads, G = H / Hkv, Dk / Dv head sizes.
 */
import * as tf from "@tensorflow/tfjs";
import type { RopeType } from "./config.js";
import { nativeAttention } from "./fused/attention.js";
import { nativeLoraLinear } from "./fused/loraLinear.js";
import { nativeRmsNorm } from "./fused/rmsNorm.js";
import { nativeRope } from "./fused/rope.js";
import { nativeSwiglu } from "./fused/swiglu.js";
import { StoredMatrix } from "./StoredMatrix.js";
import { storedLinear } from "./storedProduct.js";

/** A frozen base projection as stored in the GGUF: weight [n_out, n_in] (ggml [n_in, n_out]), optional bias. */
export interface Linear {
  /** The GGUF tensor name, e.g. "blk.0.attn_q.weight": the key of its LoRA adapter. */
  name: string;
  /** float32, or the GGUF's own blocks (StoredMatrix: products in storedProduct.ts). */
  weight: tf.Tensor2D | StoredMatrix; // [n_out, n_in]
  bias?: tf.Tensor1D; // [n_out]
}

/** One LoRA adapter on one projection: y += scale · (x·Aᵀ)·Bᵀ. */
export interface LoraPair {
  a: tf.Tensor2D; // [r, n_in]  (ggml lora_a [n_in, r])
  b: tf.Tensor2D; // [n_out, r] (ggml lora_b [r, n_out])
  /** alpha / r (times any user scale). */
  scale: number;
}

/** Adapters by base tensor name ("blk.0.attn_q.weight"); projections without an entry have none. */
export type LoraWeights = ReadonlyMap<string, LoraPair>;

/** How the LoRA term is applied in one forward pass. */
export interface LoraContext {
  weights: LoraWeights;
  /** Dropout on the LoRA input, only when training. */
  dropout: number;
  training: boolean;
  /** Seed for the dropout masks of this pass (vary it per step for fresh masks, fix it to reproduce). */
  dropoutSeed?: number;
}

/** y = x·Wᵀ + b + scale · ((dropout(x)·Aᵀ)·Bᵀ). x: [..., n_in] → [..., n_out]. */
export function linear(x: tf.Tensor, proj: Linear, lora?: LoraContext): tf.Tensor {
  const [nOut, nIn] = proj.weight.shape;
  const outShape = [...x.shape.slice(0, -1), nOut];
  const x2 = x.reshape([-1, nIn]); // [N, n_in]
  const adapter = lora?.weights.get(proj.name);
  if (adapter && !(lora!.training && lora!.dropout > 0)) {
    const fused = nativeLoraLinear(x2 as tf.Tensor2D, proj.weight, proj.bias, adapter.a, adapter.b, adapter.scale);
    if (fused) return fused.reshape(outShape);
  }
  let y: tf.Tensor; // [N, n_out]
  if (proj.weight instanceof StoredMatrix) y = storedLinear(x2 as tf.Tensor2D, proj.weight, proj.bias);
  else {
    y = tf.matMul(x2, proj.weight, false, true);
    if (proj.bias) y = tf.add(y, proj.bias);
  }
  if (adapter && lora) {
    const dropped =
      lora.training && lora.dropout > 0 ? tf.dropout(x2, lora.dropout, undefined, seedFor(lora.dropoutSeed, proj.name)) : x2;
    // The scale multiplies the narrow [N, r] product rather than the [N, n_out] one.
    const down = tf.mul(tf.matMul(dropped, adapter.a, false, true), adapter.scale); // [N, r]
    y = tf.add(y, tf.matMul(down, adapter.b, false, true)); // [N, n_out]
  }
  return y.reshape(outShape);
}

/** A different but reproducible dropout seed per projection. */
function seedFor(seed: number | undefined, name: string): number | undefined {
  if (seed === undefined) return undefined;
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** llama.cpp's ggml_rms_norm followed by the weight: x / sqrt(mean(x²) + eps) · w, over the last axis. */
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  return nativeRmsNorm(x, weight, eps) ?? rmsNormComposed(x, weight, eps);
}

export function rmsNormComposed(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor {
  const meanSquare = tf.mean(tf.square(x), -1, true); // [..., 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, eps))), weight);
}

/**
 * ropeAngles for positions past … past + t − 1 in each of b rows, computed here in float32 exactly as ropeAngles'
 * tensor ops do (product rounded to float32, then cos / sin rounded): a training step otherwise spends
 * milliseconds in tfjs's generic broadcasting loop for the [B, T, 1] × [nRot/2] product.
 */
export function ropeAnglesOfRange(b: number, t: number, past: number, nRot: number, freqBase: number, freqScale: number): { cos: tf.Tensor; sin: tf.Tensor } {
  const half = nRot / 2;
  const inverse = ropeInverseFrequencies(nRot, freqBase, freqScale);
  const cos = new Float32Array(b * t * half);
  const sin = new Float32Array(b * t * half);
  for (let pos = 0; pos < t; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround((past + pos) * inverse[i]!);
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  for (let row = 1; row < b; row++) {
    cos.copyWithin(row * t * half, 0, t * half);
    sin.copyWithin(row * t * half, 0, t * half);
  }
  return { cos: tf.tensor4d(cos, [b, t, 1, half]), sin: tf.tensor4d(sin, [b, t, 1, half]) };
}

/** freqScale · base^(-2i/nRot) for i < nRot/2, in float32. */
function ropeInverseFrequencies(nRot: number, freqBase: number, freqScale: number): Float32Array {
  const inverse = new Float32Array(nRot / 2);
  for (let i = 0; i < nRot / 2; i++) inverse[i] = freqScale * Math.pow(freqBase, (-2 * i) / nRot);
  return inverse;
}

/**
 * cos and sin of the rotation angles, [B, T, 1, nRot/2]: angle_i = pos · freqScale · base^(-2i/nRot)
 * / freqFactor_i (llama.cpp's ggml_rope_ext; freqFactors are llama-3's rope_freqs.weight when present).
 */
export function ropeAngles(
  positions: tf.Tensor2D, // [B, T] int32
  nRot: number,
  freqBase: number,
  freqScale: number,
  freqFactors?: tf.Tensor1D, // [nRot/2]
): { cos: tf.Tensor; sin: tf.Tensor } {
  const half = nRot / 2;
  let invFreq: tf.Tensor = tf.tensor1d(ropeInverseFrequencies(nRot, freqBase, freqScale)); // [nRot/2]
  if (freqFactors) invFreq = tf.div(invFreq, freqFactors);
  const angles = tf.mul(positions.toFloat().expandDims(-1), invFreq); // [B, T, nRot/2]
  const [b, t] = positions.shape;
  return { cos: tf.cos(angles).reshape([b, t, 1, half]), sin: tf.sin(angles).reshape([b, t, 1, half]) };
}

/**
 * Rotates the first nRot dims of each head; the rest pass through. "normal" pairs (x[2i], x[2i+1]),
 * "neox" pairs (x[i], x[i + nRot/2]).
 */
export function rope(
  x: tf.Tensor4D, // [B, T, H, D]
  angles: { cos: tf.Tensor; sin: tf.Tensor }, // [B, T, 1, nRot/2]
  nRot: number,
  type: RopeType,
): tf.Tensor4D {
  return nativeRope(x, angles, nRot, type) ?? ropeComposed(x, angles, nRot, type);
}

export function ropeComposed(
  x: tf.Tensor4D, // [B, T, H, D]
  angles: { cos: tf.Tensor; sin: tf.Tensor }, // [B, T, 1, nRot/2]
  nRot: number,
  type: RopeType,
): tf.Tensor4D {
  const [b, t, h, d] = x.shape;
  const half = nRot / 2;
  const rotated = nRot === d ? x : x.slice([0, 0, 0, 0], [b, t, h, nRot]);
  let x0: tf.Tensor, x1: tf.Tensor; // [B, T, H, nRot/2] each
  if (type === "normal") {
    // [B·T, H, nRot/2, 2], not 5-D: tfjs-backend-webgpu's shaders hold coordinates in vecN, N ≤ 4.
    const pairs = rotated.reshape([b * t, h, half, 2]);
    x0 = pairs.slice([0, 0, 0, 0], [b * t, h, half, 1]).reshape([b, t, h, half]);
    x1 = pairs.slice([0, 0, 0, 1], [b * t, h, half, 1]).reshape([b, t, h, half]);
  } else {
    [x0, x1] = tf.split(rotated, 2, 3);
  }
  const { cos, sin } = angles;
  const out0 = tf.sub(tf.mul(x0, cos), tf.mul(x1, sin));
  const out1 = tf.add(tf.mul(x0, sin), tf.mul(x1, cos));
  const merged =
    type === "normal"
      ? tf.stack([out0.reshape([b * t, h, half]), out1.reshape([b * t, h, half])], 3).reshape([b, t, h, nRot]) // back to adjacent pairs
      : tf.concat([out0, out1], 3);
  if (nRot === d) return merged as tf.Tensor4D;
  return tf.concat([merged, x.slice([0, 0, 0, nRot], [b, t, h, d - nRot])], 3) as tf.Tensor4D;
}

/**
 * Causal grouped-query attention. Query head h reads key/value head floor(h / G), as llama.cpp does; the
 * G query heads of one group are stacked along the rows of one matmul instead of copying k and v G times.
 * `bias` is the additive mask [B, 1, T, S] (0 where allowed, a large negative number where not).
 */
export function attention(
  q: tf.Tensor4D, // [B, T, H, Dk]
  k: tf.Tensor4D, // [B, S, Hkv, Dk]
  v: tf.Tensor4D, // [B, S, Hkv, Dv]
  bias: tf.Tensor, // [B or 1, 1, T, S]
): tf.Tensor3D {
  return nativeAttention(q, k, v, bias) ?? attentionComposed(q, k, v, bias);
}

/** cap·tanh(x / cap) (gemma's attention scores and logits): values keep their order and stay within ±cap. */
export function softcap(x: tf.Tensor, cap: number): tf.Tensor {
  return tf.mul(tf.tanh(tf.div(x, cap)), cap);
}

/** `cap` (gemma2): the scores are soft-capped before the mask, as llama.cpp's build_attn_mha does. */
export function attentionComposed(
  q: tf.Tensor4D, // [B, T, H, Dk]
  k: tf.Tensor4D, // [B, S, Hkv, Dk]
  v: tf.Tensor4D, // [B, S, Hkv, Dv]
  bias: tf.Tensor, // [B or 1, 1, T, S]
  cap?: number,
): tf.Tensor3D {
  const [b, t, h, dk] = q.shape;
  const [, s, hkv, dv] = v.shape;
  const g = h / hkv;
  const qGrouped = q.transpose([0, 2, 1, 3]).reshape([b, hkv, g * t, dk]); // [B, Hkv, G·T, Dk]
  const kHeads = k.transpose([0, 2, 1, 3]); // [B, Hkv, S, Dk]
  const vHeads = v.transpose([0, 2, 1, 3]); // [B, Hkv, S, Dv]
  let scores = tf.mul(tf.matMul(qGrouped, kHeads, false, true), 1 / Math.sqrt(dk)); // [B, Hkv, G·T, S]
  if (cap) scores = softcap(scores, cap);
  const masked = tf.add(scores.reshape([b, h, t, s]), bias); // [B, H, T, S]
  const weights = tf.softmax(masked).reshape([b, hkv, g * t, s]);
  const out = tf.matMul(weights, vHeads); // [B, Hkv, G·T, Dv]
  return out.reshape([b, h, t, dv]).transpose([0, 2, 1, 3]).reshape([b, t, h * dv]) as tf.Tensor3D; // [B, T, H·Dv]
}

/** A finite "minus infinity": a fully masked row then softmaxes to uniform instead of NaN. */
export const maskedScore = -1e9;

/**
 * The additive attention mask [B, 1, T, S] for T new queries after `past` cached positions: query i
 * (absolute position past + i) sees keys j ≤ past + i, and no key whose padding mask is 0.
 */
export function attentionBias(t: number, past: number, keyMask?: tf.Tensor2D /* [B, S] */): tf.Tensor {
  const s = past + t;
  const causal = new Float32Array(t * s);
  for (let i = 0; i < t; i++) for (let j = past + i + 1; j < s; j++) causal[i * s + j] = maskedScore;
  const bias: tf.Tensor = tf.tensor4d(causal, [1, 1, t, s]);
  if (!keyMask) return bias;
  const [b] = keyMask.shape;
  const padding = tf.mul(tf.sub(1, keyMask.toFloat()), maskedScore).reshape([b, 1, 1, s]);
  return tf.maximum(tf.add(bias, padding), maskedScore); // masked by both: still one mask value
}

/** SwiGLU feed-forward: ffn_down(silu(ffn_gate(x)) · ffn_up(x)). */
export function feedForward(x: tf.Tensor, gate: Linear, up: Linear, down: Linear, lora?: LoraContext): tf.Tensor {
  const g = linear(x, gate, lora); // [..., n_ff]
  const u = linear(x, up, lora); // [..., n_ff]
  return linear(swiglu(g, u), down, lora); // [..., n_embd]
}

/** The SwiGLU gate silu(g) · u = g · sigmoid(g) · u, element-wise. */
export function swiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return nativeSwiglu(g, u) ?? swigluComposed(g, u);
}

export function swigluComposed(g: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(g, tf.sigmoid(g)), u);
}
