/**
 * LoRA adapters as llama.cpp loads them (llama-adapter.cpp, convert_lora_to_gguf.py): a GGUF with
 *   general.type = "adapter", general.architecture = the base's, adapter.type = "lora",
 *   adapter.lora.alpha (f32; llama.cpp's scale = user scale · alpha / r, r = lora_a's ne[1]),
 * and for every adapted base tensor W (ggml shape [n_in, n_out]) the pair
 *   "<W's name>.lora_a"  F32, ggml shape [n_in, r]   (row-major [r][n_in])
 *   "<W's name>.lora_b"  F32, ggml shape [r, n_out]  (row-major [n_out][r])
 * so that W·x + scale · B·(A·x) in ggml's mul_mat convention. Plain named Float32Arrays only: this layer
 * knows nothing of the student.
 */
import { GgmlType } from "./ggmlType.js";
import { ggufMetadataEntry } from "./metadataTypes.js";
import { writeGguf } from "./writeGguf.js";

/** One adapted tensor: A [r, n_in] and B [n_out, r], row-major. */
export interface LoraTensorPair {
  /** The base tensor's name, e.g. "blk.0.attn_q.weight". */
  baseName: string;
  rank: number;
  nIn: number;
  nOut: number;
  a: Float32Array;
  b: Float32Array;
}

export interface LoraAdapterTensors {
  /** The base model's general.architecture (llama.cpp refuses an adapter of another architecture). */
  architecture: string;
  /** adapter.lora.alpha; 0 means "absent" (llama.cpp then uses scale 1). */
  alpha: number;
  pairs: LoraTensorPair[];
  /** general.name, optional. */
  name?: string;
}

export const loraASuffix = ".lora_a";
export const loraBSuffix = ".lora_b";

export async function writeLoraAdapter(path: string, adapter: LoraAdapterTensors): Promise<void> {
  const metadata = [
    ggufMetadataEntry("general.architecture", adapter.architecture),
    ggufMetadataEntry("general.type", "adapter"),
    ...(adapter.name ? [ggufMetadataEntry("general.name", adapter.name)] : []),
    ggufMetadataEntry("adapter.type", "lora"),
    ggufMetadataEntry("adapter.lora.alpha", adapter.alpha),
  ];
  const tensors = adapter.pairs.flatMap((p) => [
    { name: p.baseName + loraASuffix, shape: [p.nIn, p.rank], type: GgmlType.F32, data: p.a },
    { name: p.baseName + loraBSuffix, shape: [p.rank, p.nOut], type: GgmlType.F32, data: p.b },
  ]);
  await writeGguf(path, { metadata, tensors });
}
