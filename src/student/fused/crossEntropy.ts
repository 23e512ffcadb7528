/**
 * The masked next-token cross-entropy of src/student/train/maskedCrossEntropy.ts as native row kernels:
 * per row log Σ e^x (kept for the backward) and the loss, then d loss / d logits = w · (softmax − onehot) /
 * normaliser; rows with mask 0 (prompt and padding) cost nothing. The row losses are summed here in float64,
 * in row order.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray } from "../../backend/nativeAddon.js";
import { activeFusedKernels, float32Values } from "./nativeFused.js";

/**
 * logits [B, T, V], targets [B, T] int32, mask [B, T] float32 → Σ mask·(−log softmax(logits)[target]) / normaliser,
 * with a gradient w.r.t. logits only; undefined when the native kernels are not active.
 */
export function nativeMaskedCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, mask: tf.Tensor2D, normaliser: number): tf.Scalar | undefined {
  const addon = activeFusedKernels();
  const [b, t, vocab] = logits.shape;
  const rows = b * t;
  if (!addon || logits.dtype !== "float32" || targets.dtype !== "int32" || mask.dtype !== "float32" || rows === 0) return undefined;
  if (targets.size !== rows || mask.size !== rows) return undefined;
  const targetIds = targets.dataSync() as Int32Array;
  const weights = float32Values(mask);
  const op = tf.customGrad((...inputs) => {
    const x = inputs[0] as tf.Tensor;
    const values = float32Values(x);
    const lse = outputArray(rows);
    const losses = outputArray(rows);
    addon.crossEntropy(values, targetIds, weights, lse, losses, rows, vocab);
    let total = 0;
    for (const loss of losses) total += loss;
    const gradFunc = (dy: tf.Scalar) => {
      const grad = outputArray(values.length);
      addon.crossEntropyBackward(values, targetIds, weights, lse, grad, rows, vocab, (dy.dataSync()[0]! as number) / normaliser);
      return tf.tensor(grad, x.shape, "float32");
    };
    return { value: tf.scalar(total / normaliser), gradFunc };
  });
  return op(logits);
}
