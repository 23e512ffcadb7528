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
import type { BaseWeightsRequest } from "../baseWeights.js";
import { type CheckpointRequest, type MemoryPlan, refuseUnlessFits } from "./memoryPlan.js";
import { planForFile } from "./planForFile.js";
import { defaultTrainLoraOptions, trainLora, type LossPoint, type TrainLoraOptions } from "./trainLora.js";

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
  /** Base matrices in their GGUF blocks or as float32 (baseWeights.ts). Default auto. */
  baseWeights?: BaseWeightsRequest;
  /** Gradient checkpointing: auto (on when the memory plan needs it), on, off. */
  checkpoint?: CheckpointRequest;
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
  /** The memory plan the run was checked against (bytes), and what it decided. */
  memory: MemoryPlan;
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
    // Planned before the weights load: a run that cannot fit stops here with its numbers (never an OOM kill).
    const longest = examples.reduce((max, e) => Math.max(max, e.ids.length), 1);
    const { input, plan } = planForFile(file, {
      batchSize: Math.min(options.training?.batchSize ?? defaultTrainLoraOptions.batchSize, Math.max(1, examples.length)),
      maxLength: longest,
      ...(options.training?.lora ? { rank: options.training.lora.rank, targets: options.training.lora.targets } : {}),
      ...(options.baseWeights ? { baseWeights: options.baseWeights } : {}),
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    });
    refuseUnlessFits(input, plan, `training ${options.modelPath}`);
    model = await StudentModel.fromGguf(file, { baseWeights: input.baseWeights });
    const training = { ...options.training, checkpoint: plan.checkpoint, ...(initialAdapter ? { initialAdapter } : {}) };
    const result = await trainLora(model, examples, training, options.onStep);
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
        memory: plan,
      },
    };
  } finally {
    model?.dispose();
    initialAdapter?.dispose();
    await tokenizer.dispose();
  }
}
