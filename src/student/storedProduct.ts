/**
 * Products with a frozen base matrix that is either a float32 array or a StoredMatrix (GGUF blocks):
 *   forward   y = x·Wᵀ (+ b)      input gradient   dx = dy·W
 * Natively the stored form goes to the addon's matMulQuantized, which packs the GEMM's panels from the blocks:
 * the same floats in the same summation order as the float32 matrix, so the same bits. Elsewhere (WebGPU, the
 * plain cpu backend) one matrix at a time is dequantized into a temporary tensor for the product and freed
 * right after it — on WebGPU by a shader from the blocks kept in GPU memory (webgpuDequantize.ts): memory holds
 * the stored model plus one float32 matrix, never the float32 model.
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "../backend/nativeAddon.js";
import { outputArray } from "../backend/nativeAddon.js";
import { nativeAddon, nativeKernelsActive } from "../backend/nativeKernels.js";
import { dequantizeOnGpu, gpuDequantizes } from "../backend/webgpuDequantize.js";
import { StoredMatrix } from "./StoredMatrix.js";

/** A frozen weight as the native kernels take it. */
export type WeightValues = Float32Array | StoredMatrix;

/**
 * out [n, nOut] (=, or += when `accumulate`) input [n, nIn]·Wᵀ (+ bias, only when not accumulating), W [nOut, nIn];
 * with `transposeW` false instead out [n, nIn] (=/+=) input [n, nOut]·W. The float32 branch is the exact call
 * the fused kernels always made.
 */
export function weightProduct(
  addon: NativeAddon,
  input: Float32Array,
  w: WeightValues,
  out: Float32Array,
  n: number,
  nOut: number,
  nIn: number,
  transposeW: boolean,
  accumulate: boolean,
  bias: Float32Array | null = null,
): void {
  if (w instanceof StoredMatrix) {
    addon.matMulQuantized(input, w.bytes, w.type, w.rows, w.cols, out, n, transposeW, accumulate, accumulate ? null : bias);
    return;
  }
  const [cols, depth] = transposeW ? [nOut, nIn] : [nIn, nOut];
  if (accumulate) addon.matMulAccumulate(input, w, out, n, cols, depth, false, transposeW);
  else addon.matMul(input, w, out, 1, 1, 1, n, cols, depth, false, transposeW, bias, 0, 0, null);
}

/** Whether the native product with `w` runs now (cpu backend with this project's kernels, a type it packs from). */
export function nativeStoredProduct(w: StoredMatrix): NativeAddon | undefined {
  if (tf.getBackend() !== "cpu" || !nativeKernelsActive() || !w.nativeProduct) return undefined;
  return nativeAddon();
}

/** x [N, n_in] · Wᵀ (+ bias) → [N, n_out], with the gradient to x (W and the bias are frozen). */
export function storedLinear(x: tf.Tensor2D, w: StoredMatrix, bias?: tf.Tensor1D): tf.Tensor2D {
  const [n, nIn] = x.shape;
  const [nOut] = w.shape;
  if (nIn !== w.cols) throw new Error(`${w.name}: input has ${nIn} features, the matrix ${w.cols}`);
  const addon = nativeStoredProduct(w);
  if (!addon || x.dtype !== "float32") return dequantizedLinear(x, w, bias);
  const biasValues = bias ? (bias.dataSync() as Float32Array) : null;
  const op = tf.customGrad((input) => {
    const xValues = (input as tf.Tensor).dataSync() as Float32Array;
    const y = outputArray(n * nOut);
    weightProduct(addon, xValues, w, y, n, nOut, nIn, true, false, biasValues);
    const gradFunc = (dy: tf.Tensor) => {
      const dx = outputArray(n * nIn);
      weightProduct(addon, dy.dataSync() as Float32Array, w, dx, n, nOut, nIn, false, false);
      return tf.tensor(dx, [n, nIn], "float32");
    };
    return { value: tf.tensor(y, [n, nOut], "float32"), gradFunc };
  });
  return op(x) as tf.Tensor2D;
}

/** The other backends: the matrix dequantized for this product only (and again for the backward). */
function dequantizedLinear(x: tf.Tensor2D, w: StoredMatrix, bias?: tf.Tensor1D): tf.Tensor2D {
  const op = tf.customGrad((input) => {
    const weight = dequantizedMatrix(w);
    let y: tf.Tensor = tf.matMul(input as tf.Tensor, weight, false, true);
    if (bias) y = tf.add(y, bias);
    weight.dispose();
    const gradFunc = (dy: tf.Tensor) => {
      const again = dequantizedMatrix(w);
      const dx = tf.matMul(dy, again);
      again.dispose();
      return dx;
    };
    return { value: y, gradFunc };
  });
  return op(x) as tf.Tensor2D;
}

/** W as a float32 tensor: on WebGPU from its blocks in GPU memory by a shader, elsewhere on the host. */
function dequantizedMatrix(w: StoredMatrix): tf.Tensor2D {
  if (tf.getBackend() === "webgpu" && gpuDequantizes(w.type)) return dequantizeOnGpu(w.blocksOnDevice(), w.type, w.rows, w.cols);
  return tf.tensor2d(w.dequantize(), w.shape, "float32");
}

/**
 * token_embd rows for ids: a gather from the float32 table, or the stored rows dequantized on the host (from
 * `idValues` when given: on a GPU backend the ids tensor cannot be read synchronously).
 */
export function embeddingRows(table: tf.Tensor2D | StoredMatrix, ids: tf.Tensor1D, idValues?: readonly number[]): tf.Tensor2D {
  if (!(table instanceof StoredMatrix)) return tf.gather(table, ids) as tf.Tensor2D;
  const rows = table.rowsOf(idValues ?? (ids.dataSync() as Int32Array));
  return tf.tensor2d(rows, [ids.size, table.cols], "float32");
}
