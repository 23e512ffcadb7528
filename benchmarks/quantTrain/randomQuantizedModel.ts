/**
 * Random-weight llama GGUFs of real sizes, quantized by llama.cpp's own quantizer (ggml_quantize_chunk in the
 * libggml-base node-llama-cpp ships, through koffi) and written one tensor at a time, so a 7B model is made in
 * the memory of its largest tensor. The tokenizer is Llama's 32,000-token SentencePiece vocabulary from
 * ../shared/fixtures, so `llm2llm train` tokenizes real text for it. Random weights: the bench measures speed
 * and memory, not what the model says.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { GgmlType, ggmlTypeName, ggufMetadataEntry, tokenizerMetadataFrom, writeGguf, type GgufTensorToWrite } from "../../src/gguf/index.js";
import { UsageError } from "../../src/errors.js";
import { mulberry32 } from "../../src/util/mulberry32.js";
import { ggmlReference } from "../../test/helpers/ggmlReference.js";

export interface QuantModelShape {
  /** What it is shaped like, for the table. */
  like: string;
  type: GgmlType;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  tiedOutput: boolean;
}

export const quantModelShapes: Record<string, QuantModelShape> = {
  // Llama-3.2-1B's blocks (E 2048, 16 blocks, 32 heads / 8 KV heads, ff 8192, tied output) with Llama-2's vocabulary.
  "1b-q4_k": { like: "Llama-3.2-1B blocks", type: GgmlType.Q4_K, nEmbd: 2048, nLayer: 16, nHead: 32, nHeadKv: 8, nFf: 8192, tiedOutput: true },
  // Llama-2-7B (the paper's student): E 4096, 32 blocks, 32 heads, ff 11008, untied output.
  "7b-q4_0": { like: "Llama-2-7B", type: GgmlType.Q4_0, nEmbd: 4096, nLayer: 32, nHead: 32, nHeadKv: 32, nFf: 11008, tiedOutput: false },
};

export function fixturesDir(): string {
  return process.env.LLM2LLM_FIXTURES ?? path.resolve("../shared/fixtures");
}

/** The model file for `name` in `dir`, written first when it is not there. */
export async function ensureQuantModel(name: string, dir: string, log: (line: string) => void): Promise<string> {
  const shape = quantModelShapes[name];
  if (!shape) throw new UsageError(`--models: no model shape "${name}" (known: ${Object.keys(quantModelShapes).join(", ")})`);
  const file = path.join(dir, `random-${name}.gguf`);
  if (existsSync(file)) return file;
  const reference = ggmlReference();
  if (!reference) throw new UsageError("making the bench models needs llama.cpp's quantizer: node-llama-cpp's libggml-base and koffi (npm install)");
  const vocab = path.join(fixturesDir(), "models/vocab/ggml-vocab-llama-spm.gguf");
  if (!existsSync(vocab)) throw new UsageError(`the bench models take Llama's vocabulary from ${vocab} (set LLM2LLM_FIXTURES)`);
  mkdirSync(dir, { recursive: true });
  const tokenizer = await tokenizerMetadataFrom(vocab);
  const V = (tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")!.value as ArrayLike<string>).length;
  const { nEmbd: E, nLayer: L, nHead: H, nHeadKv: Hkv, nFf: F, type } = shape;
  const D = E / H;
  const next = mulberry32(1);
  const tensors: GgufTensorToWrite[] = [];
  const empty = new Float32Array(0);
  /** Uniform values of standard deviation `std`, quantized by llama.cpp as the file is written. */
  const matrix = (name: string, rows: number, cols: number, std: number) =>
    tensors.push({
      name, shape: [cols, rows], type, data: empty,
      produceBlocks: () => {
        const data = new Float32Array(rows * cols);
        const a = std * Math.sqrt(3);
        for (let i = 0; i < data.length; i++) data[i] = a * (2 * next() - 1);
        return reference.quantize(type, data, cols);
      },
    });
  const vector = (name: string, n: number) => tensors.push({ name, shape: [n], type: GgmlType.F32, data: new Float32Array(n).fill(1) });
  matrix("token_embd.weight", V, E, 1);
  for (let l = 0; l < L; l++) {
    const p = `blk.${l}`;
    vector(`${p}.attn_norm.weight`, E);
    matrix(`${p}.attn_q.weight`, H * D, E, 1 / Math.sqrt(E));
    matrix(`${p}.attn_k.weight`, Hkv * D, E, 1 / Math.sqrt(E));
    matrix(`${p}.attn_v.weight`, Hkv * D, E, 1 / Math.sqrt(E));
    matrix(`${p}.attn_output.weight`, E, H * D, 0.5 / Math.sqrt(H * D));
    vector(`${p}.ffn_norm.weight`, E);
    matrix(`${p}.ffn_gate.weight`, F, E, 1 / Math.sqrt(E));
    matrix(`${p}.ffn_up.weight`, F, E, 1 / Math.sqrt(E));
    matrix(`${p}.ffn_down.weight`, E, F, 0.5 / Math.sqrt(F));
  }
  vector("output_norm.weight", E);
  if (!shape.tiedOutput) matrix("output.weight", V, E, 1 / Math.sqrt(E));
  const metadata = [
    ggufMetadataEntry("general.architecture", "llama"),
    ggufMetadataEntry("general.name", `random ${shape.like} ${ggmlTypeName(type)}`),
    ggufMetadataEntry("llama.context_length", 4096),
    ggufMetadataEntry("llama.embedding_length", E),
    ggufMetadataEntry("llama.block_count", L),
    ggufMetadataEntry("llama.feed_forward_length", F),
    ggufMetadataEntry("llama.attention.head_count", H),
    ggufMetadataEntry("llama.attention.head_count_kv", Hkv),
    ggufMetadataEntry("llama.attention.layer_norm_rms_epsilon", 1e-5),
    ggufMetadataEntry("llama.rope.freq_base", 10000),
  ];
  log(`writing ${file} (${shape.like}-shaped, ${ggmlTypeName(type)}, llama.cpp's quantizer)…`);
  await writeGguf(file, { metadata: [...metadata, ...tokenizer], tensors });
  return file;
}
