/**
 * tfjs cpu-backend kernels for BatchMatMul and _FusedMatMul that run the native SGEMM.
 *
 * Semantics are those of @tensorflow/tfjs-backend-cpu's own kernels (kernels/BatchMatMul.js,
 * kernels/_FusedMatMul.js): outer dimensions are flattened and indexed modulo their size, the fused
 * form adds the bias and applies the activation with the same formulas. Every case this file does
 * not handle natively (other dtypes, shapes whose batches do not line up, bias or PReLU weights that
 * are not per-column, unknown activations) goes to the original JavaScript kernel, so a result is
 * never different from plain tfjs, only faster. Gradients of matMul are matMuls (BatchMatMul_grad),
 * so they run here too.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeActivation, outputArray, type NativeActivationName, type NativeAddon } from "./nativeAddon.js";

/** What a cpu kernel receives (tfjs's KernelFunc parameters, with the cpu backend's shape). */
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** Shapes of one product in the tfjs kernel's terms, or undefined when it cannot run natively. */
interface MatMulShape {
  batch: number;
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  outShape: number[];
}

function matMulShape(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): MatMulShape | undefined {
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  if (aRank < 2 || bRank < 2) return undefined;
  const k = transposeA ? a.shape[aRank - 2]! : a.shape[aRank - 1]!;
  const kB = transposeB ? b.shape[bRank - 1]! : b.shape[bRank - 2]!;
  const m = transposeA ? a.shape[aRank - 1]! : a.shape[aRank - 2]!;
  const n = transposeB ? b.shape[bRank - 2]! : b.shape[bRank - 1]!;
  if (k !== kB) return undefined; // the JS kernel throws tfjs's own message
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  let outerShape: number[];
  try {
    outerShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return undefined;
  }
  const batch = Math.max(batchA, batchB);
  // The JS kernel computes max(batchA, batchB) products; where that is not the broadcast shape's
  // size (e.g. [2, 1] against [1, 3]) it misbehaves, and we leave it to do so on its own.
  if (batchA === 0 || batchB === 0 || tf.util.sizeFromShape(outerShape) !== batch) return undefined;
  if (batch % batchA !== 0 || batch % batchB !== 0) return undefined;
  return { batch, batchA, batchB, m, n, k, outShape: [...outerShape, m, n] };
}

function float32Values(backend: CpuBackend, tensor: tf.TensorInfo): Float32Array | undefined {
  if (tensor.dtype !== "float32") return undefined;
  const values = backend.data.get(tensor.dataId).values;
  return values instanceof Float32Array ? values : undefined;
}

/** Values of a bias or PReLU tensor that is one value per output column (or a scalar), else undefined. */
function perColumnValues(backend: CpuBackend, tensor: tf.TensorInfo, n: number): Float32Array | undefined {
  const size = tf.util.sizeFromShape(tensor.shape);
  const leadingOnes = tensor.shape.slice(0, -1).every((d) => d === 1);
  if (!(size === 1 || (size === n && leadingOnes && tensor.shape[tensor.shape.length - 1] === n))) return undefined;
  return float32Values(backend, tensor);
}

export interface MatMulKernels {
  batchMatMul: tf.KernelFunc;
  fusedMatMul: tf.KernelFunc;
}

/** Native kernel functions; `fallback` holds the original JS ones for the cases left to them. */
export function nativeMatMulKernels(addon: NativeAddon, fallback: MatMulKernels): MatMulKernels {
  const batchMatMul = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as CpuBackend;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA = false, transposeB = false } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const shape = matMulShape(a, b, transposeA, transposeB);
    const aValues = float32Values(backend, a);
    const bValues = float32Values(backend, b);
    if (!shape || !aValues || !bValues) return fallback.batchMatMul(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const out = outputArray(shape.batch * shape.m * shape.n); // [batch, m, n]
    addon.matMul(aValues, bValues, out, shape.batch, shape.batchA, shape.batchB, shape.m, shape.n, shape.k,
      transposeA, transposeB, null, nativeActivation.linear, 0, null);
    return backend.makeTensorInfo(shape.outShape, "float32", out);
  };

  const fusedMatMul = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as CpuBackend;
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: tf.TensorInfo;
      b: tf.TensorInfo;
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const attrs = (args.attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
      leakyreluAlpha?: number;
    };
    const { transposeA = false, transposeB = false } = attrs;
    const activation = (attrs.activation ?? "linear") as NativeActivationName;
    const jsKernel = () => fallback.fusedMatMul(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;

    const shape = matMulShape(a, b, transposeA, transposeB);
    const aValues = float32Values(backend, a);
    const bValues = float32Values(backend, b);
    if (!shape || !aValues || !bValues || !(activation in nativeActivation)) return jsKernel();
    if (activation === "leakyrelu" && typeof attrs.leakyreluAlpha !== "number") return jsKernel();
    if (activation === "prelu" && !preluActivationWeights) return jsKernel();

    // The JS kernel adds the bias and applies PReLU with broadcasting: the output takes their ranks too.
    let outShape = shape.outShape;
    let biasValues: Float32Array | null = null;
    let preluValues: Float32Array | null = null;
    if (bias) {
      biasValues = perColumnValues(backend, bias, shape.n) ?? null;
      if (!biasValues) return jsKernel();
      outShape = tf.broadcast_util.assertAndGetBroadcastShape(outShape, bias.shape);
    }
    if (activation === "prelu") {
      preluValues = perColumnValues(backend, preluActivationWeights!, shape.n) ?? null;
      if (!preluValues) return jsKernel();
      outShape = tf.broadcast_util.assertAndGetBroadcastShape(outShape, preluActivationWeights!.shape);
    }
    const out = outputArray(shape.batch * shape.m * shape.n); // [batch, m, n]
    addon.matMul(aValues, bValues, out, shape.batch, shape.batchA, shape.batchB, shape.m, shape.n, shape.k,
      transposeA, transposeB, biasValues, nativeActivation[activation], attrs.leakyreluAlpha ?? 0.2, preluValues);
    return backend.makeTensorInfo(outShape, "float32", out);
  };

  return { batchMatMul: batchMatMul as tf.KernelFunc, fusedMatMul: fusedMatMul as tf.KernelFunc };
}
