/**
 * RMSNorm as one native kernel with its gradient: y = x · rsqrt(mean(x²) + eps) · w over the last axis.
 * The backward uses the saved rsqrt per row: dx = r·(dy·w) − x·(r³/n)·Σ(dy·w·x), dw = Σ_rows dy·x·r.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray } from "../../backend/nativeAddon.js";
import { activeFusedKernels, allFloat32, float32Values } from "./nativeFused.js";

/** x [..., n], weight [n] → [..., n]; undefined when the native kernels are not active. */
export function nativeRmsNorm(x: tf.Tensor, weight: tf.Tensor1D, eps: number): tf.Tensor | undefined {
  const addon = activeFusedKernels();
  const n = x.shape[x.shape.length - 1]!;
  if (!addon || !allFloat32(x, weight) || weight.size !== n || x.size === 0) return undefined;
  const rows = x.size / n;
  const op = tf.customGrad((...inputs) => {
    const [xIn, wIn] = inputs as [tf.Tensor, tf.Tensor];
    const xValues = float32Values(xIn);
    const wValues = float32Values(wIn);
    const y = outputArray(x.size);
    const rstd = outputArray(rows);
    addon.rmsNorm(xValues, wValues, y, rstd, rows, n, eps);
    const gradFunc = (dy: tf.Tensor) => {
      const dx = outputArray(x.size);
      const dw = outputArray(n);
      addon.rmsNormBackward(float32Values(dy), xValues, wValues, rstd, dx, dw, rows, n);
      return [tf.tensor(dx, x.shape, "float32"), tf.tensor(dw, weight.shape, "float32")];
    };
    return { value: tf.tensor(y, x.shape, "float32"), gradFunc };
  });
  return op(x, weight);
}
