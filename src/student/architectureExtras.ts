/**
 * What gemma2 / gemma3 and phi3 add to the llama family's hyper-parameters, read as llama.cpp's
 * src/models/gemma2.cpp, gemma3.cpp and phi3.cpp read them (their load_arch_hparams), defaults included.
 * config.ts's LlamaConfig holds these fields (absent for the other architectures).
 */
import { UnsupportedModelError } from "../errors.js";

export interface ArchitectureExtras {
  /**
   * phi3 with rope_factors_short / rope_factors_long: llama.cpp takes the short factors while the context is at most
   * this many tokens (`rope.scaling.original_context_length`), so the student holds positions below it.
   */
  ropeShortFactorsContext?: number;
  /** gemma2/gemma3: token embeddings are multiplied by this (√n_embd, in float32) before the first block. */
  embeddingScale?: number;
  /** gemma2/gemma3: the q·k scale where llama.cpp's f_attention_scale is not 1/√headDimK (the 27B models). */
  attentionScale?: number;
  /** gemma2: scores pass through cap·tanh(s / cap) before the mask (`attn_logit_softcapping`). */
  attnLogitSoftcap?: number;
  /** gemma2, and gemma3 when the file says: logits → cap·tanh(logits / cap) (`final_logit_softcapping`). */
  finalLogitSoftcap?: number;
  /** The gate's activation: SwiGLU's silu (absent) or gemma's GELU (tanh form). */
  ffnActivation?: "silu" | "gelu";
  /** gemma2/gemma3: the layers that attend to the last `size` positions only, and their own RoPE base and scale. */
  slidingWindow?: SlidingWindow;
}

export interface SlidingWindow {
  /** A query at position p sees keys at p − size < position ≤ p (llama.cpp's LLAMA_SWA_TYPE_STANDARD). */
  size: number;
  /** Per layer: true for a sliding-window layer. */
  layers: readonly boolean[];
  ropeFreqBase: number;
  ropeFreqScale: number;
}

/** The llama-family hyper-parameters the extras depend on. */
interface BaseShape {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  headDimK: number;
  headDimV: number;
  nCtxTrain: number;
  ropeFreqBase: number;
  ropeFreqScale: number;
}

/** Reads `<arch>.<key>` from the file's metadata. */
export interface MetadataReader {
  path: string;
  /** A number; the fallback when absent; an error naming the key when it is something else. */
  get(key: string, fallback?: number): number;
  /** The value as stored, undefined when absent. */
  field(key: string): unknown;
}

export function gemmaExtras(arch: "gemma2" | "gemma3", c: BaseShape, read: MetadataReader): ArchitectureExtras {
  const gemma2 = arch === "gemma2";
  // gemma_pytorch's query_pre_attn_scalar is n_embd / n_head for the 27B models, which llama.cpp recognises by layer count.
  const is27B = c.nLayer === (gemma2 ? 46 : 62);
  const queryScalar = Math.floor(c.nEmbd / c.nHead);
  const extras: ArchitectureExtras = {
    embeddingScale: Math.fround(Math.sqrt(c.nEmbd)),
    ffnActivation: "gelu",
    ...(is27B && queryScalar !== c.headDimK ? { attentionScale: Math.fround(1 / Math.sqrt(queryScalar)) } : {}),
  };
  const finalCap = read.get("final_logit_softcapping", gemma2 ? 30 : 0);
  if (finalCap > 0) extras.finalLogitSoftcap = finalCap;
  if (gemma2) extras.attnLogitSoftcap = read.get("attn_logit_softcapping", 50);
  // gemma3 has sliding-window layers only when the file gives a window; gemma2 always (4096 by default).
  const size = read.get("attention.sliding_window", gemma2 ? 4096 : 0);
  if (size > 0) {
    const window: SlidingWindow = {
      size,
      layers: slidingWindowLayers(read, c.nLayer, gemma2 ? 2 : 6),
      // gemma3's local layers: base 10000 and no position scaling unless the file says; gemma2's: the global ones'.
      ropeFreqBase: read.get("rope.freq_base_swa", gemma2 ? c.ropeFreqBase : 10000),
      ropeFreqScale: gemma2 ? c.ropeFreqScale : 1,
    };
    extras.slidingWindow = window;
  }
  return extras;
}

/**
 * `attention.sliding_window_pattern`: a bool per layer, or a period n (every n-th layer, counting from 1, attends to
 * everything; 0: all layers slide), as llama_hparams::set_swa_pattern reads it.
 */
function slidingWindowLayers(read: MetadataReader, nLayer: number, defaultPeriod: number): boolean[] {
  const pattern = read.field("attention.sliding_window_pattern");
  if (Array.isArray(pattern)) {
    if (pattern.length !== nLayer || !pattern.every((v) => typeof v === "boolean")) {
      throw new UnsupportedModelError(read.path, `metadata attention.sliding_window_pattern: expected ${nLayer} booleans (one per layer) or a number`);
    }
    return pattern as boolean[];
  }
  const period = pattern === undefined ? defaultPeriod : read.get("attention.sliding_window_pattern");
  if (!Number.isInteger(period) || period < 0) {
    throw new UnsupportedModelError(read.path, `metadata attention.sliding_window_pattern = ${period}: expected a non-negative integer`);
  }
  return Array.from({ length: nLayer }, (_, layer) => period === 0 || layer % period < period - 1);
}

export function phi3Extras(c: BaseShape, tensors: readonly { name: string }[], read: MetadataReader): ArchitectureExtras {
  // llama.cpp's phi3 graph: q is n_embd wide and every head the same size. It ignores attention.sliding_window
  // (Phi SWA is disabled there), so the student does too.
  if (c.headDimK !== c.nEmbd / c.nHead || c.headDimV !== c.headDimK) {
    throw new UnsupportedModelError(read.path, `phi3 with head sizes ${c.headDimK}/${c.headDimV}: expected n_embd / n_head = ${c.nEmbd / c.nHead}`);
  }
  const factors = tensors.some((t) => t.name === "rope_factors_short.weight" || t.name === "rope_factors_long.weight");
  return factors ? { ropeShortFactorsContext: read.get("rope.scaling.original_context_length", c.nCtxTrain) } : {};
}
