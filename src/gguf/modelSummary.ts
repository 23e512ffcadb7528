/**
 * What a GGUF holds, in a few numbers: architecture, parameter count, tensor types, hyperparameters,
 * tokenizer. Everything comes from the metadata and the tensor table; no tensor data is read.
 */
import { GgufFileType } from "node-llama-cpp";
import { ggmlTypeName } from "./ggmlType.js";
import type { GgufFile } from "./openGguf.js";
import { decoderFor } from "./quant/index.js";

export interface GgufModelSummary {
  file: string;
  fileSize: number;
  ggufVersion: number;
  architecture: string;
  name?: string;
  /** No tensors: a vocabulary-only GGUF (tokenizer tests, `vocabOnly` loads). */
  vocabOnly: boolean;
  /** general.file_type by llama.cpp's name (MOSTLY_Q4_K_M ...), when the file says. */
  fileType?: string;
  parameters: number;
  tensorCount: number;
  /** Tensor count per ggml type, e.g. { F16: 9, F32: 3 }. */
  tensorTypes: Record<string, number>;
  /** Types present that llm2llm cannot dequantize (the tfjs student cannot load such a file). */
  unreadableTensorTypes: string[];
  hyperparameters: {
    contextLength?: number;
    embeddingLength?: number;
    blockCount?: number;
    headCount?: number | number[];
    headCountKv?: number | number[];
    feedForwardLength?: number | number[];
    ropeDimensionCount?: number;
    ropeFreqBase?: number;
    rmsNormEpsilon?: number;
  };
  tokenizer?: {
    model?: string;
    pre?: string;
    vocabSize?: number;
    mergesCount?: number;
    bosTokenId?: number;
    eosTokenId?: number;
    addBosToken?: boolean;
    hasChatTemplate: boolean;
  };
}

type Nested = Record<string, unknown>;

function child(object: unknown, key: string): Nested | undefined {
  const value = (object as Nested | undefined)?.[key];
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Nested) : undefined;
}

function numberOrList(value: unknown): number | number[] | undefined {
  if (typeof value === "number" || typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(Number);
  return undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" || typeof value === "bigint" ? Number(value) : undefined;
}

export function summarizeGguf(file: GgufFile): GgufModelSummary {
  const general = child(file.metadata, "general");
  const arch = child(file.metadata, file.architecture);
  const attention = child(arch, "attention");
  const rope = child(arch, "rope");
  const tokenizerRoot = child(file.metadata, "tokenizer");
  const ggml = child(tokenizerRoot, "ggml");

  const tensorTypes: Record<string, number> = {};
  const unreadable = new Set<string>();
  let parameters = 0;
  for (const tensor of file.tensors) {
    const type = ggmlTypeName(tensor.type);
    tensorTypes[type] = (tensorTypes[type] ?? 0) + 1;
    if (!decoderFor(tensor.type)) unreadable.add(type);
    parameters += tensor.shape.reduce((a, b) => a * b, 1);
  }
  const fileTypeNumber = num(general?.file_type);
  const tokens = ggml?.tokens;
  const merges = ggml?.merges;
  return {
    file: file.path,
    fileSize: file.fileSize,
    ggufVersion: file.version,
    architecture: file.architecture,
    name: typeof general?.name === "string" ? general.name : undefined,
    vocabOnly: file.tensors.length === 0,
    fileType: fileTypeNumber === undefined ? undefined : (GgufFileType[fileTypeNumber] ?? `file type ${fileTypeNumber}`),
    parameters,
    tensorCount: file.tensors.length,
    tensorTypes,
    unreadableTensorTypes: [...unreadable],
    hyperparameters: {
      contextLength: num(arch?.context_length),
      embeddingLength: num(arch?.embedding_length),
      blockCount: num(arch?.block_count),
      headCount: numberOrList(attention?.head_count),
      headCountKv: numberOrList(attention?.head_count_kv),
      feedForwardLength: numberOrList(arch?.feed_forward_length),
      ropeDimensionCount: num(rope?.dimension_count),
      ropeFreqBase: num(rope?.freq_base),
      rmsNormEpsilon: num(attention?.layer_norm_rms_epsilon),
    },
    tokenizer: ggml === undefined ? undefined : {
      model: typeof ggml.model === "string" ? ggml.model : undefined,
      pre: typeof ggml.pre === "string" ? ggml.pre : undefined,
      vocabSize: Array.isArray(tokens) ? tokens.length : undefined,
      mergesCount: Array.isArray(merges) ? merges.length : undefined,
      bosTokenId: num(ggml.bos_token_id),
      eosTokenId: num(ggml.eos_token_id),
      addBosToken: typeof ggml.add_bos_token === "boolean" ? ggml.add_bos_token : undefined,
      hasChatTemplate: tokenizerRoot?.chat_template !== undefined,
    },
  };
}
