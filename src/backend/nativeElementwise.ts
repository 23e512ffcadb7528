/**
 * tfjs cpu-backend kernels for Add, Sub, Multiply and RealDiv that run natively (native/src/fused, `binary`) when
 * both inputs are float32 and each, leading 1s dropped, is a suffix of the output's shape (same shapes, a
 * scalar, a row vector against a matrix): then out[i] = a[i mod |a|] op b[i mod |b|], which is what the
 * JavaScript kernel computes too. Every other case goes to the JavaScript kernel. The JS kernels of these
 * ops pay a closure call and a modulo per element, and with any broadcast (a scalar included) three small
 * arrays per element: in a training step the gradient sums and residual adds took a quarter of the time,
 * and AdamW's divisions by a scalar fed most of the garbage collector's work.
 */
import * as tf from "@tensorflow/tfjs";
import { outputArray, type NativeAddon } from "./nativeAddon.js";

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

export const nativeBinaryOps = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
export type NativeBinaryKernel = keyof typeof nativeBinaryOps;

/** Below this many outputs the JS kernel is as fast as the call into the addon. */
const minNativeSize = 256;

function isSuffix(shape: number[], of: number[]): boolean {
  let start = 0;
  while (start < shape.length && shape[start] === 1) start++;
  const core = shape.slice(start);
  return core.length <= of.length && core.every((d, i) => d === of[of.length - core.length + i]);
}

export function nativeBinaryKernel(addon: NativeAddon, name: NativeBinaryKernel, fallback: tf.KernelFunc): tf.KernelFunc {
  const op = nativeBinaryOps[name];
  const kernel = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as CpuBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const js = () => fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    if (a.dtype !== "float32" || b.dtype !== "float32") return js();
    let outShape: number[];
    try {
      outShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
    } catch {
      return js(); // the JS kernel throws tfjs's own message
    }
    const size = tf.util.sizeFromShape(outShape);
    if (size < minNativeSize || !isSuffix(a.shape, outShape) || !isSuffix(b.shape, outShape)) return js();
    const aValues = backend.data.get(a.dataId).values;
    const bValues = backend.data.get(b.dataId).values;
    if (!(aValues instanceof Float32Array) || !(bValues instanceof Float32Array)) return js();
    const out = outputArray(size);
    addon.binary(op, aValues, bValues, out);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
  return kernel as tf.KernelFunc;
}
