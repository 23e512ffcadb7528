/**
 * The masked next-token cross-entropy of maskedCrossEntropy.ts as plain tfjs ops, differentiated by tfjs:
 * Σ mask · (logΣexp(row) − row[target]) / normaliser. For backends whose tensors live on a device (webgpu,
 * tfjs-node): the cpu form reads logits into JavaScript arrays with dataSync, which a GPU backend cannot do in
 * Node (webgpu's synchronous read needs the browser's OffscreenCanvas) and which would stall it anyway.
 */
import * as tf from "@tensorflow/tfjs";

/** logits [B, T, V], targets [B, T] int32, mask [B, T] float32 → scalar loss with a gradient w.r.t. logits. */
export function maskedCrossEntropyComposed(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D, normaliser: number): tf.Scalar {
  return tf.tidy(() => {
    const [b, t, vocab] = logits.shape;
    const rows = b * t;
    const flat = logits.reshape([rows, vocab]);
    const logSumExp = tf.logSumExp(flat, 1); // [N]
    // Each row's target logit, picked from the flattened logits (a gather's gradient is a scatter, not a one-hot [N, V]).
    const index = tf.add(tf.mul(tf.range(0, rows, 1, "int32"), tf.scalar(vocab, "int32")), targets.reshape([rows]).toInt());
    const picked = tf.gather(flat.reshape([rows * vocab]), index); // [N]
    const perRow = tf.mul(tf.sub(logSumExp, picked), mask.reshape([rows]).toFloat());
    return tf.div(tf.sum(perRow), normaliser) as tf.Scalar;
  });
}
