/**
 * The additive mask of a sliding-window layer (gemma2/gemma3): attentionBias's causal and padding mask, and no
 * key `size` or more positions before the query (llama_hparams::is_masked_swa, LLAMA_SWA_TYPE_STANDARD: masked
 * when p_query − p_key ≥ size). Positions count real tokens, as the forward pass's RoPE positions do. The KV cache
 * keeps every position; the mask alone hides the old ones (llama.cpp also evicts them, with the same result).
 */
import * as tf from "@tensorflow/tfjs";
import { attentionBias, maskedScore } from "./layers.js";

export function slidingWindowBias(t: number, past: number, size: number, keyMask?: tf.Tensor2D /* [B, S] */): tf.Tensor {
  const s = past + t;
  if (!keyMask) {
    const bias = new Float32Array(t * s);
    for (let i = 0; i < t; i++) {
      const p = past + i;
      for (let j = 0; j < s; j++) if (j > p || p - j >= size) bias[i * s + j] = maskedScore;
    }
    return tf.tensor4d(bias, [1, 1, t, s]);
  }
  const [b] = keyMask.shape;
  const positions = tf.relu(tf.sub(tf.cumsum(keyMask.toFloat(), 1), 1)); // [B, S]
  const queries = positions.slice([0, past], [b, t]).reshape([b, 1, t, 1]);
  const distance = tf.sub(queries, positions.reshape([b, 1, 1, s])); // [B, 1, T, S]
  const outside = tf.mul(tf.greaterEqual(distance, size).toFloat(), maskedScore);
  return tf.maximum(tf.add(attentionBias(t, past, keyMask), outside), maskedScore); // masked twice: still one mask value
}
