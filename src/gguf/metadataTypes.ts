/**
 * GGUF metadata value types (gguf.h `gguf_type`) and the types llama.cpp expects for the keys this project
 * writes. llama.cpp checks a key's stored type exactly (a u32 key written as i32 fails to load), while
 * node-llama-cpp's parsed metadata keeps only JS values, so types come from this table (after gguf-py's
 * `constants.py`) and, for keys it does not know, from the value itself.
 */
export type GgufMetaType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64" | "bool" | "string";

export type GgufMetaValue = number | bigint | boolean | string;

export interface GgufMetadataEntry {
  key: string;
  type: GgufMetaType | "array";
  /** Element type when `type` is "array". */
  arrayType?: GgufMetaType;
  /** number | bigint | boolean | string, or an array (plain or typed) of them for "array". */
  value: unknown;
}

/** Type ids as stored in the file (gguf.h). */
export const ggufTypeId: Record<GgufMetaType | "array", number> = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12,
};

/** Bytes per value of each fixed-size type (strings are length-prefixed instead). */
export const ggufTypeSize: Record<Exclude<GgufMetaType, "string">, number> = {
  u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8,
};

type KnownType = GgufMetaType | { array: GgufMetaType };

/** Keys with a fixed type, full names. */
const knownKeys: Record<string, KnownType> = {
  "general.architecture": "string",
  "general.name": "string",
  "general.type": "string",
  "general.alignment": "u32",
  "general.file_type": "u32",
  "general.quantization_version": "u32",
  "tokenizer.ggml.model": "string",
  "tokenizer.ggml.pre": "string",
  "tokenizer.ggml.tokens": { array: "string" },
  "tokenizer.ggml.token_type": { array: "i32" },
  "tokenizer.ggml.token_type_count": "u32",
  "tokenizer.ggml.scores": { array: "f32" },
  "tokenizer.ggml.merges": { array: "string" },
  "tokenizer.ggml.precompiled_charsmap": { array: "u8" },
  "tokenizer.ggml.add_bos_token": "bool",
  "tokenizer.ggml.add_eos_token": "bool",
  "tokenizer.ggml.add_sep_token": "bool",
  "tokenizer.ggml.add_space_prefix": "bool",
  "tokenizer.ggml.remove_extra_whitespaces": "bool",
  "tokenizer.ggml.eos_token_ids": { array: "u32" },
  "tokenizer.huggingface.json": "string",
  "tokenizer.rwkv.world": "string",
  "tokenizer.chat_template": "string",
  "tokenizer.chat_templates": { array: "string" },
  "adapter.type": "string",
  "adapter.lora.alpha": "f32",
};

/** `tokenizer.ggml.<special>_token_id` keys are all u32. */
const tokenIdKey = /^tokenizer\.ggml\.[a-z_]+_token_id$/;
/** `tokenizer.chat_template.<name>`: named chat templates. */
const namedChatTemplateKey = /^tokenizer\.chat_template\.[^.]+$/;

/** Per-architecture keys, written `<arch>.<suffix>` (llama.cpp LLM_KV names). */
const architectureKeys: Record<string, KnownType> = {
  vocab_size: "u32",
  context_length: "u32",
  embedding_length: "u32",
  block_count: "u32",
  feed_forward_length: "u32",
  expert_count: "u32",
  expert_used_count: "u32",
  "attention.head_count": "u32",
  "attention.head_count_kv": "u32",
  "attention.key_length": "u32",
  "attention.value_length": "u32",
  "attention.layer_norm_epsilon": "f32",
  "attention.layer_norm_rms_epsilon": "f32",
  "attention.sliding_window": "u32",
  "rope.dimension_count": "u32",
  "rope.freq_base": "f32",
  "rope.scaling.type": "string",
  "rope.scaling.factor": "f32",
  "rope.scaling.original_context_length": "u32",
  "rope.scaling.attn_factor": "f32",
  "rope.freq_base_swa": "f32",
  attn_logit_softcapping: "f32",
  final_logit_softcapping: "f32",
};

function knownTypeOf(key: string): KnownType | undefined {
  const known = knownKeys[key];
  if (known) return known;
  if (tokenIdKey.test(key)) return "u32";
  if (namedChatTemplateKey.test(key)) return "string";
  const dot = key.indexOf(".");
  if (dot > 0 && !key.startsWith("general.") && !key.startsWith("tokenizer.")) return architectureKeys[key.slice(dot + 1)];
  return undefined;
}

/** The type a lone value would be stored as when no table entry says otherwise. */
function inferScalarType(value: unknown): GgufMetaType | undefined {
  switch (typeof value) {
    case "string": return "string";
    case "boolean": return "bool";
    case "bigint": return value < 0n ? "i64" : "u64";
    case "number":
      if (!Number.isInteger(value)) return "f32";
      if (value >= 0 && value <= 0xffffffff) return "u32";
      if (value >= -0x80000000 && value < 0) return "i32";
      return "f64";
    default: return undefined;
  }
}

/**
 * A metadata entry for `key` = `value` with the type llama.cpp expects for that key, or, for keys not in the
 * table, the natural type of the value (string, bool, u32/i32 for integers, f32 for fractions, u64/i64 for bigint).
 */
export function ggufMetadataEntry(key: string, value: unknown): GgufMetadataEntry {
  const known = knownTypeOf(key);
  if (known !== undefined) {
    if (typeof known === "string") return { key, type: known, value };
    return { key, type: "array", arrayType: known.array, value };
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const elements = value as ArrayLike<unknown>;
    let arrayType: GgufMetaType = "u32";
    if (value instanceof Float32Array) arrayType = "f32";
    else if (value instanceof Int32Array) arrayType = "i32";
    else if (elements.length > 0) {
      const types = new Set(Array.from(elements, inferScalarType));
      arrayType = types.has("string") ? "string" : types.has("bool") ? "bool" : types.has("f32") || types.has("f64") ? "f32"
        : types.has("i64") ? "i64" : types.has("u64") ? "u64" : types.has("i32") ? "i32" : "u32";
    }
    return { key, type: "array", arrayType, value };
  }
  return { key, type: inferScalarType(value) ?? "string", value };
}
