/**
 * A tiny random llama whose SentencePiece vocabulary has no byte-fallback tokens (<0xNN>), like small models
 * trained on TinyStories: letters, a little punctuation (with "[", "/", "]" for the Llama 2 chat template), newline and a few words, but no digits, "#", "?" or "+".
 * llama.cpp's tokenizer throws std::out_of_range (a native abort of Node) on any text holding one of those; without
 * a newline token (`newline: false`) llama.cpp aborts already when loading the vocabulary (it tokenizes "\n").
 */
import { GgmlType, ggufMetadataEntry, writeGguf } from "../../src/gguf/index.js";
import { randomModelTensors } from "./randomModel.js";

const letters = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"];
const words = ["▁the", "▁a", "▁is", "▁was", "▁What", "▁cat", "▁dog", "▁Once", "▁upon", "▁time", "▁there", "▁little"];

/** Control tokens, "▁", single letters and punctuation, then whole words: every text of these characters tokenizes. */
export const noByteFallbackTokens: readonly string[] = ["<unk>", "<s>", "</s>", "\u2581", "\n", ...letters, ".", ",", "!", "'", ":", "[", "]", "/", ...words];

/** Characters the vocabulary lacks (each makes llama.cpp throw). */
export const charactersOutsideVocabulary = ["#", "1", "2", "7", "?", "+"] as const;

export async function writeNoByteFallbackModel(path: string, options: { newline?: boolean } = {}): Promise<void> {
  const tokens = options.newline === false ? noByteFallbackTokens.filter((t) => t !== "\n") : noByteFallbackTokens;
  const { metadata, tensors } = randomModelTensors(
    { architecture: "llama", type: GgmlType.F32, nEmbd: 32, nLayer: 1, nHead: 2, nHeadKv: 2, nFf: 64, seed: 5 },
    tokens.length,
  );
  // SentencePiece merges the pair whose result scores highest: words above single characters.
  const scores = Float32Array.from(tokens, (t, i) => (i < 3 ? 0 : t.length > 1 ? -1 - i / 1000 : -100 - i / 1000));
  const types = Int32Array.from(tokens, (_, i) => (i === 0 ? 2 : i < 3 ? 3 : 1)); // unknown, control, normal
  await writeGguf(path, {
    metadata: [
      ...metadata.filter((e) => e.key !== "general.name"),
      ggufMetadataEntry("general.name", "no-byte-fallback llama"),
      ggufMetadataEntry("tokenizer.ggml.model", "llama"),
      ggufMetadataEntry("tokenizer.ggml.tokens", [...tokens]),
      ggufMetadataEntry("tokenizer.ggml.scores", scores),
      ggufMetadataEntry("tokenizer.ggml.token_type", types),
      ggufMetadataEntry("tokenizer.ggml.unknown_token_id", 0),
      ggufMetadataEntry("tokenizer.ggml.bos_token_id", 1),
      ggufMetadataEntry("tokenizer.ggml.eos_token_id", 2),
      ggufMetadataEntry("tokenizer.ggml.add_bos_token", true),
    ],
    tensors,
  });
}
