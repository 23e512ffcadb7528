/** How one ggml tensor type turns into float32 and back. */
import type { GgmlType } from "../ggmlType.js";

/** Reading only: the types this project decodes but does not write (their quantizers live in llama.cpp). */
export interface TensorDecoder {
  readonly type: GgmlType;
  /** Values per block (1 for plain float types, 32 or 256 for quantized ones). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** Decodes whole blocks: `src` holds `out.length / blockSize` blocks (llama.cpp's dequantize_row_*). */
  dequantize(src: Uint8Array, out: Float32Array): void;
}

export interface TensorCodec extends TensorDecoder {
  /** Encodes whole blocks: `src.length / blockSize` blocks into `out` (llama.cpp's quantize_row_*_ref layout). */
  quantize(src: Float32Array, out: Uint8Array): void;
}
