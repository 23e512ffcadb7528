/**
 * The default student engine: llama.cpp (node-llama-cpp) with the LoRA adapter applied at load
 * (`createContext({lora})`), one context with N parallel sequences. Each sequence takes the next prompt
 * from a shared queue, so N prompts decode together in every llama.cpp batch.
 *
 * node-llama-cpp keeps a LoRA adapter cached by file path for the life of the model, so each generator
 * loads its own model and disposes it: a new adapter file (or a rewritten one) is always read afresh.
 */
import { existsSync } from "node:fs";
import type { LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { getLlamaCpp } from "../../backend/llamaCpp.js";
import { MissingFileError, UsageError } from "../../errors.js";
import { checkVocabularyLoads } from "../../gguf/vocabularyCoverage.js";
import { checkAdapterFitsBase, readLoraAdapter } from "../../gguf/adapter.js";
import { openGguf } from "../../gguf/openGguf.js";
import type { SamplingOptions, StudentGenerator } from "../../seams.js";
import { StudentTokenizer } from "../tokenizer.js";

export interface LlamaCppStudentOptions {
  modelPath: string;
  /** GGUF LoRA adapter; absent: the base model. */
  adapterPath?: string;
  /** llama.cpp's user scale, multiplied by the adapter's alpha / r. Default 1. */
  adapterScale?: number;
  /** Parallel sequences in the one context. Default 8. */
  parallel?: number;
  /** Tokens per sequence (prompt + generated). Default 1024. */
  contextSize?: number;
  /** llama.cpp threads. Default: the process-wide choice of src/backend/llamaCpp.ts (1 on 2 cores or fewer). */
  threads?: number;
}

export class LlamaCppStudentGenerator implements StudentGenerator {
  readonly engine = "llama.cpp";

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequences: LlamaContextSequence[],
    private readonly tokenizer: StudentTokenizer,
  ) {}

  static async load(options: LlamaCppStudentOptions): Promise<LlamaCppStudentGenerator> {
    if (!existsSync(options.modelPath)) throw new MissingFileError(options.modelPath, "model file");
    if (options.adapterPath !== undefined && !existsSync(options.adapterPath)) throw new MissingFileError(options.adapterPath, "adapter file");
    const parallel = options.parallel ?? 8;
    if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel: expected a positive integer, got ${parallel}`);
    // llama.cpp's own refusal of a mismatched adapter is a bare "failed to load"; say what does not fit.
    if (options.adapterPath !== undefined) {
      checkAdapterFitsBase(await readLoraAdapter(options.adapterPath), options.adapterPath, await openGguf(options.modelPath));
    }
    const llama = await getLlamaCpp();
    await checkVocabularyLoads(options.modelPath);
    const model = await llama.loadModel({ modelPath: options.modelPath });
    try {
      const context = await model.createContext({
        sequences: parallel,
        contextSize: options.contextSize ?? 1024,
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.adapterPath ? { lora: { adapters: [{ filePath: options.adapterPath, scale: options.adapterScale ?? 1 }] } } : {}),
      });
      const sequences = Array.from({ length: parallel }, () => context.getSequence());
      return new LlamaCppStudentGenerator(model, context, sequences, StudentTokenizer.fromModel(model));
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  async generate(prompts: string[], sampling: SamplingOptions, onDone?: (index: number) => void): Promise<string[]> {
    // Text the vocabulary cannot hold is an error before any generation (llama.cpp would abort on it).
    this.tokenizer.checkTexts(prompts, (i) => `evaluation prompt ${i + 1} of ${prompts.length}`);
    const results: string[] = new Array(prompts.length);
    let next = 0;
    const worker = async (sequence: LlamaContextSequence) => {
      while (next < prompts.length) {
        const index = next++;
        results[index] = await this.complete(sequence, prompts[index]!, sampling);
        onDone?.(index);
      }
    };
    await Promise.all(this.sequences.map(worker));
    return results;
  }

  private async complete(sequence: LlamaContextSequence, prompt: string, sampling: SamplingOptions): Promise<string> {
    await sequence.clearHistory();
    const tokens = this.tokenizer.tokenize(prompt) as Token[];
    if (tokens.length + sampling.maxTokens > sequence.contextSize) {
      throw new UsageError(`a prompt of ${tokens.length} tokens plus ${sampling.maxTokens} new ones exceeds the context of ${sequence.contextSize} tokens`);
    }
    const greedy = !sampling.temperature;
    const out: number[] = [];
    if (sampling.maxTokens <= 0) return "";
    for await (const token of sequence.evaluate(tokens, {
      temperature: greedy ? 0 : sampling.temperature!,
      ...(greedy ? {} : { topK: sampling.topK ?? 0, topP: sampling.topP ?? 1, ...(sampling.seed === undefined ? {} : { seed: sampling.seed }) }),
    })) {
      if (this.tokenizer.isEndOfGeneration(token)) break;
      out.push(token);
      if (out.length >= sampling.maxTokens) break;
    }
    return this.tokenizer.detokenize(out, tokens);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
