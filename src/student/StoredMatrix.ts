/**
 * A frozen base matrix kept in its GGUF encoding (Q4_0, Q4_K, Q6_K, F16, ... ): the file's own bytes, memory-
 * mapped where the native addon can map files, never a float32 copy. A 7B Q4_0 model is 3.8 GB this way and
 * 27 GB as float32. Products with it run in native/ (the GEMM packs its panels straight from the blocks, the
 * same floats the dequantized matrix would give, so the same bits), elsewhere one matrix is dequantized at a
 * time for the product and freed after it (storedProduct.ts).
 *
 * Layout as in ggml: `rows` rows (n_out) of `cols` values (n_in, ne0), each row whole blocks, rows back to back:
 * the row-major [n_out, n_in] matrix W of y = x·Wᵀ, like the float32 tensors of weights.ts.
 */
import type * as tf from "@tensorflow/tfjs";
import { nativeAddon } from "../backend/nativeKernels.js";
import { blocksTensor } from "../backend/webgpuDequantize.js";
import { GgmlType, ggmlTypeName } from "../gguf/ggmlType.js";
import { decoderFor } from "../gguf/quant/index.js";

export class StoredMatrix {
  /** [rows, cols]: the shape a float32 weight tensor of weights.ts would have. */
  readonly shape: [number, number];

  constructor(
    /** The GGUF tensor name, e.g. "blk.0.attn_q.weight". */
    readonly name: string,
    readonly type: GgmlType,
    /** rows × bytesPerRow bytes: a view into the mapped file (or a copy read from it). */
    readonly bytes: Uint8Array,
    rows: number,
    cols: number,
  ) {
    this.shape = [rows, cols];
    const decoder = decoderFor(type);
    if (!decoder) throw new Error(`StoredMatrix ${name}: no decoder for ${ggmlTypeName(type)}`);
    if (cols % decoder.blockSize !== 0 || bytes.length !== rows * (cols / decoder.blockSize) * decoder.typeSize) {
      throw new Error(`StoredMatrix ${name}: ${bytes.length} bytes for [${rows}, ${cols}] of ${ggmlTypeName(type)}`);
    }
  }

  get rows(): number {
    return this.shape[0];
  }

  get cols(): number {
    return this.shape[1];
  }

  get typeName(): string {
    return ggmlTypeName(this.type);
  }

  /** Whether native/ multiplies with this matrix in place (its GEMM packs from these blocks). */
  get nativeProduct(): boolean {
    return nativeStoredTypes().has(this.type);
  }

  /** The listed rows as float32, [ids.length, cols]: embedding lookups. Bit-exact with llama.cpp's to_float. */
  rowsOf(ids: ArrayLike<number>): Float32Array {
    const cols = this.cols;
    const out = new Float32Array(ids.length * cols);
    const addon = nativeAddon();
    if (addon && this.nativeProduct) {
      addon.dequantizeRows(this.bytes, this.type, this.rows, cols, Int32Array.from(ids), out);
      return out;
    }
    const decoder = decoderFor(this.type)!;
    const rowBytes = this.bytes.length / this.rows;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.rows) throw new RangeError(`${this.name}: row ${id} outside [0, ${this.rows})`);
      decoder.dequantize(this.bytes.subarray(id * rowBytes, (id + 1) * rowBytes), out.subarray(i * cols, (i + 1) * cols));
    }
    return out;
  }

  private deviceCopy?: tf.Tensor1D;

  /**
   * The blocks as a GPU tensor (raw bytes in int32 words), uploaded on first use and kept until dispose(): what
   * WebGPU's dequantizing shader reads, so GPU memory holds the matrix as the file stores it.
   */
  blocksOnDevice(): tf.Tensor1D {
    this.deviceCopy ??= blocksTensor(this.bytes);
    return this.deviceCopy;
  }

  /** Frees the GPU copy, if any (the blocks themselves are the mapped file's). */
  dispose(): void {
    this.deviceCopy?.dispose();
    this.deviceCopy = undefined;
  }

  /** The whole matrix as float32 [rows, cols] (a temporary: the fallback product and tests). */
  dequantize(): Float32Array {
    return this.rowsOf(Array.from({ length: this.rows }, (_, i) => i));
  }
}

export function isStoredMatrix(value: unknown): value is StoredMatrix {
  return value instanceof StoredMatrix;
}

let nativeTypes: Set<number> | undefined;

/** The ggml types the native GEMM packs from (empty without the addon or in a build without quantized products). */
export function nativeStoredTypes(): Set<number> {
  if (!nativeTypes) {
    const addon = nativeAddon();
    nativeTypes = new Set(addon && typeof addon.quantizedTypes === "function" ? addon.quantizedTypes() : []);
  }
  return nativeTypes;
}

/** The float32 tensor of a weight that must be one (full training makes variables of its weights). */
export function float32Weight<T>(weight: T | StoredMatrix): T {
  if (weight instanceof StoredMatrix) throw new Error(`${weight.name} is kept as ${weight.typeName}: load the model with base weights "f32" to train it whole`);
  return weight;
}
