/**
 * Files in, adapter file out: the whole of `llm2llm train` below the command line, also what the LLM2LLM
 * loop calls each iteration. Loads the base GGUF into the tfjs student, tokenizes the examples with the
 * model's own tokenizer, trains a LoRA adapter and writes it as a GGUF adapter llama.cpp loads.
 */
import { initBackend } from "../../backend/tfjsBackend.js";
import { checkAdapterFitsBase, readLoraAdapter, writeLoraAdapter } from "../../gguf/adapter.js";
import { openGguf } from "../../gguf/openGguf.js";
import { LoraAdapter } from "../lora/LoraAdapter.js";
import { StudentModel } from "../StudentModel.js";
import { StudentTokenizer } from "../tokenizer.js";
import type { PromptCompletion } from "./trainingData.js";
import { tokenizeExamples } from "./trainingData.js";
import { trainLora, type LossPoint, type TrainLoraOptions } from "./trainLora.js";

export interface TrainAdapterFileOptions {
  modelPath: string;
  examples: readonly PromptCompletion[];
  /** The data file, for messages. */
  dataFile: string;
  outPath: string;
  /** Longest example kept, in tokens (prompt + completion + EOS). Default 512. */
  maxLength?: number;
  /** Start from this adapter's weights (resume) instead of a fresh one. */
  initAdapterPath?: string;
  training?: Partial<TrainLoraOptions>;
  onStep?: (point: LossPoint, totalSteps: number) => void;
}

export interface TrainAdapterFileSummary {
  adapter: string;
  model: string;
  architecture: string;
  examples: number;
  /** Examples left out for being longer than maxLength. */
  tooLong: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  tokensPerSecond: number;
  seconds: number;
  rank: number;
  alpha: number;
  targets: string[];
}

export async function trainAdapterFile(options: TrainAdapterFileOptions): Promise<{ summary: TrainAdapterFileSummary; lossCurve: LossPoint[] }> {
  const started = performance.now();
  await initBackend(); // once per process: the fastest tfjs backend available (DESIGN.md §5)
  const file = await openGguf(options.modelPath);
  let initialAdapter: LoraAdapter | undefined;
  if (options.initAdapterPath) {
    const tensors = await readLoraAdapter(options.initAdapterPath);
    checkAdapterFitsBase(tensors, options.initAdapterPath, file);
    initialAdapter = LoraAdapter.fromTensors(tensors, options.training?.lora?.dropout ?? 0);
  }
  const tokenizer = await StudentTokenizer.load(options.modelPath);
  let model: StudentModel | undefined;
  try {
    const { examples, tooLong } = tokenizeExamples(options.examples, tokenizer, options.maxLength ?? 512, options.dataFile);
    model = await StudentModel.fromGguf(file);
    const result = await trainLora(model, examples, { ...options.training, ...(initialAdapter ? { initialAdapter } : {}) }, options.onStep);
    const { rank, alpha } = result.adapter;
    const targets = [...new Set(result.adapter.sites.map((s) => s.name.split(".")[2]!))];
    try {
      await writeLoraAdapter(options.outPath, await result.adapter.toTensors(file.architecture));
    } finally {
      result.adapter.dispose();
    }
    const curve = result.lossCurve;
    return {
      lossCurve: curve,
      summary: {
        adapter: options.outPath,
        model: options.modelPath,
        architecture: file.architecture,
        examples: examples.length,
        tooLong,
        steps: curve.length,
        firstLoss: curve[0]?.loss ?? NaN,
        finalLoss: curve.at(-1)?.loss ?? NaN,
        tokensPerSecond: result.tokensPerSecond,
        seconds: (performance.now() - started) / 1000,
        rank,
        alpha,
        targets,
      },
    };
  } finally {
    model?.dispose();
    initialAdapter?.dispose();
    await tokenizer.dispose();
  }
}
