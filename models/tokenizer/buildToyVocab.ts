/**
 * The toy models' tokenizer: a SentencePiece-style `llama` vocabulary learned from the toy datasets
 * (datasets/toy-*) by byte-pair encoding, written as a vocabulary-only GGUF with the project's GGUF writer.
 *
 *   npx tsx models/tokenizer/buildToyVocab.ts [--out models/toy-vocab.gguf]
 *
 * Token ids, as in LLaMA's own vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3..258 the byte-fallback tokens
 * <0x00>..<0xFF> (newlines and any character outside the vocabulary become bytes), then the learned pieces
 * in merge order (score -(rank)), then the single characters. Digits are never merged (see trainBpe.ts).
 * Deterministic: the same datasets give the same file, byte for byte.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ggufMetadataEntry, writeGguf, type GgufMetadataEntry } from "../../src/gguf/index.js";
import { countPreTokens, SPACE, trainBpe } from "./trainBpe.js";
import { SCAFFOLD_TEXTS, SCAFFOLD_WEIGHT } from "./scaffoldText.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const toyVocabPath = path.join(repoRoot, "models/toy-vocab.gguf");
export const toyDatasetDirs = ["datasets/toy-math", "datasets/toy-intents"].map((d) => path.join(repoRoot, d));

/** At most this many tokens; fewer when the corpus runs out of pairs seen at least twice. */
export const TOY_VOCAB_SIZE = 1280;

/** llama.cpp `llama_token_type` values. */
const TokenType = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

export interface ToyVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  merges: number;
  singleCharacters: number;
}

/** Every string value in a JSON row, nested ones included (teacher pairs hold `source` and `similar`). */
function stringsIn(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) stringsIn(v, out);
}

/** Every text of the toy datasets' JSONL files, in a fixed order (folders as listed, files sorted). */
export function toyDatasetTexts(dirs: readonly string[] = toyDatasetDirs): string[] {
  const texts: string[] = [];
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()) {
      for (const line of readFileSync(path.join(dir, file), "utf8").split("\n")) {
        if (line) stringsIn(JSON.parse(line), texts);
      }
    }
  }
  return texts;
}

export function buildToyVocab(texts: readonly string[], vocabSize = TOY_VOCAB_SIZE): ToyVocab {
  // Each text also as it appears after a newline (a prompt's "\n\n{question}"): its first word without `▁`.
  const weighted = texts.flatMap((text) => [text, `\n${text}`]);
  for (let i = 0; i < SCAFFOLD_WEIGHT; i++) weighted.push(...SCAFFOLD_TEXTS);

  // Single characters: printable ASCII always (so any English text needs no byte fallback), `▁` for the
  // space, and whatever else the corpus holds except whitespace (newline and tab go through bytes, as in LLaMA).
  const characters = new Set<string>([SPACE]);
  for (let c = 0x21; c <= 0x7e; c++) characters.add(String.fromCharCode(c));
  for (const text of weighted) for (const ch of text) if (!/\s/u.test(ch)) characters.add(ch);
  const singles = [...characters].sort();

  const specials = ["<unk>", "<s>", "</s>"];
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const mergeBudget = vocabSize - specials.length - bytes.length - singles.length;
  if (mergeBudget < 0) throw new Error(`vocabulary size ${vocabSize} is below the ${vocabSize - mergeBudget} fixed tokens`);
  const merged = trainBpe(countPreTokens(weighted), mergeBudget);

  const tokens = [...specials, ...bytes, ...merged, ...singles];
  const scores = new Float32Array(tokens.length);
  const types = new Int32Array(tokens.length).fill(TokenType.normal);
  types[0] = TokenType.unknown;
  types[1] = TokenType.control;
  types[2] = TokenType.control;
  types.fill(TokenType.byte, specials.length, specials.length + bytes.length);
  const firstMerge = specials.length + bytes.length;
  // Merge i scores -(i + 1): llama.cpp's SPM tokenizer joins the highest-scoring pair first, so merges replay
  // in training order. Single characters are never the result of a join; they score below every merge.
  for (let i = firstMerge; i < tokens.length; i++) scores[i] = -(i - firstMerge + 1);
  return { tokens, scores, types, merges: merged.length, singleCharacters: singles.length };
}

/**
 * The GGUF metadata of a vocabulary-only llama file. The `llama.*` hyperparameters are placeholders that
 * llama.cpp requires to load even a vocabulary (`vocabOnly`); the toy models carry their own.
 */
export function toyVocabMetadata(vocab: ToyVocab): GgufMetadataEntry[] {
  return [
    ggufMetadataEntry("general.architecture", "llama"),
    ggufMetadataEntry("general.name", "llm2llm toy vocabulary"),
    ggufMetadataEntry("llama.vocab_size", vocab.tokens.length),
    ggufMetadataEntry("llama.context_length", 512),
    ggufMetadataEntry("llama.embedding_length", 64),
    ggufMetadataEntry("llama.block_count", 1),
    ggufMetadataEntry("llama.feed_forward_length", 128),
    ggufMetadataEntry("llama.attention.head_count", 2),
    ggufMetadataEntry("llama.attention.head_count_kv", 2),
    ggufMetadataEntry("llama.attention.layer_norm_rms_epsilon", 1e-5),
    ggufMetadataEntry("llama.rope.dimension_count", 32),
    ggufMetadataEntry("tokenizer.ggml.model", "llama"),
    ggufMetadataEntry("tokenizer.ggml.pre", "default"),
    ggufMetadataEntry("tokenizer.ggml.tokens", vocab.tokens),
    ggufMetadataEntry("tokenizer.ggml.scores", vocab.scores),
    ggufMetadataEntry("tokenizer.ggml.token_type", vocab.types),
    ggufMetadataEntry("tokenizer.ggml.unknown_token_id", 0),
    ggufMetadataEntry("tokenizer.ggml.bos_token_id", 1),
    ggufMetadataEntry("tokenizer.ggml.eos_token_id", 2),
    ggufMetadataEntry("tokenizer.ggml.add_bos_token", true),
    ggufMetadataEntry("tokenizer.ggml.add_eos_token", false),
    ggufMetadataEntry("tokenizer.ggml.add_space_prefix", true),
  ];
}

/** Learns the vocabulary from the committed toy datasets and writes it to `outPath`. */
export async function writeToyVocab(outPath = toyVocabPath): Promise<ToyVocab> {
  const vocab = buildToyVocab(toyDatasetTexts());
  await writeGguf(outPath, { metadata: toyVocabMetadata(vocab), tensors: [] });
  return vocab;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf("--out");
  const outPath = outFlag >= 0 && process.argv[outFlag + 1] ? path.resolve(process.argv[outFlag + 1]!) : toyVocabPath;
  const vocab = await writeToyVocab(outPath);
  process.stderr.write(`wrote ${path.relative(process.cwd(), outPath)}: ${vocab.tokens.length} tokens (${vocab.merges} merges, ${vocab.singleCharacters} single characters)\n`);
}
