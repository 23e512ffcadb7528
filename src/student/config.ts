/**
 * The student's hyper-parameters, read from GGUF metadata the way llama.cpp's llama-model.cpp (and its
 * src/models/<arch>.cpp) reads them (`<arch>.embedding_length`, `<arch>.attention.head_count`, ...), for the
 * architectures the tfjs model implements. Anything else is refused by name.
 */
import { UnsupportedModelError } from "../errors.js";
import { type ArchitectureExtras, gemmaExtras, phi3Extras } from "./architectureExtras.js";

export const supportedArchitectures = ["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"] as const;
export type Architecture = (typeof supportedArchitectures)[number];

/**
 * How RoPE pairs the dimensions of a head. "normal" (llama.cpp LLAMA_ROPE_TYPE_NORM): adjacent pairs
 * (x[2i], x[2i+1]); the GGUF converter already permuted llama's q/k rows for this. "neox": halves
 * (x[i], x[i + n_rot/2]), as qwen2/qwen3 are stored.
 */
export type RopeType = "normal" | "neox";

/** The hyper-parameters; gemma's and phi3's own (sliding window, soft-caps, ...) are ArchitectureExtras. */
export interface LlamaConfig extends ArchitectureExtras {
  architecture: Architecture;
  /** Hidden size (`embedding_length`). */
  nEmbd: number;
  /** Transformer blocks (`block_count`). */
  nLayer: number;
  /** Query heads (`attention.head_count`). */
  nHead: number;
  /** Key/value heads (`attention.head_count_kv`); < nHead means grouped-query attention. */
  nHeadKv: number;
  /** Per-head key (and query) size (`attention.key_length`, default nEmbd / nHead). */
  headDimK: number;
  /** Per-head value size (`attention.value_length`, default nEmbd / nHead). */
  headDimV: number;
  /** SwiGLU hidden size (`feed_forward_length`). */
  nFf: number;
  /** Vocabulary size: rows of token_embd. */
  nVocab: number;
  /** Context length the model was trained with (`context_length`). */
  nCtxTrain: number;
  /** RMSNorm epsilon (`attention.layer_norm_rms_epsilon`). */
  rmsEps: number;
  /** RoPE base frequency (`rope.freq_base`, default 10000). */
  ropeFreqBase: number;
  /** Dimensions of each head that RoPE rotates (`rope.dimension_count`, default headDimK). */
  nRot: number;
  /** Linear RoPE scaling: positions are multiplied by this (1 / `rope.scaling.factor`). */
  ropeFreqScale: number;
  ropeType: RopeType;
  /** No output.weight in the file: the output projection is token_embd (tied embeddings). */
  tiedOutput: boolean;
  /** qwen2: attn_q/k/v carry a bias. */
  qkvBias: boolean;
  /** qwen3, gemma3: RMSNorm over each head of q and k (attn_q_norm, attn_k_norm) before RoPE. */
  qkNorm: boolean;
  /** RoPE's cos and sin are multiplied by this (`rope.scaling.attn_factor`, phi3's long-context models); absent: 1. */
  ropeAttnFactor?: number;
}

/** What the config needs from a GGUF file: node-llama-cpp's parsed metadata and the tensor table. */
export interface GgufModelDescription {
  path: string;
  metadata: object;
  tensors: readonly { name: string; shape: readonly (number | bigint)[] }[];
}

