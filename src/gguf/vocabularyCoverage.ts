/**
 * Which text a GGUF vocabulary can tokenize, decided before llama.cpp sees the text: a SentencePiece vocabulary
 * (tokenizer.ggml.model "llama") without byte-fallback tokens (<0x00>..<0xFF>) makes llama.cpp's tokenizer throw
 * std::out_of_range on a character it has no token for, which kills Node (exit 134) with no message of ours.
 *
 * llama.cpp's SPM tokenizer (llama-vocab.cpp) escapes spaces to "▁" (and prepends one when add_space_prefix),
 * splits the text into UTF-8 characters and merges pairs only into tokens; a character left alone that is not a
 * token itself goes out as bytes, each "<0xNN>" or, failing that, the one-byte string — else it throws. So a
 * text is safe exactly when each of its characters is a token or each of its bytes has one of those two.
 * Byte-level BPE ("gpt2": every byte is a symbol) and the unk-based tokenizers (UGM, WPM) never throw.
 */
import { Llm2llmError, UnsupportedModelError } from "../errors.js";
import { openGguf } from "./openGguf.js";

export type VocabularyKind =
  /** SentencePiece with all 256 byte tokens: every text tokenizes. */
  | "byte-fallback"
  /** SentencePiece with some or no byte tokens: text is checked character by character. */
  | "no-byte-fallback"
  /** Byte-level BPE, or a tokenizer that maps unknown text to an unknown token: nothing to check. */
  | "byte-level-or-unk";

export interface UntokenizableCharacter {
  character: string;
  codePoint: number;
  /** Index in the JavaScript string. */
  index: number;
}

export interface VocabularyCoverage {
  readonly kind: VocabularyKind;
  /** The first character llama.cpp cannot tokenize, or undefined when the whole text can be. */
  firstUntokenizable(text: string): UntokenizableCharacter | undefined;
  /**
   * The same for text tokenized with special-token parsing (a chat template's "[INST]", "<|im_start|>"): the
   * vocabulary's control and user-defined tokens are cut out first, as llama.cpp does, the rest is text.
   */
  firstUntokenizableWithSpecials(text: string): UntokenizableCharacter | undefined;
}

/** Text outside a vocabulary that has no byte fallback: tokenizing it would abort llama.cpp. */
export class UntokenizableTextError extends Llm2llmError {
  constructor(
    readonly model: string,
    readonly found: UntokenizableCharacter,
    /** Where the text came from (a file and line, "the prompt"), when the caller knows. */
    readonly where?: string,
    /** Which of several texts checked together (StudentTokenizer.checkTexts), so a caller can name its source. */
    readonly textIndex?: number,
  ) {
    super(
      `${where ? `${where}: ` : ""}${describeCharacter(found)} cannot be tokenized by the model ${model}: its vocabulary has no token for it ` +
        `and no byte-fallback tokens (<0xNN>); remove or replace that character, or use a model whose vocabulary covers it`,
    );
  }

  /** The same error, saying where the text came from. */
  at(where: string): UntokenizableTextError {
    return new UntokenizableTextError(this.model, this.found, where, this.textIndex);
  }
}

