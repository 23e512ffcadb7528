/**
 * The SwiGLU gate as one native kernel: silu(g) · u, with g·sigmoid(g) and its derivative computed in one
 * pass instead of the sigmoid / multiply / multiply graph and its gradient ops.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray } from "../../backend/nativeAddon.js";
import { activeFusedKernels, allFloat32, float32Values } from "./nativeFused.js";

/** g, u of one shape → silu(g) · u; undefined when the native kernels are not active. */
export function nativeSwiglu(g: tf.Tensor, u: tf.Tensor): tf.Tensor | undefined {
  const addon = activeFusedKernels();
  if (!addon || !allFloat32(g, u) || !tf.util.arraysEqual(g.shape, u.shape) || g.size === 0) return undefined;
  const op = tf.customGrad((...inputs) => {
    const gValues = float32Values(inputs[0] as tf.Tensor);
    const uValues = float32Values(inputs[1] as tf.Tensor);
    const out = outputArray(g.size);
    addon.swiglu(gValues, uValues, out);
    const gradFunc = (dy: tf.Tensor) => {
      const dg = outputArray(g.size);
      const du = outputArray(g.size);
      addon.swigluBackward(float32Values(dy), gValues, uValues, dg, du);
      return [tf.tensor(dg, g.shape, "float32"), tf.tensor(du, u.shape, "float32")];
    };
    return { value: tf.tensor(out, g.shape, "float32"), gradFunc };
  });
  return op(g, u);
}
