/**
 * Grouped-query causal attention as one native kernel with its gradient: scores = q·kᵀ/√Dk + bias, softmax,
 * times v, per (batch, key/value head) with its G query heads, reading the [B, T, H, D] layouts in place (no
 * transposes). The forward keeps the softmax weights for the backward:
 *   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − Σ_row dP⊙P) / √Dk,  dQ = dS·K,  dK = dSᵀ·Q.
 * The bias (causal and padding mask) is a constant: it gets no gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray } from "../../backend/nativeAddon.js";
import { activeFusedKernels, allFloat32, float32Values } from "./nativeFused.js";

/**
 * q [B, T, H, Dk], k [B, S, Hkv, Dk], v [B, S, Hkv, Dv], bias [B or 1, 1, T, S] → [B, T, H·Dv];
 * undefined when the native kernels are not active.
 */
export function nativeAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor): tf.Tensor3D | undefined {
  const addon = activeFusedKernels();
  const [b, t, h, dk] = q.shape;
  const [, s, hkv, dv] = v.shape;
  if (!addon || !allFloat32(q, k, v, bias) || q.size === 0 || k.size === 0) return undefined;
  if (k.shape[0] !== b || k.shape[1] !== s || k.shape[2] !== hkv || k.shape[3] !== dk || v.shape[0] !== b || h % hkv !== 0) return undefined;
  const biasBatch = bias.shape[0]!;
  if (bias.rank !== 4 || (biasBatch !== 1 && biasBatch !== b) || bias.shape[1] !== 1 || bias.shape[2] !== t || bias.shape[3] !== s) {
    return undefined;
  }
  const biasValues = float32Values(bias);
  const scale = 1 / Math.sqrt(dk);
  const op = tf.customGrad((...inputs) => {
    const [qValues, kValues, vValues] = (inputs.slice(0, 3) as tf.Tensor[]).map(float32Values) as [Float32Array, Float32Array, Float32Array];
    const out = outputArray(b * t * h * dv);
    const probs = outputArray(b * h * t * s); // [B, H, T, S]
    addon.attention(qValues, kValues, vValues, biasValues, biasBatch, out, probs, b, t, s, h, hkv, dk, dv, scale);
    const gradFunc = (dy: tf.Tensor) => {
      const dq = outputArray(qValues.length);
      const dkGrad = outputArray(kValues.length);
      const dvGrad = outputArray(vValues.length);
      addon.attentionBackward(float32Values(dy), qValues, kValues, vValues, probs, dq, dkGrad, dvGrad, b, t, s, h, hkv, dk, dv, scale);
      return [tf.tensor(dq, q.shape, "float32"), tf.tensor(dkGrad, k.shape, "float32"), tf.tensor(dvGrad, v.shape, "float32")];
    };
    return { value: tf.tensor(out, [b, t, h * dv], "float32"), gradFunc };
  });
  return op(q, k, v) as tf.Tensor3D;
}
