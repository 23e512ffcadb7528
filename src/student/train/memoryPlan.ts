/**
 * Peak memory of LoRA training, planned from the GGUF's tensor table before a byte of weights is loaded, and
 * held against the memory this process can have: a plan that does not fit is refused with its numbers and the
 * flags that would make it fit, instead of growing until the kernel kills the process (exit 137, no message).
 *
 *   peak = runtime + base weights as held (stored blocks or float32) + LoRA (weights, gradients, AdamW moments)
 *        + activations at the batch and training length + the output head's workspace
 *
 * Activations follow the fused native block (src/student/fused/block.ts): what its forward keeps per block for
 * the backward, for every block, or with checkpointing one block's worth (recomputed in the backward) plus each
 * block's input. The figures are estimates (allocator and V8 overheads are not modelled), sized to err high.
 */
import { freemem } from "node:os";
import { readFileSync } from "node:fs";
import { UsageError } from "../../errors.js";
import type { LlamaConfig } from "../config.js";
import { type BaseWeightsMode, heldBytes } from "../baseWeights.js";

export const checkpointRequests = ["auto", "on", "off"] as const;
export type CheckpointRequest = (typeof checkpointRequests)[number];

/** LLM2LLM_CHECKPOINT (what `run --checkpoint` sets for the loop's trainings), else auto. */
export function checkpointFromEnvironment(): CheckpointRequest {
  const value = process.env.LLM2LLM_CHECKPOINT ?? "auto";
  if (!(checkpointRequests as readonly string[]).includes(value)) throw new UsageError(`LLM2LLM_CHECKPOINT "${value}": expected auto, on or off`);
  return value as CheckpointRequest;
}

export interface MemoryPlanInput {
  config: LlamaConfig;
  /** The file's tensors: ggml shape, type and stored size. */
  tensors: readonly { name: string; shape: readonly number[]; type: number; byteLength: number }[];
  baseWeights: BaseWeightsMode;
  /** LoRA rank and the tensors it adapts (their [n_out, n_in]). */
  rank: number;
  loraShapes: readonly (readonly [number, number])[];
  batchSize: number;
  /** Longest training example in tokens (the batch pads to it). */
  maxLength: number;
  checkpoint: CheckpointRequest;
  /** The fused native block runs (else the tfjs composition, which keeps more per block). */
  fusedBlocks: boolean;
  /** WebGPU: the adapter's largest storage buffer binding; every tensor of a step must fit one. */
  maxDeviceBufferBytes?: number;
}

export interface MemoryPlan {
  baseWeights: BaseWeightsMode;
  weightsBytes: number;
  loraBytes: number;
  activationBytes: number;
  headBytes: number;
  runtimeBytes: number;
  peakBytes: number;
  availableBytes: number;
  /** Where availableBytes came from (MemAvailable, a cgroup limit, LLM2LLM_MEMORY_LIMIT). */
  availableSource: string;
  checkpoint: boolean;
  /** The largest single tensor of a step (a float32 matrix, the logits, attention probabilities). */
  largestTensorBytes: number;
  maxDeviceBufferBytes?: number;
  fits: boolean;
}

/**
 * Node, tfjs, node-llama-cpp's tokenizer, the CLI and what the allocator keeps besides the parts below. 512 MiB
 * planned 6.41 GiB for a 7B Q4_0 run that peaked at 6.59 GiB (`npm run bench -- quant-train`): 768 MiB errs high.
 */
const runtimeBytes = 768 * 2 ** 20;
/** Keep this share of the available memory free (page cache, the allocator's slack). */
const headroom = 0.9;
/** Checkpointing goes on by itself above this much kept activation memory, even where more would fit. */
const autoCheckpointBytes = 2 * 2 ** 30;

