/** The options that decide how much memory training takes beyond batch and length: shared by train and run. */
import { baseWeightsModes } from "../student/baseWeights.js";

export const memoryOptions = {
  "base-weights": {
    choices: baseWeightsModes,
    default: "auto" as const,
    describe:
      "base matrices in memory: stored (the GGUF's own blocks, memory-mapped; native CPU kernels multiply with them directly, " +
      "WebGPU dequantizes one matrix per product in a shader), f32 (dequantized once), auto (stored on the native CPU backend " +
      "and WebGPU, f32 on tfjs-node(-gpu); LLM2LLM_BASE_WEIGHTS sets it too)",
  },
  checkpoint: {
    choices: ["auto", "on", "off"] as const,
    default: "auto" as const,
    describe: "gradient checkpointing (recompute each block in the backward): auto turns it on when the memory plan needs it",
  },
};
