/**
 * The output projection and the masked next-token cross-entropy as one op, over the rows in the loss only.
 * A training batch masks its prompt and padding positions out of the loss (weight 0): their logits change
 * neither the loss nor any gradient, so the op projects only the M rows of weight ≠ 0 (about half of a
 * batch: half of the output head's products, and an [M, V] logits array instead of [B·T, V]):
 *     z = hidden[rows]·Wᵀ (+ b);  loss = Σ w·(logsumexp(z) − z[target]) / normaliser
 *     dz = w·(softmax(z) − onehot) / normaliser;  dhidden[rows] = dz·W, 0 on the other rows.
 * Per row the same kernels as the unfused path (src/student/fused/crossEntropy.ts after the output matmul),
 * so the loss and the gradients equal those of forward() + maskedCrossEntropy to float32 rounding.
 */
import * as tf from "@tensorflow/tfjs";
import type { Linear } from "../layers.js";
import { weightProduct } from "../storedProduct.js";
import { blockBuffers } from "./block.js";
import { activeFusedKernels, float32Values, nativeWeight, weightValues } from "./nativeFused.js";

/**
 * hidden [B, T, E] (the final norm's output), output projection W [V, E], targets [B, T] int32, mask [B, T]
 * float32 → the masked loss, a scalar with a gradient w.r.t. hidden; undefined when the native kernels are not
 * active or W is trainable.
 */
export function nativeHeadCrossEntropy(
  hidden: tf.Tensor3D,
  output: Linear,
  targets: tf.Tensor2D,
  mask: tf.Tensor2D,
  normaliser: number,
): tf.Scalar | undefined {
  const addon = activeFusedKernels();
  const [b, t, e] = hidden.shape;
  const [vocab, nIn] = output.weight.shape;
  const rows = b * t;
  if (!addon || hidden.dtype !== "float32" || !nativeWeight(output.weight) || targets.dtype !== "int32" || mask.dtype !== "float32") return undefined;
  if (nIn !== e || targets.size !== rows || mask.size !== rows || rows === 0 || (output.bias && output.bias.dtype !== "float32")) return undefined;
  if (output.weight instanceof tf.Variable && output.weight.trainable) return undefined;
  const allTargets = targets.dataSync() as Int32Array;
  const allWeights = float32Values(mask);
  const kept: number[] = [];
  for (let r = 0; r < rows; r++) if (allWeights[r] !== 0) kept.push(r);
  const m = kept.length;
  const rowTargets = Int32Array.from(kept, (r) => allTargets[r]!);
  const rowWeights = Float32Array.from(kept, (r) => allWeights[r]!);
  const w = weightValues(output.weight);
  const bias = output.bias ? float32Values(output.bias) : null;
  const op = tf.customGrad((...inputs) => {
    const x = float32Values(inputs[0] as tf.Tensor);
    if (m === 0) return { value: tf.scalar(0), gradFunc: () => tf.zeros(hidden.shape) };
    const selected = blockBuffers.take(m * e);
    kept.forEach((r, i) => selected.set(x.subarray(r * e, (r + 1) * e), i * e));
    const logits = blockBuffers.take(m * vocab); // [M, V]: kept for the backward, then reused next step
    weightProduct(addon, selected, w, logits, m, vocab, e, true, false, bias);
    const lse = blockBuffers.take(m);
    const losses = blockBuffers.take(m);
    addon.crossEntropy(logits, rowTargets, rowWeights, lse, losses, m, vocab);
    let total = 0;
    for (const loss of losses) total += loss;
    blockBuffers.give(selected);
    blockBuffers.give(losses);
    const gradFunc = (dy: tf.Scalar) => {
      // The logits' gradient overwrites the logits (each row is read before it is written).
      addon.crossEntropyBackward(logits, rowTargets, rowWeights, lse, logits, m, vocab, (dy.dataSync()[0]! as number) / normaliser);
      const dSelected = blockBuffers.take(m * e);
      weightProduct(addon, logits, w, dSelected, m, vocab, e, false, false);
      const dx = new Float32Array(rows * e); // rows out of the loss: 0
      kept.forEach((r, i) => dx.set(dSelected.subarray(i * e, (i + 1) * e), r * e));
      for (const buffer of [logits, lse, dSelected]) blockBuffers.give(buffer);
      return tf.tensor(dx, hidden.shape, "float32");
    };
    return { value: tf.scalar(total / normaliser), gradFunc };
  });
  return op(hidden);
}
