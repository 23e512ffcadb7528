/**
 * Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_): when ‖g‖₂ over all gradients together
 * exceeds maxNorm, every gradient is scaled by maxNorm / (‖g‖₂ + 1e-6). Returns the norm before clipping.
 */
import * as tf from "@tensorflow/tfjs";

export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  // A chain of adds, not tf.addN: webgpu's AddN binds every input at once, past the device's storage-buffer limit.
  const norm = tf.sqrt(grads.map((g) => g.square().sum()).reduce((sum, x) => tf.add(sum, x))) as tf.Scalar;
  // min(1, maxNorm / (norm + 1e-6)) stays a tensor: no GPU→CPU sync inside the step.
  const factor = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
  return { grads: grads.map((g) => g.mul(factor)), norm };
}

/** ‖g‖₂ over all gradients together, from their values (summed in float64, in order). */
export function globalNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}
