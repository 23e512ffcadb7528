/**
 * Random-weight GGUF models for parity tests, written with the project's own GGUF writer: llama (grouped-query
 * attention), qwen2 (QKV bias), qwen3 (q/k norm, key_length ≠ n_embd / n_head), gemma2 / gemma3 (embedding
 * scale, post-norms, GELU, sliding-window layers with their own RoPE base, soft-caps) and phi3 (fused attn_qkv and
 * ffn_up, partial RoPE with rope_factors and attn_factor), in any tensor type, with a real tokenizer copied from
 * one of llama.cpp's vocab files.
 *
 * Why the weights have structure: parity asks for ≥ 99% argmax agreement, and llama.cpp rounds activations
 * (to Q8 for quantized weights, F16/BF16 for half weights) before each matmul. With i.i.d. random weights the
 * gap between the two largest of 50k logits is only about σ / 4.6, so that rounding flips the argmax at a few
 * percent of positions whatever the scale. So each output row is aligned with one token's embedding:
 * output[next(t)] ∝ token_embd[t], where next(t) = (7919·t + 17) mod V (with a tied output, next(t) = t). The residual stream starts at
 * token_embd[t] and the blocks add a context-dependent part of similar size, so next(t) leads the runner-up
 * by 3 (n_embd 128) to 6 (n_embd 256) logits on average, at least 0.4, while the other logits spread with σ ≈ 1
 * (llama.cpp's rounding moves logits by hundredths). The top token holds 2–45% of the probability; the rest
 * is spread over the 32k–50k vocabulary and depends on attention, RoPE, norms and the feed-forward, so a
 * bug anywhere shows in the KL.
 */
import path from "node:path";
import { ggmlTypeTraits, ggufMetadataEntry, GgmlType, tokenizerMetadataFrom, writeGguf, type GgufMetadataEntry, type GgufTensorToWrite } from "../../src/gguf/index.js";
import { nestedMetadata } from "../../src/student/pretrain/modelShape.js";
import type { GgufTensorSource } from "../../src/student/weights.js";
import type { Architecture } from "../../src/student/config.js";
import { mulberry32 } from "../../src/util/mulberry32.js";

export interface RandomModelSpec {
  architecture: Architecture;
  /** Type of every matrix (token_embd, attention, feed-forward, output); norms and biases stay F32. */
  type: GgmlType;
  /** Vocab GGUF whose tokenizer.* keys are copied (fixes the vocabulary size). */
  vocabPath: string;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  nHeadKv?: number;
  /** attention.key_length = value_length; written only when it differs from nEmbd / nHead. */
  headDim?: number;
  nFf?: number;
  /** No output.weight: the output projection is token_embd. */
  tiedOutput?: boolean;
  seed?: number;
  /** `<arch>.context_length`, the trained context. Default 2048 (phi3: 8192, with an original context of 4096). */
  contextLength?: number;
  /** gemma2/gemma3: `attention.sliding_window`, shorter than the parity sequences so the window matters. Default 8. */
  slidingWindow?: number;
  /**
   * gemma2/gemma3: `final_logit_softcapping`. Default 12, which bends the parity models' logits (about ±10); a model
   * whose logits range wider (output_norm 1, for training) needs more, or the cap's flat tanh stalls the gradient.
   */
  finalLogitSoftcap?: number;
}

/**
 * The parity models: small enough to keep the suite fast (the output matmul over a 32k–50k vocabulary is most
 * of the work), as large as the type needs: K-quants pack rows of 256, the others rows of 32. llama: grouped-
 * query attention, SentencePiece. qwen2: QKV bias, byte-level BPE, tied output (as Qwen2-0.5B). qwen3: q/k
 * norm, head size ≠ n_embd / n_head, SentencePiece (any tokenizer works for the weights; llama.cpp's vocab
 * files hold no Qwen one, and the smaller vocabulary keeps the suite fast). K-quant models tie the output
 * too: writing K-quants is the slowest step (about 1M weights/s), and a tied output still runs llama.cpp's
 * output matmul on the K-quant token_embd. gemma2/gemma3 tie the output as Google's models do (gemma2's graph
 * always does); phi3 uses the Phi-3 vocabulary and head size n_embd / n_head, which its graph requires.
 */
export function paritySpec(architecture: Architecture, type: GgmlType, vocabDir: string): RandomModelSpec {
  const kQuant = (ggmlTypeTraits(type)?.blockSize ?? 1) >= 256;
  const E = kQuant ? 256 : 128;
  const common = { architecture, type, nEmbd: E, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 2 * E, tiedOutput: kQuant };
  const spm = path.join(vocabDir, "ggml-vocab-llama-spm.gguf");
  switch (architecture) {
    case "llama":
      return { ...common, vocabPath: spm, seed: 1 };
    case "qwen2":
      return { ...common, vocabPath: path.join(vocabDir, "ggml-vocab-gpt-2.gguf"), tiedOutput: true, seed: 2 };
    case "qwen3":
      return { ...common, vocabPath: spm, headDim: E / 2, seed: 3 };
    case "gemma2":
      return { ...common, vocabPath: spm, tiedOutput: true, seed: 4 };
    case "gemma3":
      return { ...common, vocabPath: spm, headDim: E / 2, tiedOutput: true, seed: 5 };
    case "phi3":
      return { ...common, vocabPath: path.join(vocabDir, "ggml-vocab-phi-3.gguf"), seed: 6 };
  }
}

