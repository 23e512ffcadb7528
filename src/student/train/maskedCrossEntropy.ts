/**
 * Next-token cross-entropy over completion tokens only (DESIGN.md §3): positions whose target is prompt or
 * padding carry mask 0. The sum is divided by `normaliser`, the completion-token count of the whole
 * optimizer step (all accumulated micro-batches), so accumulation gives the same gradient as one big batch.
 *
 * Written as one fused op with its own gradient, d loss / d logits = mask · (softmax − onehot) / normaliser,
 * computed row by row in plain typed arrays: tfjs's cpu backend runs the unfused form (logSoftmax, oneHot,
 * broadcast multiplies over [B·T, V]) about 100x slower, and masked rows (the prompt half) cost nothing here.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeMaskedCrossEntropy } from "../fused/crossEntropy.js";
import { maskedCrossEntropyComposed } from "./maskedCrossEntropyComposed.js";

/**
 * logits [B, T, V] at input positions, targets [B, T] int32 (the next token), mask [B, T] float32 (1 = in
 * the loss). Returns Σ mask · (−log softmax(logits)[target]) / normaliser, a scalar with a gradient w.r.t.
 * logits only.
 */
export function maskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D, normaliser: number): tf.Scalar {
  // The same op as native row kernels on the cpu backend with native kernels (src/student/fused).
  const native = nativeMaskedCrossEntropy(logits, targets, mask, normaliser);
  if (native) return native;
  // Tensors on a device (webgpu, tfjs-node): no synchronous reads, tfjs ops on the device instead.
  if (tf.getBackend() !== "cpu") return maskedCrossEntropyComposed(logits, targets, mask, normaliser);
  const targetIds = targets.dataSync() as Int32Array;
  const weights = mask.dataSync() as Float32Array;
  const vocab = logits.shape[2];
  const op = tf.customGrad<tf.Scalar>((...inputs) => {
    const x = inputs[0] as tf.Tensor;
    const values = x.dataSync() as Float32Array; // [N·V], N = B·T
    const logSumExp = new Float64Array(weights.length);
    let total = 0;
    for (let n = 0; n < weights.length; n++) {
      if (weights[n] === 0) continue;
      const row = n * vocab;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) max = Math.max(max, values[row + v]!);
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(values[row + v]! - max);
      logSumExp[n] = max + Math.log(sum);
      total += weights[n]! * (logSumExp[n]! - values[row + targetIds[n]!]!);
    }
    const value = tf.scalar(total / normaliser);
    const gradFunc = (dy: tf.Scalar) => {
      const scale = (dy.dataSync()[0]! as number) / normaliser;
      const grad = new Float32Array(values.length); // masked rows stay 0
      for (let n = 0; n < weights.length; n++) {
        if (weights[n] === 0) continue;
        const row = n * vocab;
        const w = scale * weights[n]!;
        for (let v = 0; v < vocab; v++) grad[row + v] = w * Math.exp(values[row + v]! - logSumExp[n]!);
        grad[row + targetIds[n]!] -= w;
      }
      return tf.tensor(grad, x.shape);
    };
    return { value, gradFunc };
  });
  return op(logits);
}