export function planTrainingMemory(input: MemoryPlanInput, available = availableMemory()): MemoryPlan {
  const withoutCheckpoint = activationBytes(input, false);
  const checkpoint =
    input.fusedBlocks &&
    (input.checkpoint === "on" ||
      (input.checkpoint === "auto" &&
        (withoutCheckpoint > autoCheckpointBytes || fixedBytes(input) + withoutCheckpoint > available.bytes * headroom)));
  const fixed = fixedBytes(input);
  const activations = checkpoint ? activationBytes(input, true) : withoutCheckpoint;
  const headBytes = headWorkspace(input);
  const peakBytes = fixed + activations + headBytes;
  const largestTensorBytes = largestTensor(input);
  const deviceFits = input.maxDeviceBufferBytes === undefined || largestTensorBytes <= input.maxDeviceBufferBytes;
  return {
    baseWeights: input.baseWeights,
    weightsBytes: heldBytes(input.tensors, input.baseWeights),
    loraBytes: loraBytes(input),
    activationBytes: activations,
    headBytes,
    runtimeBytes,
    peakBytes,
    availableBytes: available.bytes,
    availableSource: available.source,
    checkpoint,
    largestTensorBytes,
    ...(input.maxDeviceBufferBytes === undefined ? {} : { maxDeviceBufferBytes: input.maxDeviceBufferBytes }),
    fits: peakBytes <= available.bytes * headroom && deviceFits,
  };
}

function fixedBytes(input: MemoryPlanInput): number {
  return runtimeBytes + heldBytes(input.tensors, input.baseWeights) + loraBytes(input);
}

/** LoRA A and B, their gradients (and the step's accumulated copy), AdamW's two moments: 5 float32 copies. */
function loraBytes(input: MemoryPlanInput): number {
  const parameters = input.loraShapes.reduce((sum, [nOut, nIn]) => sum + input.rank * (nOut + nIn), 0);
  return parameters * 4 * 5;
}

/** Floats one block keeps for its backward at n = batch · length rows (block.ts blockForward's `saved`). */
function blockSavedFloats(input: MemoryPlanInput): number {
  const c = input.config;
  const b = input.batchSize;
  const t = input.maxLength;
  const n = b * t;
  const qk = c.nHead * c.headDimK + c.nHeadKv * c.headDimK;
  const perRow =
    3 * c.nEmbd + // h, x1, f
    2 * qk + // q, k before and after RoPE
    (c.qkNorm ? qk : 0) +
    c.nHeadKv * c.headDimV + // v
    c.nHead * c.headDimV + // attended
    3 * c.nFf + // gate, up, gated
    7 * input.rank + // LoRA down-projections
    4; // the norms' reciprocal roots
  return n * perRow + b * c.nHead * t * t; // + attention probabilities [B, H, T, T]
}

function activationBytes(input: MemoryPlanInput, checkpoint: boolean): number {
  const c = input.config;
  const n = input.batchSize * input.maxLength;
  const block = blockSavedFloats(input) * 4;
  const inputs = c.nLayer * n * c.nEmbd * 4; // each block's input, held by the tape
  if (!input.fusedBlocks) return inputs + c.nLayer * block * 2; // the composition keeps more intermediates per block
  // The backward's scratch is about one block's saved set again.
  return checkpoint ? inputs + 2 * block : inputs + c.nLayer * block + block;
}

/** The output head: logits and their gradient for the rows in the loss (at most all rows), hidden rows in and out. */
function headWorkspace(input: MemoryPlanInput): number {
  const c = input.config;
  const n = input.batchSize * input.maxLength;
  return n * c.nVocab * 4 + 4 * n * c.nEmbd * 4;
}

/** The largest float32 tensor a step makes: a matrix (dequantized, on WebGPU), the logits, the attention probabilities. */
function largestTensor(input: MemoryPlanInput): number {
  const c = input.config;
  const n = input.batchSize * input.maxLength;
  const matrix = Math.max(...input.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1)));
  return 4 * Math.max(matrix, n * c.nVocab, input.batchSize * c.nHead * input.maxLength * input.maxLength);
}

