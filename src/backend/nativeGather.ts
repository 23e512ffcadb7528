/**
 * GatherV2 for the tfjs cpu backend by whole rows: the embedding lookup of every forward pass. tfjs's own
 * kernel computes each output element's source through index arithmetic (a few hundred ns per value); here
 * each gathered slice is one typed-array copy. Plain TypeScript (a memcpy per row is all there is to do),
 * registered with the native kernels. Cases other than batchDims 0, in-range int32 indices and slices of at
 * least `minSlice` values go to the JavaScript kernel, which also raises tfjs's errors.
 */
import * as tf from "@tensorflow/tfjs";

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
}

const minSlice = 16;

export function rowGatherKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  const kernel = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const backend = args.backend as CpuBackend;
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis = 0, batchDims = 0 } = (args.attrs ?? {}) as { axis?: number; batchDims?: number };
    const js = () => fallback(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    if (batchDims !== 0 || indices.dtype !== "int32" || x.shape.length === 0) return js();
    const a = axis < 0 ? axis + x.shape.length : axis;
    if (a < 0 || a >= x.shape.length) return js();
    const values = backend.data.get(x.dataId).values;
    const ids = backend.data.get(indices.dataId).values;
    if (!(values instanceof Float32Array || values instanceof Int32Array) || !(ids instanceof Int32Array)) return js();
    const outer = tf.util.sizeFromShape(x.shape.slice(0, a));
    const rows = x.shape[a]!;
    const inner = tf.util.sizeFromShape(x.shape.slice(a + 1));
    if (inner < minSlice) return js();
    for (const id of ids) if (id < 0 || id >= rows) return js();
    const out = new (values.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(outer * ids.length * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < ids.length; i++) {
        const from = (o * rows + ids[i]!) * inner;
        out.set(values.subarray(from, from + inner), (o * ids.length + i) * inner);
      }
    }
    const outShape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
    return backend.makeTensorInfo(outShape, x.dtype, out);
  };
  return kernel as tf.KernelFunc;
}
