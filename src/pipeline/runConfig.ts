/**
 * The configuration of one LLM2LLM run (DESIGN.md §1), validated with zod so a bad value is reported with
 * its key. It is saved as runs/<name>/config.json; a resumed run must have the same one (or --force).
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { DataFormatError, UsageError } from "../errors.js";
import { loraTargets } from "../student/lora/loraTargets.js";

export const trainOptionsSchema = z.object({
  rank: z.number().int().positive().default(8),
  alpha: z.number().positive().default(16),
  dropout: z.number().min(0).max(1).default(0),
  learningRate: z.number().positive().default(2e-3),
  epochs: z.number().int().positive().default(3),
  batchSize: z.number().int().positive().default(8),
  /** Longest training example in tokens; default: the longest seed example (pipeline/lengthPlan.ts). */
  maxLength: z.number().int().positive().optional(),
  /** Projections that get a LoRA (default all seven). */
  targets: z.array(z.enum(loraTargets)).min(1).default([...loraTargets]),
});

export const runConfigSchema = z
  .object({
    /** Student base model (GGUF); every iteration trains a fresh LoRA on it. */
    student: z.string().min(1),
    /** Teacher model (GGUF), or an OpenAI-compatible endpoint with teacherUrl + teacherModel. */
    teacher: z.string().min(1).optional(),
    teacherUrl: z.string().url().optional(),
    teacherModel: z.string().optional(),
    task: z.string().min(1),
    seedData: z.string().min(1),
    testData: z.string().min(1),
    iterations: z.number().int().min(1).default(5),
    /** New examples the teacher writes per source example. */
    k: z.number().int().min(1).default(1),
    /** Teacher rounds per iteration at most: sources still short of k are asked again (with the kept ones shown). */
    augmentRounds: z.number().int().min(1).default(3),
    /** One-shot ablation: total new examples, spread evenly over the sources (default k·(iterations−1) per source). */
    oneShotExamples: z.number().int().min(1).optional(),
    seed: z.number().int().default(0),
    /** Which examples go to the teacher (pipeline/sourceSelection.ts). */
    sources: z.enum(["wrong", "all"]).default("wrong"),
    /** Ablations of the paper, as options of the same loop. */
    oneShot: z.boolean().default(false),
    continueFromPrevious: z.boolean().default(false),
    augmentAll: z.boolean().default(false),
    train: trainOptionsSchema.default(trainOptionsSchema.parse({})),
    teacherSampling: z
      .object({
        temperature: z.number().min(0).default(0.7),
        topP: z.number().gt(0).max(1).default(0.9),
        /** Tokens per teacher completion; default from the data (k examples as long as the longest source). */
        maxTokens: z.number().int().positive().optional(),
      })
      .default({ temperature: 0.7, topP: 0.9 }),
    structured: z.boolean().default(true),
    teacherParallel: z.number().int().positive().default(4),
    evalParallel: z.number().int().positive().default(8),
    /** Student evaluation: greedy, or the paper's sampling (temperature 0.7, top-p 0.9, a seed per example). */
    evalSampling: z.enum(["greedy", "paper"]).default("greedy"),
    /** The student's answer budget; default: the longest gold completion plus a margin. */
    evalMaxTokens: z.number().int().positive().optional(),
    /** Tokens per student sequence in evaluation (prompt + answer); default: what the data needs. */
    studentContext: z.number().int().positive().optional(),
    /** Tokens per teacher sequence (local teacher); default: what the data needs, within the trained context. */
    teacherContext: z.number().int().positive().optional(),
    /** Examples asked for in one teacher request at most; default: as many as fit the teacher's context. */
    maxExamplesPerRequest: z.number().int().positive().optional(),
  })
  .strict()
  .refine((c) => c.teacher !== undefined || (c.teacherUrl !== undefined && c.teacherModel !== undefined), {
    message: "give a teacher GGUF (teacher) or an endpoint (teacherUrl and teacherModel)",
    path: ["teacher"],
  });

export type RunConfig = z.infer<typeof runConfigSchema>;

/** Validates a config object; `source` names where it came from in the error. */
export function parseRunConfig(value: unknown, source: string): RunConfig {
  const parsed = runConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new UsageError(`${source}: invalid run config:\n  ${problems.join("\n  ")}`);
}

export async function readRunConfigFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`config file not found: ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(file, undefined, `not valid JSON (${(error as Error).message})`);
  }
}

/** The keys whose values differ between two configs, dotted (for the resume check). */
export function changedKeys(before: unknown, after: unknown, prefix = ""): string[] {
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((key) => changedKeys(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix || "(root)"];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
