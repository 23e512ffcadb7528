/**
 * The parity harness: the definition of "the tfjs student is correct" (DESIGN.md §4). The same token sequence
 * goes through llama.cpp (node-llama-cpp, raw logits at every position) and through the tfjs student; the two
 * next-token distributions are compared by mean KL(llama.cpp ‖ tfjs) and argmax agreement. Also greedy
 * generation on both engines. Reused for adapter parity: pass llama.cpp a LoRA adapter file and tfjs the same
 * LoRA weights.
 */
import type { LlamaModel, Token } from "node-llama-cpp";
import { getLlamaCpp } from "../../src/backend/llamaCpp.js";
import { openGguf } from "../../src/gguf/index.js";
import { generate } from "../../src/student/generate.js";
import type { LoraWeights } from "../../src/student/layers.js";
import { StudentModel } from "../../src/student/StudentModel.js";

/** The bounds of DESIGN.md §4; tests assert these, never looser. */
export const parityBounds = { maxMeanKl: 1e-3, minArgmaxAgreement: 0.99, minPositions: 64 } as const;

/**
 * One llama.cpp thread: tests share two busy cores, and llama.cpp's threads spin at each barrier while
 * waiting for a core (measured: 32 greedy tokens of the tiny fixture took 21 s with 2 threads, 73 ms with 1).
 */
const llamaCppThreads = 1;

export interface ParityResult {
  positions: number;
  meanKl: number;
  maxKl: number;
  /** Fraction of positions where both engines' most likely next token is the same. */
  argmaxAgreement: number;
}

export interface LlamaCppLoraOption {
  /** GGUF LoRA adapter file. */
  filePath: string;
  /** User scale (llama.cpp multiplies it by alpha / r). Default 1. */
  scale?: number;
}

/** Loads a full model into the process's llama.cpp (dispose it when done). */
export async function loadLlamaCppModel(modelPath: string): Promise<LlamaModel> {
  const llama = await getLlamaCpp();
  return llama.loadModel({ modelPath });
}

/** Loads the tfjs student from a GGUF file. */
export async function loadStudent(modelPath: string): Promise<StudentModel> {
  return StudentModel.fromGguf(await openGguf(modelPath));
}

/** llama.cpp's raw next-token logits after each token of `tokens`: one Float32Array [V] per position. */
export async function llamaCppLogits(model: LlamaModel, tokens: readonly number[], lora?: LlamaCppLoraOption[]): Promise<Float32Array[]> {
  const context = await model.createContext({
    contextSize: Math.max(256, tokens.length + 1),
    batchSize: Math.max(256, tokens.length + 1),
    threads: llamaCppThreads,
    ...(lora ? { lora: { adapters: lora.map((a) => ({ filePath: a.filePath, scale: a.scale ?? 1 })) } } : {}),
  });
  try {
    const sequence = context.getSequence();
    const results = await sequence.controlledEvaluate(tokens.map((t) => [t as Token, { generateNext: { logits: true } }]));
    return results.map((result, position) => {
      const logits = result?.next.logits;
      if (!logits) throw new Error(`llama.cpp returned no logits at position ${position}`);
      const dense = new Float32Array(logits.size);
      for (const [token, value] of logits) dense[token] = value;
      return dense;
    });
  } finally {
    await context.dispose();
  }
}

/** The tfjs student's next-token logits after each token: one Float32Array [V] per position. */
export async function tfjsLogits(student: StudentModel, tokens: readonly number[], lora?: LoraWeights): Promise<Float32Array[]> {
  const logits = student.forward([[...tokens]], lora ? { lora } : {}); // [1, T, V]
  const flat = (await logits.data()) as Float32Array; // async: webgpu has no synchronous read in Node
  logits.dispose();
  const v = student.config.nVocab;
  return tokens.map((_, i) => flat.slice(i * v, (i + 1) * v));
}

/** Mean and max KL(reference ‖ candidate) over positions, and argmax agreement. */
export function compareLogits(reference: Float32Array[], candidate: Float32Array[]): ParityResult {
  if (reference.length !== candidate.length) throw new Error(`position counts differ: ${reference.length} vs ${candidate.length}`);
  let sumKl = 0;
  let maxKl = 0;
  let agree = 0;
  reference.forEach((ref, i) => {
    const cand = candidate[i]!;
    if (ref.length !== cand.length) throw new Error(`vocabulary sizes differ at position ${i}: ${ref.length} vs ${cand.length}`);
    const logP = logSoftmax(ref);
    const logQ = logSoftmax(cand);
    let kl = 0;
    for (let j = 0; j < logP.length; j++) kl += Math.exp(logP[j]!) * (logP[j]! - logQ[j]!);
    sumKl += kl;
    maxKl = Math.max(maxKl, kl);
    if (argmaxOf(ref) === argmaxOf(cand)) agree++;
  });
  return { positions: reference.length, meanKl: sumKl / reference.length, maxKl, argmaxAgreement: agree / reference.length };
}

/** Both engines on the same tokens (and the same LoRA, when given). */
export async function checkParity(
  llamaModel: LlamaModel,
  student: StudentModel,
  tokens: readonly number[],
  lora?: { llamaCpp: LlamaCppLoraOption[]; tfjs: LoraWeights },
): Promise<ParityResult> {
  const reference = await llamaCppLogits(llamaModel, tokens, lora?.llamaCpp);
  return compareLogits(reference, await tfjsLogits(student, tokens, lora?.tfjs));
}

/** llama.cpp greedy continuation of `prompt`: n tokens (never stopping early, so lengths compare). */
export async function llamaCppGreedy(model: LlamaModel, prompt: readonly number[], n: number, lora?: LlamaCppLoraOption[]): Promise<number[]> {
  const context = await model.createContext({
    contextSize: Math.max(256, prompt.length + n + 1),
    threads: llamaCppThreads,
    ...(lora ? { lora: { adapters: lora.map((a) => ({ filePath: a.filePath, scale: a.scale ?? 1 })) } } : {}),
  });
  try {
    const out: number[] = [];
    for await (const token of context.getSequence().evaluate(prompt as Token[], { temperature: 0 })) {
      out.push(token);
      if (out.length >= n) break;
    }
    return out;
  } finally {
    await context.dispose();
  }
}

/** tfjs greedy continuation of `prompt`: n tokens, never stopping early. */
export async function tfjsGreedy(student: StudentModel, prompt: readonly number[], n: number, lora?: LoraWeights): Promise<number[]> {
  return (await generate(student, prompt, { maxTokens: n, temperature: 0, ...(lora ? { lora } : {}) })).tokens;
}

/** A reproducible token sequence of `length` ids in [low, high), starting with `first` when given (e.g. BOS). */
export function randomTokens(length: number, high: number, seed: number, first?: number, low = 3): number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const tokens = Array.from({ length }, () => low + Math.floor(next() * (high - low)));
  if (first !== undefined) tokens[0] = first;
  return tokens;
}

function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  let sum = 0;
  for (const x of logits) sum += Math.exp(x - max);
  const logSum = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logSum;
  return out;
}

function argmaxOf(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** One line for the test log: what was measured. */
export function describeParity(label: string, r: ParityResult): string {
  return `${label}: positions ${r.positions}, mean KL ${r.meanKl.toExponential(2)}, max KL ${r.maxKl.toExponential(2)}, argmax ${(100 * r.argmaxAgreement).toFixed(1)}%`;
}
