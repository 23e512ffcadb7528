/**
 * The reference student engine: the tfjs model with the LoRA weights (H2's generate, KV cache, one prompt
 * at a time). Slow, but it is the model that was trained, so it checks the llama.cpp engine.
 */
import { existsSync } from "node:fs";
import { initBackend } from "../../backend/tfjsBackend.js";
import { checkAdapterFitsBase, readLoraAdapter } from "../../gguf/adapter.js";
import { openGguf } from "../../gguf/openGguf.js";
import { MissingFileError } from "../../errors.js";
import type { SamplingOptions, StudentGenerator } from "../../seams.js";
import { generate } from "../generate.js";
import { LoraAdapter } from "../lora/LoraAdapter.js";
import { StudentModel } from "../StudentModel.js";
import { StudentTokenizer } from "../tokenizer.js";

export interface TfjsStudentOptions {
  modelPath: string;
  adapterPath?: string;
  /** User scale on top of alpha / r, as llama.cpp's. Default 1. */
  adapterScale?: number;
}

export class TfjsStudentGenerator implements StudentGenerator {
  readonly engine = "tfjs";

  constructor(
    private readonly model: StudentModel,
    private readonly tokenizer: StudentTokenizer,
    private readonly adapter?: LoraAdapter,
    private readonly adapterScale = 1,
    /** Whether dispose frees the model, tokenizer and adapter (true when `load` made them). */
    private readonly owned = false,
  ) {}

  static async load(options: TfjsStudentOptions): Promise<TfjsStudentGenerator> {
    if (!existsSync(options.modelPath)) throw new MissingFileError(options.modelPath, "model file");
    await initBackend();
    const file = await openGguf(options.modelPath);
    let adapter: LoraAdapter | undefined;
    if (options.adapterPath !== undefined) {
      const tensors = await readLoraAdapter(options.adapterPath);
      checkAdapterFitsBase(tensors, options.adapterPath, file);
      adapter = LoraAdapter.fromTensors(tensors);
    }
    const model = await StudentModel.fromGguf(file);
    const tokenizer = await StudentTokenizer.load(options.modelPath);
    return new TfjsStudentGenerator(model, tokenizer, adapter, options.adapterScale ?? 1, true);
  }

  async generate(prompts: string[], sampling: SamplingOptions | readonly SamplingOptions[], onDone?: (index: number) => void): Promise<string[]> {
    // Text the vocabulary cannot hold is an error before any generation (llama.cpp would abort on it).
    this.tokenizer.checkTexts(prompts, (i) => `evaluation prompt ${i + 1} of ${prompts.length}`);
    const lora = this.adapter?.forwardMap(this.adapterScale);
    const results: string[] = [];
    for (const [index, prompt] of prompts.entries()) {
      const promptTokens = this.tokenizer.tokenize(prompt);
      const { tokens } = await generate(this.model, promptTokens, {
        ...(Array.isArray(sampling) ? sampling[index]! : (sampling as SamplingOptions)),
        ...(lora ? { lora } : {}),
        isEndOfGeneration: (token) => this.tokenizer.isEndOfGeneration(token),
      });
      results.push(this.tokenizer.detokenize(tokens, promptTokens));
      onDone?.(index);
      // Let the event loop breathe between prompts (progress bars, signals).
      await new Promise((resolve) => setImmediate(resolve));
    }
    return results;
  }

  async dispose(): Promise<void> {
    if (!this.owned) return;
    this.model.dispose();
    this.adapter?.dispose();
    await this.tokenizer.dispose();
  }
}
