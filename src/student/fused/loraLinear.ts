/**
 * The LoRA projection y = x·Wᵀ (+ bias) + s·(x·Aᵀ)·Bᵀ as one op with its gradient, for a frozen W: the
 * low-rank term is accumulated into the base product's output by the GEMM itself, and in the backward the
 * LoRA path's input gradient into the base one's, so no [N, n_out] or [N, n_in] temporaries are made
 * and added (the composition makes four):
 *     down = s·x·Aᵀ [N, r]        y = x·Wᵀ + b;  y += down·Bᵀ
 *     g = s·dy·B [N, r]           dB = dyᵀ·down,  dA = gᵀ·x,  dx = dy·W;  dx += g·A
 * W and the bias get no gradient: the op is used only when W is not a trainable variable.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray } from "../../backend/nativeAddon.js";
import type { StoredMatrix } from "../StoredMatrix.js";
import { weightProduct } from "../storedProduct.js";
import { activeFusedKernels, allFloat32, float32Values, nativeWeight, weightValues } from "./nativeFused.js";

/** x [N, n_in], weight [n_out, n_in], bias [n_out]?, a [r, n_in], b [n_out, r] → [N, n_out]; undefined when not native. */
export function nativeLoraLinear(
  x: tf.Tensor2D,
  weight: tf.Tensor2D | StoredMatrix,
  bias: tf.Tensor1D | undefined,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scale: number,
): tf.Tensor2D | undefined {
  const addon = activeFusedKernels();
  const [n, nIn] = x.shape;
  const [nOut] = weight.shape;
  const r = a.shape[0];
  if (!addon || !allFloat32(x, a, b) || !nativeWeight(weight) || (bias && (bias.dtype !== "float32" || bias.size !== nOut))) return undefined;
  if (weight instanceof tf.Variable && weight.trainable) return undefined; // W needs its gradient: the composition
  if (weight.shape[1] !== nIn || a.shape[1] !== nIn || b.shape[0] !== nOut || b.shape[1] !== r || n === 0 || r === 0) return undefined;
  const w = weightValues(weight);
  const biasValues = bias ? float32Values(bias) : null;
  const op = tf.customGrad((...inputs) => {
    const [xValues, aValues, bValues] = (inputs.slice(0, 3) as tf.Tensor[]).map(float32Values) as [Float32Array, Float32Array, Float32Array];
    const y = outputArray(n * nOut);
    weightProduct(addon, xValues, w, y, n, nOut, nIn, true, false, biasValues); // x·Wᵀ + b
    const down = outputArray(n * r);
    addon.matMul(xValues, aValues, down, 1, 1, 1, n, r, nIn, false, true, null, 0, 0, null); // x·Aᵀ
    for (let i = 0; i < down.length; i++) down[i] *= scale;
    addon.matMulAccumulate(down, bValues, y, n, nOut, r, false, true); // y += down·Bᵀ
    const gradFunc = (dy: tf.Tensor) => {
      const dyValues = float32Values(dy);
      const g = outputArray(n * r);
      addon.matMul(dyValues, bValues, g, 1, 1, 1, n, r, nOut, false, false, null, 0, 0, null); // dy·B
      for (let i = 0; i < g.length; i++) g[i] *= scale;
      const dB = outputArray(nOut * r);
      addon.matMul(dyValues, down, dB, 1, 1, 1, nOut, r, n, true, false, null, 0, 0, null); // dyᵀ·down
      const dA = outputArray(r * nIn);
      addon.matMul(g, xValues, dA, 1, 1, 1, r, nIn, n, true, false, null, 0, 0, null); // gᵀ·x
      const dx = outputArray(n * nIn);
      weightProduct(addon, dyValues, w, dx, n, nOut, nIn, false, false); // dy·W
      addon.matMulAccumulate(g, aValues, dx, n, nIn, r, false, false); // dx += g·A
      return [tf.tensor(dx, x.shape, "float32"), tf.tensor(dA, a.shape, "float32"), tf.tensor(dB, b.shape, "float32")];
    };
    return { value: tf.tensor(y, [n, nOut], "float32"), gradFunc };
  });
  return op(x, a, b) as tf.Tensor2D;
}
