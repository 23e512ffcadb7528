/**
 * Next-token cross-entropy over completion tokens only (DESIGN.md §3): positions whose target is prompt or
 * padding carry mask 0. The sum is divided by `normaliser`, the completion-token count of the whole
 * optimizer step (all accumulated micro-batches), so accumulation gives the same gradient as one big batch.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * logits [B, T, V] at input positions, targets [B, T] int32 (the next token), mask [B, T] float32 (1 = in
 * the loss). Returns the masked summed loss / normaliser as a scalar.
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D, normaliser: number): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[2];
    const flat = logits.reshape([-1, vocab]) as tf.Tensor2D; // [B·T, V]
    const logProbs = tf.logSoftmax(flat); // [B·T, V]
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(targets.reshape([-1]) as tf.Tensor1D, vocab)), 1); // [B·T]
    return tf.neg(tf.sum(tf.mul(picked, mask.reshape([-1])))).div(normaliser) as tf.Scalar;
  });
}
