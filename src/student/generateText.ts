/**
 * One prompt in, token ids and text out, on either engine: the tfjs student (this folder's model) or llama.cpp
 * (node-llama-cpp) on the same GGUF, optionally with a LoRA adapter. Both tokenize with llama.cpp's tokenizer
 * (BOS when the model asks for it), so `promptTokens` are the same ids on both and greedy outputs compare
 * token for token. What `llm2llm generate` runs.
 */
import { existsSync } from "node:fs";
import type { Token } from "node-llama-cpp";
import { getLlamaCpp } from "../backend/llamaCpp.js";
import { MissingFileError, UsageError } from "../errors.js";
import { checkAdapterFitsBase, readLoraAdapter } from "../gguf/adapter.js";
import { openGguf } from "../gguf/index.js";
import { checkVocabularyLoads, UntokenizableTextError } from "../gguf/vocabularyCoverage.js";
import type { SamplingOptions } from "../seams.js";
import { generate } from "./generate.js";
import { LoraAdapter } from "./lora/LoraAdapter.js";
import { StudentModel } from "./StudentModel.js";
import { StudentTokenizer } from "./tokenizer.js";

export const generationEngines = ["tfjs", "llama.cpp"] as const;
export type GenerationEngine = (typeof generationEngines)[number];

export interface GenerateTextOptions {
  engine: GenerationEngine;
  modelPath: string;
  prompt: string;
  sampling: SamplingOptions;
  /** GGUF LoRA adapter applied on top of the model. */
  adapterPath?: string;
  /** User scale of the adapter (times its alpha / r, as llama.cpp). Default 1. */
  adapterScale?: number;
  /** Called with each new token as it is generated. */
  onToken?: (token: number) => void;
}

export interface GeneratedText {
  engine: GenerationEngine;
  /** The ids fed in: BOS included when the model adds one. */
  promptTokens: number[];
  /** The generated ids, without the stop token. */
  tokens: number[];
  text: string;
  stoppedBy: "eos" | "maxTokens";
  /** Generated tokens per second, prompt processing included. */
  tokensPerSecond: number;
}

export async function generateText(options: GenerateTextOptions): Promise<GeneratedText> {
  if (!existsSync(options.modelPath)) throw new MissingFileError(options.modelPath, "model file");
  if (options.adapterPath !== undefined && !existsSync(options.adapterPath)) throw new MissingFileError(options.adapterPath, "adapter file");
  const { maxTokens } = options.sampling;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new UsageError(`--max-tokens: expected a positive integer, got ${maxTokens}`);
  const file = await openGguf(options.modelPath); // a non-GGUF or hostile file fails here, clearly
  const adapter = options.adapterPath === undefined ? undefined : await readLoraAdapter(options.adapterPath);
  if (adapter && options.adapterPath) checkAdapterFitsBase(adapter, options.adapterPath, file);
  const started = performance.now();
  const result =
    options.engine === "tfjs"
      ? await withTfjs(options, file, adapter && LoraAdapter.fromTensors(adapter))
      : await withLlamaCpp(options);
  const seconds = (performance.now() - started) / 1000;
  return { engine: options.engine, ...result, tokensPerSecond: result.tokens.length / Math.max(seconds, 1e-9) };
}

type EngineResult = Omit<GeneratedText, "engine" | "tokensPerSecond">;

async function withTfjs(options: GenerateTextOptions, file: Awaited<ReturnType<typeof openGguf>>, adapter?: LoraAdapter): Promise<EngineResult> {
  let tokenizer: StudentTokenizer | undefined;
  let model: StudentModel | undefined;
  try {
    tokenizer = await StudentTokenizer.load(options.modelPath);
    const promptTokens = tokenizePrompt(tokenizer, options.prompt);
    model = await StudentModel.fromGguf(file);
    const lora = adapter?.forwardMap(options.adapterScale ?? 1);
    const { tokens, stoppedBy } = await generate(model, promptTokens, {
      ...options.sampling,
      isEndOfGeneration: (t) => tokenizer!.isEndOfGeneration(t),
      ...(lora ? { lora } : {}),
      ...(options.onToken ? { onToken: options.onToken } : {}),
    });
    return { promptTokens, tokens, text: tokenizer.detokenize(tokens, promptTokens), stoppedBy };
  } finally {
    model?.dispose();
    adapter?.dispose();
    await tokenizer?.dispose();
  }
}

async function withLlamaCpp(options: GenerateTextOptions): Promise<EngineResult> {
  const llama = await getLlamaCpp();
  await checkVocabularyLoads(options.modelPath);
  const model = await llama.loadModel({ modelPath: options.modelPath });
  try {
    const tokenizer = StudentTokenizer.fromModel(model);
    const promptTokens = tokenizePrompt(tokenizer, options.prompt);
    if (promptTokens.length === 0) throw new UsageError("generate: the prompt has no tokens (give text, or a model that adds BOS)");
    const { sampling } = options;
    const context = await model.createContext({
      contextSize: promptTokens.length + sampling.maxTokens + 1,
      ...(options.adapterPath ? { lora: { adapters: [{ filePath: options.adapterPath, scale: options.adapterScale ?? 1 }] } } : {}),
    });
    try {
      const greedy = !sampling.temperature;
      const tokens: number[] = [];
      let stoppedBy: EngineResult["stoppedBy"] = "maxTokens";
      for await (const token of context.getSequence().evaluate(promptTokens as Token[], {
        temperature: greedy ? 0 : sampling.temperature!,
        ...(greedy ? {} : { topK: sampling.topK ?? 0, topP: sampling.topP ?? 1, ...(sampling.seed === undefined ? {} : { seed: sampling.seed }) }),
      })) {
        if (tokenizer.isEndOfGeneration(token)) {
          stoppedBy = "eos";
          break;
        }
        tokens.push(token);
        options.onToken?.(token);
        if (tokens.length >= sampling.maxTokens) break;
      }
      return { promptTokens, tokens, text: tokenizer.detokenize(tokens, promptTokens), stoppedBy };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

function tokenizePrompt(tokenizer: StudentTokenizer, prompt: string): number[] {
  try {
    return tokenizer.tokenize(prompt);
  } catch (error) {
    throw error instanceof UntokenizableTextError ? error.at(`--prompt ${JSON.stringify(prompt.length > 60 ? `${prompt.slice(0, 60)}…` : prompt)}`) : error;
  }
}