export function configFromGguf(file: GgufModelDescription): LlamaConfig {
  const metadata = file.metadata as Record<string, unknown>;
  const architecture = String(field(metadata, "general.architecture") ?? "(none)");
  if (!(supportedArchitectures as readonly string[]).includes(architecture)) {
    throw new UnsupportedModelError(
      file.path,
      `architecture "${architecture}" is not supported by the tfjs student (supported: ${supportedArchitectures.join(", ")})`,
    );
  }
  const arch = architecture as Architecture;
  const get = (key: string, fallback?: number): number => {
    const value = field(metadata, `${arch}.${key}`);
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      const found = Array.isArray(value) ? "a per-layer array (not supported)" : JSON.stringify(value) ?? "nothing";
      throw new UnsupportedModelError(file.path, `metadata ${arch}.${key}: expected a number, found ${found}`);
    }
    return value;
  };

  const nEmbd = get("embedding_length");
  const nHead = get("attention.head_count");
  const headDimK = get("attention.key_length", nEmbd / nHead);
  const tokenEmbd = file.tensors.find((t) => t.name === "token_embd.weight");
  if (!tokenEmbd) throw new UnsupportedModelError(file.path, "tensor token_embd.weight is missing");
  // Absent, llama.cpp takes "linear" (and then a rope.scaling.factor if there is one).
  const scalingType = field(metadata, `${arch}.rope.scaling.type`) ?? "linear";
  // llama.cpp's longrope (phi3) scales positions as linear does; its per-frequency factors are tensors (weights.ts).
  if (scalingType !== "none" && scalingType !== "linear" && scalingType !== "longrope") {
    throw new UnsupportedModelError(file.path, `metadata ${arch}.rope.scaling.type "${String(scalingType)}": only none, linear and longrope are supported`);
  }
  const scalingFactor = scalingType === "none" ? 1 : get("rope.scaling.factor", 1);
  const ropeAttnFactor = get("rope.scaling.attn_factor", 1);

  const config: LlamaConfig = {
    architecture: arch,
    nEmbd,
    nLayer: get("block_count"),
    nHead,
    nHeadKv: get("attention.head_count_kv", nHead),
    headDimK,
    headDimV: get("attention.value_length", nEmbd / nHead),
    nFf: get("feed_forward_length"),
    nVocab: Number(tokenEmbd.shape[1]),
    nCtxTrain: get("context_length"),
    rmsEps: get("attention.layer_norm_rms_epsilon"),
    ropeFreqBase: get("rope.freq_base", 10000),
    nRot: get("rope.dimension_count", headDimK),
    ropeFreqScale: scalingFactor > 0 ? 1 / scalingFactor : 1,
    ropeType: arch === "llama" ? "normal" : "neox",
    // gemma2's llama.cpp graph reads token_embd as the output even when the file has an output.weight.
    tiedOutput: arch === "gemma2" || !file.tensors.some((t) => t.name === "output.weight"),
    qkvBias: arch === "qwen2",
    qkNorm: arch === "qwen3" || arch === "gemma3",
    ...(ropeAttnFactor !== 1 ? { ropeAttnFactor } : {}),
  };
  const read = { path: file.path, get, field: (key: string) => field(metadata, `${arch}.${key}`) };
  if (arch === "gemma2" || arch === "gemma3") Object.assign(config, gemmaExtras(arch, config, read));
  if (arch === "phi3") Object.assign(config, phi3Extras(config, file.tensors, read));
  checkConsistent(file.path, config);
  return config;
}

function checkConsistent(file: string, c: LlamaConfig): void {
  const problems: string[] = [];
  for (const key of ["nEmbd", "nLayer", "nHead", "nHeadKv", "headDimK", "headDimV", "nFf", "nVocab"] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) problems.push(`${key} = ${c[key]} (expected a positive integer)`);
  }
  if (c.nHead % c.nHeadKv !== 0) problems.push(`head_count ${c.nHead} is not a multiple of head_count_kv ${c.nHeadKv}`);
  if (c.nRot % 2 !== 0 || c.nRot > c.headDimK) problems.push(`rope.dimension_count ${c.nRot} (expected even and ≤ ${c.headDimK})`);
  if (problems.length > 0) throw new UnsupportedModelError(file, `inconsistent hyper-parameters: ${problems.join("; ")}`);
}

/** Reads `a.b.c` from node-llama-cpp's nested metadata object. */
function field(metadata: Record<string, unknown>, dotted: string): unknown {
  let node: unknown = metadata;
  for (const part of dotted.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
