/**
 * The default student engine: llama.cpp (node-llama-cpp) with the LoRA adapter applied at load
 * (`createContext({lora})`), N prompts in flight at once.
 *
 * Reproducible by construction: every prompt is decoded ALONE, on one of N single-sequence contexts, from an
 * empty KV cache, with a fixed thread count. A llama.cpp batch that mixes sequences can give each sequence
 * slightly different logits depending on what else is in the batch (kernels choose their tiling and
 * summation order by batch shape; GPU kernels differ between one row and many), and which tokens share a
 * batch depends on timing; so the same prompts decoded N at a time in one context gave different predictions
 * from run to run on a TinyStories-size llama (issue 13; the 1M toy student happens not to show it on CPU).
 * Here the arithmetic for a prompt is the same whatever the other contexts do, so predictions are
 * byte-identical across runs, load, N and resumes (test/eval-determinism.test.ts). The N contexts share
 * the model's weights; what is lost is llama.cpp's cross-sequence batching, not the parallelism.
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
  /** Prompts decoded at once, each on its own single-sequence context. Default 8. */
  parallel?: number;
  /** Tokens per sequence (prompt + generated). Default 1024. */
  contextSize?: number;
  /** llama.cpp threads of every decode: fixed, whatever `parallel` is and whatever runs beside it. Default:
   *  the process-wide thread budget (src/backend/llamaCpp.ts; one per core on 4 cores or fewer) divided by 8, at least 1,
   *  so the default 8 prompts in flight use the whole budget. */
  threads?: number;
}

const DEFAULT_PARALLEL = 8;

export class LlamaCppStudentGenerator implements StudentGenerator {
  readonly engine = "llama.cpp";

  private constructor(
    private readonly model: LlamaModel,
    private readonly contexts: LlamaContext[],
    private readonly tokenizer: StudentTokenizer,
  ) {}

  static async load(options: LlamaCppStudentOptions): Promise<LlamaCppStudentGenerator> {
    if (!existsSync(options.modelPath)) throw new MissingFileError(options.modelPath, "model file");
    if (options.adapterPath !== undefined && !existsSync(options.adapterPath)) throw new MissingFileError(options.adapterPath, "adapter file");
    const parallel = options.parallel ?? DEFAULT_PARALLEL;
    if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel: expected a positive integer, got ${parallel}`);
    // llama.cpp's own refusal of a mismatched adapter is a bare "failed to load"; say what does not fit.
    if (options.adapterPath !== undefined) {
      checkAdapterFitsBase(await readLoraAdapter(options.adapterPath), options.adapterPath, await openGguf(options.modelPath));
    }
    const llama = await getLlamaCpp();
    await checkVocabularyLoads(options.modelPath);
    const model = await llama.loadModel({ modelPath: options.modelPath });
    // ideal = min: a decode waits for its threads rather than running with fewer. The thread count is part of
    // the arithmetic's shape in some kernels (split reductions), so it must depend on neither N nor timing.
    const threads = Math.max(1, Math.floor(options.threads ?? (llama.maxThreads || llama.cpuMathCores) / DEFAULT_PARALLEL));
    const contexts: LlamaContext[] = [];
    try {
      for (let i = 0; i < parallel; i++) {
        contexts.push(
          await model.createContext({
            sequences: 1,
            contextSize: options.contextSize ?? 1024,
            threads: { ideal: threads, min: threads },
            ...(options.adapterPath ? { lora: { adapters: [{ filePath: options.adapterPath, scale: options.adapterScale ?? 1 }] } } : {}),
          }),
        );
      }
      return new LlamaCppStudentGenerator(model, contexts, StudentTokenizer.fromModel(model));
    } catch (error) {
      for (const context of contexts) await context.dispose();
      await model.dispose();
      throw error;
    }
  }

  /** `sampling`: one for every prompt, or one per prompt (per-example seeds). */
  async generate(prompts: string[], sampling: SamplingOptions | readonly SamplingOptions[], onDone?: (index: number) => void): Promise<string[]> {
    // Text the vocabulary cannot hold is an error before any generation (llama.cpp would abort on it).
    this.tokenizer.checkTexts(prompts, (i) => `evaluation prompt ${i + 1} of ${prompts.length}`);
    const results: string[] = new Array(prompts.length);
    const samplingOf = (index: number): SamplingOptions => (Array.isArray(sampling) ? sampling[index]! : (sampling as SamplingOptions));
    let next = 0;
    // Which context takes which prompt depends on timing; the result does not (each prompt is decoded alone).
    const worker = async (context: LlamaContext) => {
      const sequence = context.getSequence();
      try {
        while (next < prompts.length) {
          const index = next++;
          results[index] = await this.complete(sequence, prompts[index]!, samplingOf(index));
          onDone?.(index);
        }
      } finally {
        sequence.dispose();
      }
    };
    await Promise.all(this.contexts.map(worker));
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
    for (const context of this.contexts) await context.dispose();
    await this.model.dispose();
  }
}
