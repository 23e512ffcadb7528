/**
 * A tiny random-weight llama GGUF written by the project's own writer, for tests that load it in llama.cpp.
 * The tokenizer is copied from a vocabulary GGUF; `zeroBlocks` zeroes attn_output and ffn_down so each block
 * adds nothing to the residual stream, which makes the final hidden state rmsnorm(token_embd[token]).
 */
import { GgmlType, ggufMetadataEntry, tokenizerMetadataFrom, writeGguf, type GgufTensorToWrite } from "../src/gguf/index.js";
import { mulberry32 } from "../src/util/mulberry32.js";

export interface TinyLlamaOptions {
  path: string;
  vocabGguf: string;
  type: GgmlType;
  /** Type of output.weight (default: `type`). */
  outputType?: GgmlType;
  nEmbd?: number;
  nFf?: number;
  nHead?: number;
  nHeadKv?: number;
  nLayer?: number;
  seed?: number;
  zeroBlocks?: boolean;
}

/** Deterministic uniform numbers in [-scale, scale) (mulberry32). */
export function seededRandom(seed: number, length: number, scale: number): Float32Array {
  const next = mulberry32(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}

export async function writeTinyLlama(options: TinyLlamaOptions): Promise<GgufTensorToWrite[]> {
  const { type, nEmbd = 256, nFf = 512, nHead = 4, nHeadKv = 2, nLayer = 1, seed = 1, zeroBlocks = false } = options;
  const tokenizer = await tokenizerMetadataFrom(options.vocabGguf);
  const nVocab = (tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")!.value as string[]).length;
  const headDim = nEmbd / nHead;
  let nextSeed = seed;
  const random = (shape: number[], scale = 0.08): Float32Array => seededRandom(nextSeed++, shape.reduce((a, b) => a * b, 1), scale);
  const matrix = (name: string, shape: number[], zero = false): GgufTensorToWrite => ({
    name, shape, type, data: zero ? new Float32Array(shape[0]! * shape[1]!) : random(shape),
  });
  const norm = (name: string): GgufTensorToWrite => ({ name, shape: [nEmbd], type: GgmlType.F32, data: Float32Array.from(random([nEmbd], 0.2), (v) => 1 + v) });
  const tensors: GgufTensorToWrite[] = [matrix("token_embd.weight", [nEmbd, nVocab])];
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      matrix(`blk.${l}.attn_q.weight`, [nEmbd, nEmbd]),
      matrix(`blk.${l}.attn_k.weight`, [nEmbd, headDim * nHeadKv]),
      matrix(`blk.${l}.attn_v.weight`, [nEmbd, headDim * nHeadKv]),
      matrix(`blk.${l}.attn_output.weight`, [nEmbd, nEmbd], zeroBlocks),
      norm(`blk.${l}.ffn_norm.weight`),
      matrix(`blk.${l}.ffn_gate.weight`, [nEmbd, nFf]),
      matrix(`blk.${l}.ffn_up.weight`, [nEmbd, nFf]),
      matrix(`blk.${l}.ffn_down.weight`, [nFf, nEmbd], zeroBlocks),
    );
  }
  tensors.push(
    { name: "output_norm.weight", shape: [nEmbd], type: GgmlType.F32, data: new Float32Array(nEmbd).fill(1) },
    { ...matrix("output.weight", [nEmbd, nVocab]), type: options.outputType ?? type },
  );
  const architecture = {
    context_length: 128, embedding_length: nEmbd, block_count: nLayer, feed_forward_length: nFf,
    "attention.head_count": nHead, "attention.head_count_kv": nHeadKv, "rope.dimension_count": headDim,
    "attention.layer_norm_rms_epsilon": 1e-5, "rope.freq_base": 10000,
  };
  await writeGguf(options.path, {
    metadata: [
      ggufMetadataEntry("general.architecture", "llama"),
      ggufMetadataEntry("general.name", `tiny llama ${GgmlType[type]}`),
      ...Object.entries(architecture).map(([key, value]) => ggufMetadataEntry(`llama.${key}`, value)),
      ...tokenizer,
    ],
    tensors,
  });
  return tensors;
}
