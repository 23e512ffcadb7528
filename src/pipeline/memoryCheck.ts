/**
 * The run's training memory, planned before iteration 0 from the student's tensor table and the length plan's
 * training length (src/student/train/memoryPlan.ts): `run` refuses a plan that does not fit, `run --dry-run`
 * prints it. Base-weight form and checkpointing change memory and time, not results (the stored-weight products
 * and the recomputed blocks give the same bits), so they are process options, not run config keys.
 */
import { initBackend } from "../backend/tfjsBackend.js";
import { openGguf } from "../gguf/openGguf.js";
import type { MemoryPlan } from "../student/train/memoryPlan.js";
import { refuseUnlessFits } from "../student/train/memoryPlan.js";
import { planForFile } from "../student/train/planForFile.js";
import type { LengthPlan } from "./lengthPlan.js";
import type { RunConfig } from "./runConfig.js";

export async function planRunMemory(config: RunConfig, lengths: LengthPlan): Promise<MemoryPlan> {
  await initBackend();
  const file = await openGguf(config.student);
  const { input, plan } = planForFile(file, {
    batchSize: config.train.batchSize,
    maxLength: lengths.trainMaxTokens,
    rank: config.train.rank,
    targets: config.train.targets,
  });
  refuseUnlessFits(input, plan, `training the student ${config.student}`);
  return plan;
}

/** The plan's fields for `--dry-run --json`. */
export function memorySummary(plan: MemoryPlan): Record<string, number | boolean | string> {
  return {
    memory_peak_bytes: plan.peakBytes,
    memory_available_bytes: plan.availableBytes,
    memory_available_source: plan.availableSource,
    memory_weights_bytes: plan.weightsBytes,
    memory_lora_bytes: plan.loraBytes,
    memory_activation_bytes: plan.activationBytes,
    memory_head_bytes: plan.headBytes,
    memory_runtime_bytes: plan.runtimeBytes,
    checkpointing: plan.checkpoint,
    base_weights: plan.baseWeights,
    memory_largest_tensor_bytes: plan.largestTensorBytes,
    ...(plan.maxDeviceBufferBytes === undefined ? {} : { gpu_max_buffer_bytes: plan.maxDeviceBufferBytes }),
    memory_fits: plan.fits,
  };
}
