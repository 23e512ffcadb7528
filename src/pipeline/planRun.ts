/**
 * The length plan of a run (pipeline/lengthPlan.ts) from its config and data: what `run` uses and what
 * `run --dry-run` prints, computed the same way by both.
 */
import type { LengthMeasurements, LengthOverrides, LengthPlan } from "./lengthPlan.js";
import { planLengths } from "./lengthPlan.js";
import { measureLengths } from "./measureLengths.js";
import type { RunData } from "./composeParts.js";
import type { RunConfig } from "./runConfig.js";

/** Examples asked per source at once: k, or for the one-shot ablation the iterative run's total, k·(n−1). */
export function examplesPerSource(config: Pick<RunConfig, "oneShot" | "k" | "iterations">): number {
  return config.oneShot ? config.k * Math.max(1, config.iterations - 1) : config.k;
}

export function lengthOverrides(config: RunConfig): LengthOverrides {
  const set = <K extends keyof LengthOverrides>(key: K, value: number | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    ...set("trainMaxTokens", config.train.maxLength),
    ...set("evalMaxTokens", config.evalMaxTokens),
    ...set("studentContext", config.studentContext),
    ...set("teacherMaxTokens", config.teacherSampling.maxTokens),
    ...set("teacherContext", config.teacherContext),
    ...set("maxExamplesPerRequest", config.maxExamplesPerRequest),
  };
}

export async function planRun(config: RunConfig, data: RunData): Promise<LengthPlan> {
  return planFrom(config, await measureRun(config, data));
}

export function planFrom(config: RunConfig, measured: LengthMeasurements): LengthPlan {
  return planLengths(measured, { examplesPerSource: examplesPerSource(config), augmentAll: config.augmentAll }, lengthOverrides(config));
}

export function measureRun(config: RunConfig, data: RunData): Promise<LengthMeasurements> {
  return measureLengths({
    studentPath: config.student,
    ...(config.teacher ? { teacherPath: config.teacher } : {}),
    task: data.task,
    seedSet: data.seedSet,
    testSet: data.testSet,
    examplesPerSource: examplesPerSource(config),
    structured: config.structured,
  });
}
