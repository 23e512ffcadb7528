/**
 * The hyper-parameters of a llama model trained from scratch, and their GGUF metadata (the `llama.*` keys
 * llama.cpp's llama-model.cpp reads). One flat place for a toy model's size.
 */
import { ggufMetadataEntry, type GgufMetadataEntry } from "../../gguf/index.js";

export interface LlamaShape {
  /** Hidden size E (`llama.embedding_length`). */
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Key/value heads; < nHead is grouped-query attention. */
  nHeadKv: number;
  /** SwiGLU hidden size F. */
  nFf: number;
  /** Training context (`llama.context_length`). */
  nCtx: number;
  nVocab: number;
  /** Default 1e-5. */
  rmsEps?: number;
  /** Default 10000. */
  ropeFreqBase?: number;
}

/** Tensor names and shapes in llama.cpp's layout; `shape` is the JS row-major [rows, cols] (= ggml [cols, rows]). */
export interface ShapedTensor {
  name: string;
  shape: number[];
  /** What it is, for initialisation and weight decay. */
  role: "embedding" | "norm" | "matrix" | "residualOut" | "output";
}

export function llamaTensors(s: LlamaShape): ShapedTensor[] {
  const E = s.nEmbd;
  const D = E / s.nHead;
  const out: ShapedTensor[] = [{ name: "token_embd.weight", shape: [s.nVocab, E], role: "embedding" }];
  for (let l = 0; l < s.nLayer; l++) {
    const p = `blk.${l}`;
    out.push(
      { name: `${p}.attn_norm.weight`, shape: [E], role: "norm" },
      { name: `${p}.attn_q.weight`, shape: [s.nHead * D, E], role: "matrix" },
      { name: `${p}.attn_k.weight`, shape: [s.nHeadKv * D, E], role: "matrix" },
      { name: `${p}.attn_v.weight`, shape: [s.nHeadKv * D, E], role: "matrix" },
      { name: `${p}.attn_output.weight`, shape: [E, s.nHead * D], role: "residualOut" },
      { name: `${p}.ffn_norm.weight`, shape: [E], role: "norm" },
      { name: `${p}.ffn_gate.weight`, shape: [s.nFf, E], role: "matrix" },
      { name: `${p}.ffn_up.weight`, shape: [s.nFf, E], role: "matrix" },
      { name: `${p}.ffn_down.weight`, shape: [E, s.nFf], role: "residualOut" },
    );
  }
  out.push({ name: "output_norm.weight", shape: [E], role: "norm" }, { name: "output.weight", shape: [s.nVocab, E], role: "output" });
  return out;
}

export function parameterCount(s: LlamaShape): number {
  return llamaTensors(s).reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** The `general.*` and `llama.*` keys (no tokenizer: copy those from the vocabulary file). */
export function llamaMetadata(s: LlamaShape, name: string): GgufMetadataEntry[] {
  return [
    ggufMetadataEntry("general.architecture", "llama"),
    ggufMetadataEntry("general.name", name),
    ggufMetadataEntry("llama.context_length", s.nCtx),
    ggufMetadataEntry("llama.embedding_length", s.nEmbd),
    ggufMetadataEntry("llama.block_count", s.nLayer),
    ggufMetadataEntry("llama.feed_forward_length", s.nFf),
    ggufMetadataEntry("llama.attention.head_count", s.nHead),
    ggufMetadataEntry("llama.attention.head_count_kv", s.nHeadKv),
    ggufMetadataEntry("llama.attention.layer_norm_rms_epsilon", s.rmsEps ?? 1e-5),
    ggufMetadataEntry("llama.rope.freq_base", s.ropeFreqBase ?? 10000),
    ggufMetadataEntry("llama.rope.dimension_count", s.nEmbd / s.nHead),
    ggufMetadataEntry("llama.vocab_size", s.nVocab),
  ];
}

/** node-llama-cpp's nested metadata form ({llama: {attention: {head_count}}}) of flat entries. */
export function nestedMetadata(entries: readonly GgufMetadataEntry[]): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const entry of entries) {
    const parts = entry.key.split(".");
    let node = nested;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts.at(-1)!] = entry.value;
  }
  return nested;
}