/** The token the aligned output row predicts after token t. */
export function alignedNext(t: number, nVocab: number): number {
  return (7919 * t + 17) % nVocab;
}

export async function writeRandomModel(path: string, spec: RandomModelSpec): Promise<void> {
  const tokenizer = await tokenizerMetadataFrom(spec.vocabPath);
  const tokens = tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")!.value as ArrayLike<string>;
  const { metadata, tensors } = randomModelTensors(spec, tokens.length);
  await writeGguf(path, { metadata: [...metadata, ...tokenizer], tensors });
}

/**
 * The same model held in memory (weights as float32, never quantized) as a tensor source the student loads:
 * fast unit tests without a file or a tokenizer.
 */
export function randomModelSource(spec: Omit<RandomModelSpec, "vocabPath" | "type">, nVocab: number): GgufTensorSource {
  const { metadata, tensors } = randomModelTensors({ ...spec, type: GgmlType.F32 }, nVocab);
  const nested = nestedMetadata(metadata);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  return {
    path: `memory:random-${spec.architecture}`,
    metadata: nested,
    tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    readTensor: async (name) => byName.get(name)!.data.slice(),
  };
}

/** Metadata (without tokenizer) and tensors of a random model with a vocabulary of nVocab tokens. */
export function randomModelTensors(spec: Omit<RandomModelSpec, "vocabPath">, V: number): { metadata: GgufMetadataEntry[]; tensors: GgufTensorToWrite[] } {
  const { architecture: arch, type } = spec;
  const E = spec.nEmbd ?? 256;
  const L = spec.nLayer ?? 2;
  const H = spec.nHead ?? 4;
  const Hkv = spec.nHeadKv ?? H;
  const D = spec.headDim ?? E / H;
  const F = spec.nFf ?? 4 * E;
  const random = gaussian(spec.seed ?? 1);

  const gemma = arch === "gemma2" || arch === "gemma3";
  const phi3 = arch === "phi3";
  const nRot = phi3 ? (3 * D) / 4 : D; // phi3: partial RoPE, as Phi-4-mini
  const tensors: GgufTensorToWrite[] = [];
  /** A JS row-major [rows][cols] matrix is ggml shape [cols, rows]; `std` per block of rows (fused projections). */
  const matrix = (name: string, rows: number | number[], cols: number, std: number | number[]) => {
    const parts = typeof rows === "number" ? [rows] : rows;
    const stds = typeof std === "number" ? parts.map(() => std) : std;
    const data = new Float32Array(parts.reduce((a, r) => a + r, 0) * cols);
    let i = 0;
    parts.forEach((r, p) => {
      for (const end = i + r * cols; i < end; i++) data[i] = stds[p]! * random();
    });
    tensors.push({ name, shape: [cols, data.length / cols], type, data });
    return data;
  };
  const vector = (name: string, n: number, mean: number, std: number) => {
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = mean + std * random();
    tensors.push({ name, shape: [n], type: GgmlType.F32, data });
  };

  const embedding = matrix("token_embd.weight", V, E, 1); // rows of norm ≈ √E
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}`;
    vector(`${p}.attn_norm.weight`, E, 1, 0.1);
    // q·k / √D has a spread of a few units: attention is neither uniform nor one-hot.
    if (phi3) {
      matrix(`${p}.attn_qkv.weight`, [H * D, Hkv * D, Hkv * D], E, [1.2 / Math.sqrt(E), 1.2 / Math.sqrt(E), 1 / Math.sqrt(E)]);
    } else {
      matrix(`${p}.attn_q.weight`, H * D, E, 1.2 / Math.sqrt(E));
      matrix(`${p}.attn_k.weight`, Hkv * D, E, 1.2 / Math.sqrt(E));
      matrix(`${p}.attn_v.weight`, Hkv * D, E, 1 / Math.sqrt(E));
    }
    if (arch === "qwen2") for (const x of ["q", "k", "v"]) vector(`${p}.attn_${x}.bias`, (x === "q" ? H : Hkv) * D, 0, 0.2);
    if (arch === "qwen3" || arch === "gemma3") {
      vector(`${p}.attn_q_norm.weight`, D, 1.2, 0.1);
      vector(`${p}.attn_k_norm.weight`, D, 1.2, 0.1);
    }
    // Each block adds to the residual stream a part about half the embedding's size.
    matrix(`${p}.attn_output.weight`, E, H * D, 0.9 / Math.sqrt(H * D));
    // gemma's stream starts at √E · token_embd (elements of size √E) and each post-norm sets the size of what a
    // block adds: about half of it, as the other architectures' blocks add.
    if (gemma) vector(`${p}.post_attention_norm.weight`, E, 0.5 * Math.sqrt(E), 0.05 * Math.sqrt(E));
    vector(`${p}.ffn_norm.weight`, E, 1, 0.1);
    if (phi3) {
      matrix(`${p}.ffn_up.weight`, 2 * F, E, 1 / Math.sqrt(E)); // gate rows, then up rows
    } else {
      matrix(`${p}.ffn_gate.weight`, F, E, 1 / Math.sqrt(E));
      matrix(`${p}.ffn_up.weight`, F, E, 1 / Math.sqrt(E));
    }
    matrix(`${p}.ffn_down.weight`, E, F, 1.2 / Math.sqrt(F));
    if (gemma) vector(`${p}.post_ffw_norm.weight`, E, 0.5 * Math.sqrt(E), 0.05 * Math.sqrt(E));
  }
  if (phi3) {
    // Per-frequency divisors ≥ 1 (as Phi-3.5's); llama.cpp takes the short ones at contexts up to 4096.
    const factors = (name: string, spread: number) => {
      const data = Float32Array.from({ length: nRot / 2 }, () => 1 + spread * Math.abs(random()));
      tensors.push({ name, shape: [nRot / 2], type: GgmlType.F32, data });
    };
    factors("rope_factors_long.weight", 8);
    factors("rope_factors_short.weight", 0.5);
  }
  // Logits of unaligned tokens have a spread of about 1; the aligned one sits ≈ 10 above.
  vector("output_norm.weight", E, 1 / Math.sqrt(E), 0);
  if (!spec.tiedOutput) {
    const output = new Float32Array(V * E);
    for (let t = 0; t < V; t++) {
      const row = alignedNext(t, V) * E;
      for (let i = 0; i < E; i++) output[row + i] = embedding[t * E + i]!;
    }
    tensors.push({ name: "output.weight", shape: [E, V], type, data: output });
  }

  const metadata = [
    ggufMetadataEntry("general.architecture", arch),
    // llama.cpp gives Phi-3's special tokens attributes when the model's name holds "phi3" (llama-vocab.cpp), which
    // fails on a vocabulary without them (the toy one): "Phi 3" does not match.
    ggufMetadataEntry("general.name", `random ${phi3 ? "Phi 3" : arch} ${GgmlType[type]}`),
    ggufMetadataEntry(`${arch}.context_length`, spec.contextLength ?? (phi3 ? 8192 : 2048)),
    ggufMetadataEntry(`${arch}.embedding_length`, E),
    ggufMetadataEntry(`${arch}.block_count`, L),
    ggufMetadataEntry(`${arch}.feed_forward_length`, F),
    ggufMetadataEntry(`${arch}.attention.head_count`, H),
    ggufMetadataEntry(`${arch}.attention.head_count_kv`, Hkv),
    ggufMetadataEntry(`${arch}.attention.layer_norm_rms_epsilon`, 1e-6),
    ggufMetadataEntry(`${arch}.rope.freq_base`, arch === "llama" ? 10000 : 1000000),
    ...(D !== E / H
      ? [ggufMetadataEntry(`${arch}.attention.key_length`, D), ggufMetadataEntry(`${arch}.attention.value_length`, D)]
      : []),
    ...architectureMetadata(spec, nRot),
  ];
  return { metadata, tensors };
}

/**
 * gemma: a window shorter than the test sequences, layer 0 sliding and layer 1 global (period 2), gemma3's local
 * RoPE base apart from the global one, soft-caps small enough to bend the values. phi3: partial RoPE, the
 * long-context attn_factor and original context, and a sliding window that llama.cpp ignores for phi3.
 */
function architectureMetadata(spec: Omit<RandomModelSpec, "vocabPath">, nRot: number): GgufMetadataEntry[] {
  const arch = spec.architecture;
  const window = spec.slidingWindow ?? 8;
  switch (arch) {
    case "gemma2":
      return [
        ggufMetadataEntry(`${arch}.attention.sliding_window`, window),
        ggufMetadataEntry(`${arch}.attn_logit_softcapping`, 4),
        ggufMetadataEntry(`${arch}.final_logit_softcapping`, spec.finalLogitSoftcap ?? 12),
      ];
    case "gemma3":
      return [
        ggufMetadataEntry(`${arch}.attention.sliding_window`, window),
        ggufMetadataEntry(`${arch}.attention.sliding_window_pattern`, 2),
        ggufMetadataEntry(`${arch}.rope.freq_base_swa`, 10000),
        ggufMetadataEntry(`${arch}.final_logit_softcapping`, spec.finalLogitSoftcap ?? 12),
      ];
    case "phi3":
      return [
        ggufMetadataEntry(`${arch}.rope.dimension_count`, nRot),
        ggufMetadataEntry(`${arch}.rope.scaling.attn_factor`, 1.19),
        ggufMetadataEntry(`${arch}.rope.scaling.original_context_length`, 4096),
        ggufMetadataEntry(`${arch}.attention.sliding_window`, window),
      ];
    default:
      return [];
  }
}

/** Seeded standard normal samples (mulberry32 + Box-Muller). */
function gaussian(seed: number): () => number {
  const next = mulberry32(seed);
  const uniform = () => next() + 0.5 / 4294967296; // never 0: Box-Muller takes its log
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}