export function describeCharacter(found: UntokenizableCharacter): string {
  const hex = `U+${found.codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  const printable = found.codePoint > 0x20 && found.codePoint !== 0x7f;
  return `the character ${printable ? `"${found.character}" ` : ""}(${hex}) at index ${found.index}`;
}

const everything: VocabularyCoverage = { kind: "byte-level-or-unk", firstUntokenizable: () => undefined, firstUntokenizableWithSpecials: () => undefined };

/**
 * The coverage of a vocabulary: `model` is tokenizer.ggml.model, `tokens` tokenizer.ggml.tokens, `addSpacePrefix`
 * tokenizer.ggml.add_space_prefix (llama.cpp's default for SentencePiece is true).
 */
export function vocabularyCoverage(
  model: string | undefined,
  tokens: readonly string[],
  addSpacePrefix = true,
  /** tokenizer.ggml.token_type: 3 (control) and 4 (user-defined) tokens are matched as specials. */
  tokenTypes?: ArrayLike<number>,
): VocabularyCoverage {
  if (model !== "llama") return everything;
  const vocabulary = new Set(tokens);
  const byteOk = new Uint8Array(256);
  let allBytes = true;
  for (let b = 0; b < 256; b++) {
    const hex = b.toString(16).toUpperCase().padStart(2, "0");
    // The one-byte string fallback only exists for ASCII (a lone byte ≥ 0x80 is no JS string token).
    byteOk[b] = vocabulary.has(`<0x${hex}>`) || (b < 0x80 && vocabulary.has(String.fromCharCode(b))) ? 1 : 0;
    if (!byteOk[b]) allBytes = false;
  }
  if (allBytes) return { ...everything, kind: "byte-fallback" };
  const specials = tokenTypes ? tokens.filter((t, i) => (tokenTypes[i] === 3 || tokenTypes[i] === 4) && t.length > 0) : [];
  specials.sort((a, b) => b.length - a.length);

  const encoder = new TextEncoder();
  const known = new Map<number, boolean>();
  const covered = (character: string, codePoint: number): boolean => {
    let ok = known.get(codePoint);
    if (ok === undefined) {
      ok = vocabulary.has(character) || [...encoder.encode(character)].every((b) => byteOk[b] === 1);
      known.set(codePoint, ok);
    }
    return ok;
  };
  const spaceMark = "\u2581";
  const coverage: VocabularyCoverage = {
    kind: "no-byte-fallback",
    firstUntokenizableWithSpecials(text) {
      let start = 0;
      let i = 0;
      while (i < text.length) {
        const special = specials.find((t) => text.startsWith(t, i));
        if (!special) {
          i++;
          continue;
        }
        const found = start < i ? coverage.firstUntokenizable(text.slice(start, i)) : undefined;
        if (found) return { ...found, index: found.index + start };
        i += special.length;
        start = i;
      }
      const found = start < text.length ? coverage.firstUntokenizable(text.slice(start)) : undefined;
      return found && { ...found, index: found.index + start };
    },
    firstUntokenizable(text) {
      if (text.length === 0) return undefined;
      if ((addSpacePrefix || text.includes(" ")) && !covered(spaceMark, 0x2581)) return { character: spaceMark, codePoint: 0x2581, index: 0 };
      let index = 0;
      for (const raw of text) {
        // A lone surrogate reaches llama.cpp as U+FFFD (UTF-8 encoding replaces it).
        let codePoint = raw.codePointAt(0)!;
        let character = raw;
        if (codePoint >= 0xd800 && codePoint <= 0xdfff) [character, codePoint] = ["\ufffd", 0xfffd];
        if (codePoint === 0x20) [character, codePoint] = [spaceMark, 0x2581];
        if (!covered(character, codePoint)) return { character: raw, codePoint: raw.codePointAt(0)!, index };
        index += raw.length;
      }
      return undefined;
    },
  };
  return coverage;
}

/** Coverage from a GGUF's nested metadata (openGguf's `metadata`, or node-llama-cpp's `fileInfo.metadata`). */
export function vocabularyCoverageFromMetadata(metadata: unknown): VocabularyCoverage {
  const ggml = (metadata as { tokenizer?: { ggml?: Record<string, unknown> } } | undefined)?.tokenizer?.ggml;
  if (!ggml || !Array.isArray(ggml.tokens)) return everything;
  const addSpacePrefix = typeof ggml.add_space_prefix === "boolean" ? ggml.add_space_prefix : true;
  const types = Array.isArray(ggml.token_type) || ArrayBuffer.isView(ggml.token_type) ? (ggml.token_type as ArrayLike<number>) : undefined;
  return vocabularyCoverage(typeof ggml.model === "string" ? ggml.model : undefined, ggml.tokens as string[], addSpacePrefix, types);
}

/** For the augment filter: why a text is outside this vocabulary, or undefined; undefined when every text fits. */
export function untokenizableReason(coverage: VocabularyCoverage, model: string): ((text: string) => string | undefined) | undefined {
  if (coverage.kind !== "no-byte-fallback") return undefined;
  return (text) => {
    const found = coverage.firstUntokenizable(text);
    return found && `${describeCharacter(found)} is outside the vocabulary of ${model} (no byte fallback)`;
  };
}

/**
 * llama.cpp tokenizes "\n" while loading a vocabulary (to find the newline token), so a SentencePiece vocabulary
 * that cannot hold a newline aborts the process at load. Call before handing a GGUF to llama.cpp.
 */
export async function checkVocabularyLoads(path: string): Promise<void> {
  const coverage = vocabularyCoverageFromMetadata((await openGguf(path)).metadata);
  const found = coverage.firstUntokenizable("\n");
  if (found) {
    throw new UnsupportedModelError(
      path,
      `its vocabulary has no byte-fallback tokens and no token for a newline (U+${found.codePoint.toString(16).toUpperCase().padStart(4, "0")}), ` +
        `which llama.cpp tokenizes to load a vocabulary (it would abort); add a "\\n" or "<0x0A>" token to the vocabulary`,
    );
  }
}
