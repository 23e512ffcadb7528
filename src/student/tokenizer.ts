/**
 * The student's tokenizer: llama.cpp's own, through node-llama-cpp on the same GGUF (DESIGN.md §3), so the
 * tfjs student sees exactly the token ids llama.cpp would. Only the vocabulary is loaded (`vocabOnly`).
 *
 * The one place the project hands text to llama.cpp's tokenizer: text outside a vocabulary without byte fallback
 * is refused here with an UntokenizableTextError (llama.cpp itself would abort the process; see
 * gguf/vocabularyCoverage.ts). Callers add where the text came from (`error.at("data.jsonl:12")`).
 */
import { existsSync } from "node:fs";
import type { LlamaModel, Token } from "node-llama-cpp";
import { getLlamaCpp } from "../backend/llamaCpp.js";
import { MissingFileError } from "../errors.js";
import { checkVocabularyLoads, UntokenizableTextError, vocabularyCoverageFromMetadata, type VocabularyCoverage } from "../gguf/vocabularyCoverage.js";

export interface TokenizeOptions {
  /** Prepend BOS. Default: what the model asks for (`tokenizer.ggml.add_bos_token`, llama.cpp's rule). */
  addBos?: boolean;
  /** Parse special-token text such as `<s>` into its special id. Default false: text stays text. */
  parseSpecial?: boolean;
  /**
   * The text continues earlier text (a completion after its prompt): drop the space SentencePiece tokenizers
   * prepend to a text's start, so the ids equal those of the whole text tokenized at once. Default false.
   */
  continuation?: boolean;
}

export class StudentTokenizer {
  /** Which text the vocabulary can tokenize (decided once, from the GGUF's tokenizer metadata). */
  readonly coverage: VocabularyCoverage;

  private constructor(
    private readonly model: LlamaModel,
    /** Whether this object loaded the model (and so disposes it). */
    private readonly owned: boolean,
  ) {
    this.coverage = vocabularyCoverageFromMetadata(model.fileInfo.metadata);
  }

  /** Loads only the vocabulary of a GGUF file. */
  static async load(modelPath: string): Promise<StudentTokenizer> {
    if (!existsSync(modelPath)) throw new MissingFileError(modelPath, "model file");
    const llama = await getLlamaCpp();
    await checkVocabularyLoads(modelPath);
    const model = await llama.loadModel({ modelPath, vocabOnly: true });
    return new StudentTokenizer(model, true);
  }

  /** Wraps a model node-llama-cpp has already loaded (the caller keeps ownership). */
  static fromModel(model: LlamaModel): StudentTokenizer {
    return new StudentTokenizer(model, false);
  }

  get bos(): number | undefined {
    return this.model.tokens.bos ?? undefined;
  }

  get eos(): number | undefined {
    return this.model.tokens.eos ?? undefined;
  }

  /** Whether llama.cpp prepends BOS when evaluating text for this model. */
  get addsBos(): boolean {
    return this.model.tokens.shouldPrependBosToken && this.bos !== undefined;
  }

  /** Throws UntokenizableTextError when llama.cpp could not tokenize `text` with this vocabulary. */
  checkText(text: string): void {
    const found = this.coverage.firstUntokenizable(text);
    if (found) throw new UntokenizableTextError(this.model.filename ?? "(unnamed)", found);
  }

  /** checkText on each text, the error naming which one (`where(index)`, e.g. "evaluation prompt 3 of 40"). */
  checkTexts(texts: readonly string[], where: (index: number) => string): void {
    texts.forEach((text, index) => {
      const found = this.coverage.firstUntokenizable(text);
      if (found) throw new UntokenizableTextError(this.model.filename ?? "(unnamed)", found, where(index), index);
    });
  }

  tokenize(text: string, options: TokenizeOptions = {}): number[] {
    this.checkText(text);
    const ids = (options.continuation ? this.model.tokenize(text, options.parseSpecial ?? false, "trimLeadingSpace") : this.model.tokenize(text, options.parseSpecial ?? false)).map(Number);
    const addBos = options.addBos ?? this.addsBos;
    return addBos && this.bos !== undefined ? [this.bos, ...ids] : ids;
  }

  /**
   * Text of the ids. `precedingIds` are the ids just before them (the prompt, earlier output): llama.cpp uses
   * them to render a continuation correctly (SentencePiece's leading space). Special tokens render as
   * nothing unless `renderSpecial`.
   */
  detokenize(ids: readonly number[], precedingIds: readonly number[] = [], renderSpecial = false): string {
    return this.model.detokenize(ids as Token[], renderSpecial, precedingIds.slice(-8) as Token[]);
  }

  /** Whether generation should stop at this token: EOS, or another end-of-generation token (EOT). */
  isEndOfGeneration(id: number): boolean {
    return this.model.isEogToken(id as Token);
  }

  async dispose(): Promise<void> {
    if (this.owned) await this.model.dispose();
  }
}
