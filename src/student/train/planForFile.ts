/** The memory plan of training one GGUF: its tensor table, the LoRA sites the targets name, the batch shape. */
import * as tf from "@tensorflow/tfjs";
import type { GgufFile } from "../../gguf/openGguf.js";
import { resolveBaseWeights, type BaseWeightsRequest } from "../baseWeights.js";
import { configFromGguf } from "../config.js";
import { nativeBlockArchitectures } from "../fused/block.js";
import { nativeFusedAvailable } from "../fused/nativeFused.js";
import { defaultLoraConfig } from "../lora/LoraAdapter.js";
import { targetTensorName, type LoraTarget } from "../lora/loraTargets.js";
import { checkpointFromEnvironment, type CheckpointRequest, type MemoryPlan, type MemoryPlanInput, planTrainingMemory } from "./memoryPlan.js";

export interface TrainingShape {
  batchSize: number;
  /** Longest example, in tokens. */
  maxLength: number;
  rank?: number;
  targets?: readonly LoraTarget[];
  baseWeights?: BaseWeightsRequest;
  checkpoint?: CheckpointRequest;
}

export function memoryPlanInput(file: GgufFile, shape: TrainingShape): MemoryPlanInput {
  const config = configFromGguf(file);
  const targets = shape.targets ?? defaultLoraConfig.targets;
  const loraShapes: [number, number][] = [];
  for (let layer = 0; layer < config.nLayer; layer++) {
    for (const target of targets) {
      const tensor = file.tensor(`blk.${layer}.${targetTensorName[target]}.weight`);
      if (tensor) loraShapes.push([tensor.shape[1] ?? 1, tensor.shape[0]!]); // ggml [n_in, n_out]
    }
  }
  return {
    config,
    tensors: file.tensors,
    baseWeights: resolveBaseWeights(shape.baseWeights),
    rank: shape.rank ?? defaultLoraConfig.rank,
    loraShapes,
    batchSize: shape.batchSize,
    maxLength: shape.maxLength,
    checkpoint: shape.checkpoint ?? checkpointFromEnvironment(), // as resolveBaseWeights reads LLM2LLM_BASE_WEIGHTS
    fusedBlocks: nativeFusedAvailable() && nativeBlockArchitectures.includes(config.architecture),
    ...deviceLimit(),
  };
}

/** On WebGPU, the device's largest storage buffer binding (tfjs binds each tensor as one). */
function deviceLimit(): { maxDeviceBufferBytes?: number } {
  if (tf.getBackend() !== "webgpu") return {};
  const limits = (tf.backend() as unknown as { device?: { limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number } } }).device?.limits;
  const bytes = Math.min(limits?.maxStorageBufferBindingSize ?? Infinity, limits?.maxBufferSize ?? Infinity);
  return Number.isFinite(bytes) ? { maxDeviceBufferBytes: bytes } : {};
}

export function planForFile(file: GgufFile, shape: TrainingShape): { input: MemoryPlanInput; plan: MemoryPlan } {
  const input = memoryPlanInput(file, shape);
  return { input, plan: planTrainingMemory(input) };
}
