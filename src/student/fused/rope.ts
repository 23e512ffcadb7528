/**
 * RoPE as one native kernel: rotates the first nRot dims of each head by the position's angles, in place of
 * the slice / stack / multiply graph of the composition. Its gradient is the rotation by the opposite angle.
 */
import * as tf from "@tensorflow/tfjs";
import type { RopeType } from "../config.js";
import { outputArray } from "../../backend/nativeAddon.js";
import { activeFusedKernels, allFloat32, float32Values } from "./nativeFused.js";

/** x [B, T, H, D]; cos, sin [B, T, 1, nRot/2]; undefined when the native kernels are not active. */
export function nativeRope(
  x: tf.Tensor4D,
  angles: { cos: tf.Tensor; sin: tf.Tensor },
  nRot: number,
  type: RopeType,
): tf.Tensor4D | undefined {
  const addon = activeFusedKernels();
  const [b, t, h, d] = x.shape;
  const positions = b * t;
  const half = nRot / 2;
  if (!addon || !allFloat32(x, angles.cos, angles.sin) || x.size === 0 || nRot % 2 !== 0 || nRot > d) return undefined;
  if (angles.cos.size !== positions * half || angles.sin.size !== positions * half) return undefined;
  const cos = float32Values(angles.cos);
  const sin = float32Values(angles.sin);
  const neox = type === "neox";
  const rotate = (values: Float32Array, inverse: boolean) => {
    const out = outputArray(values.length);
    addon.rope(values, cos, sin, out, positions, h, d, nRot, neox, inverse);
    return tf.tensor(out, x.shape, "float32");
  };
  const op = tf.customGrad((...inputs) => {
    const value = rotate(float32Values(inputs[0] as tf.Tensor), false);
    return { value, gradFunc: (dy: tf.Tensor) => [rotate(float32Values(dy), true)] };
  });
  return op(x) as tf.Tensor4D;
}