/** What this process may use: LLM2LLM_MEMORY_LIMIT (bytes), else the smaller of MemAvailable and a cgroup limit. */
export function availableMemory(): { bytes: number; source: string } {
  const forced = process.env.LLM2LLM_MEMORY_LIMIT;
  if (forced !== undefined) {
    const bytes = Number(forced);
    if (!(bytes > 0)) throw new UsageError(`LLM2LLM_MEMORY_LIMIT: expected a number of bytes, got "${forced}"`);
    return { bytes, source: "LLM2LLM_MEMORY_LIMIT" };
  }
  let best = { bytes: freemem(), source: "free memory" };
  const meminfo = readText("/proc/meminfo")?.match(/^MemAvailable:\s+(\d+) kB/m);
  if (meminfo) best = { bytes: Number(meminfo[1]) * 1024, source: "MemAvailable" };
  const cgroup = readText("/sys/fs/cgroup/memory.max")?.trim();
  const current = Number(readText("/sys/fs/cgroup/memory.current")?.trim());
  if (cgroup && cgroup !== "max" && Number.isFinite(current)) {
    const room = Number(cgroup) - current;
    if (room < best.bytes) best = { bytes: room, source: "cgroup memory.max" };
  }
  return best;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

export function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** One line per part, for --dry-run and the refusal. */
export function describeMemoryPlan(plan: MemoryPlan): string {
  const device =
    plan.maxDeviceBufferBytes === undefined ? "" : `; largest tensor ${gib(plan.largestTensorBytes)} of the GPU adapter's ${gib(plan.maxDeviceBufferBytes)} buffer limit`;
  return (
    `peak ${gib(plan.peakBytes)} of ${gib(plan.availableBytes)} available (${plan.availableSource}): ` +
    `base weights ${gib(plan.weightsBytes)} (${plan.baseWeights === "stored" ? "kept in their GGUF blocks" : "float32"}), LoRA + AdamW ${gib(plan.loraBytes)}, ` +
    `activations ${gib(plan.activationBytes)} (checkpointing ${plan.checkpoint ? "on" : "off"}), ` +
    `output head ${gib(plan.headBytes)}, runtime ${gib(plan.runtimeBytes)}${device}`
  );
}

/**
 * Throws a UsageError naming the numbers and the changes that would fit (each checked with the same plan), when
 * the plan does not fit.
 */
export function refuseUnlessFits(input: MemoryPlanInput, plan: MemoryPlan, what: string): void {
  if (plan.fits) return;
  const tries: { flag: string; change: Partial<MemoryPlanInput> }[] = [];
  if (!plan.checkpoint && input.fusedBlocks) tries.push({ flag: "--checkpoint on", change: { checkpoint: "on" } });
  for (let batch = input.batchSize >> 1; batch >= 1; batch >>= 1) tries.push({ flag: `--batch ${batch} (with --grad-accum ${Math.ceil(input.batchSize / batch)} for the same step)`, change: { batchSize: batch } });
  for (let length = input.maxLength >> 1; length >= 64; length >>= 1) tries.push({ flag: `--max-len ${length}`, change: { maxLength: length } });
  if (input.rank > 4) tries.push({ flag: `--rank ${input.rank >> 1}`, change: { rank: input.rank >> 1 } });
  if (input.baseWeights === "f32") tries.push({ flag: "--base-weights stored", change: { baseWeights: "stored" } });
  const available = { bytes: plan.availableBytes, source: plan.availableSource };
  const fitting = tries
    .map((t) => ({ ...t, plan: planTrainingMemory({ ...input, ...t.change }, available) }))
    .filter((t) => t.plan.fits)
    .slice(0, 3)
    .map((t) => `${t.flag} (peak ${gib(t.plan.peakBytes)})`);
  const advice = fitting.length > 0 ? `; would fit: ${fitting.join(", or ")}` : "; no single change of --batch, --max-len, --rank or --checkpoint makes it fit: use a smaller model or a machine with more memory";
  throw new UsageError(`${what} does not fit in memory: ${describeMemoryPlan(plan)} (at --batch ${input.batchSize}, sequences of ${input.maxLength} tokens, --rank ${input.rank})${advice}`);
}
