/**
 * A short probe of this machine for `run --dry-run`: a few training steps, a few student answers and one
 * teacher request, timed, then scaled to one iteration of the plan. An estimate, not a promise: the first
 * iteration trains on the seed set only, and a student that answers at length costs up to the budget.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadStudentGenerator } from "../student/evaluate/loadStudentGenerator.js";
import { trainAdapterFile } from "../student/train/trainAdapterFile.js";
import { augmentationRequest } from "../teacher/prompts/augmentationRequest.js";
import { openTeacher } from "../teacher/openTeacher.js";
import type { RunData } from "./composeParts.js";
import type { ExampleLength, LengthPlan } from "./lengthPlan.js";
import type { RunConfig } from "./runConfig.js";

const PROBE_EXAMPLES = 4;
const PROBE_TOKENS = 16;

export interface ProbeEstimate {
  trainer: { tokensPerSecond: number; seconds: number };
  evaluator: { tokensPerSecond: number; seconds: number; secondsAtBudget: number };
  teacher: { tokensPerSecond: number; seconds: number } | { skipped: string };
  /** One iteration: train + evaluate (+ teacher when probed), every seed example wrong for the teacher. */
  secondsPerIteration: number;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function probeRun(config: RunConfig, data: RunData, plan: LengthPlan, lengths: { seed: ExampleLength[]; test: ExampleLength[] }): Promise<ProbeEstimate> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-probe-"));
  try {
    const fits = data.seedSet.filter((_, i) => lengths.seed[i]!.prompt + lengths.seed[i]!.completion + 1 <= plan.trainMaxTokens);
    const sample = fits.slice(0, PROBE_EXAMPLES);
    const { summary } = await trainAdapterFile({
      modelPath: config.student,
      examples: sample.map((e, i) => ({ prompt: data.task.formatPrompt(e), completion: data.task.formatCompletion(e), line: i + 1 })),
      dataFile: "probe",
      outPath: path.join(dir, "probe-adapter.gguf"),
      maxLength: plan.trainMaxTokens,
      training: { lora: { rank: config.train.rank, alpha: config.train.alpha, dropout: 0, targets: config.train.targets }, epochs: 1, batchSize: Math.min(config.train.batchSize, sample.length), seed: config.seed },
    });
    const trainTokens = lengths.seed.map((e) => e.prompt + e.completion + 1).filter((n) => n <= plan.trainMaxTokens).reduce((a, b) => a + b, 0);
    const trainer = { tokensPerSecond: summary.tokensPerSecond, seconds: (trainTokens * config.train.epochs) / Math.max(summary.tokensPerSecond, 1e-9) };

    const student = await loadStudentGenerator({ engine: "llama.cpp", modelPath: config.student, parallel: config.evalParallel, contextSize: plan.studentContext });
    let evalSeconds: number;
    const prompts = data.seedSet.slice(0, Math.min(config.evalParallel, data.seedSet.length)).map((e) => data.task.formatPrompt(e));
    try {
      const started = performance.now();
      await student.generate(prompts, { maxTokens: PROBE_TOKENS, temperature: 0 });
      evalSeconds = (performance.now() - started) / 1000;
    } finally {
      await student.dispose();
    }
    // Prompt processing is counted in as if it were decoding: a conservative rate.
    const evalRate = (prompts.length * PROBE_TOKENS) / Math.max(evalSeconds, 1e-9);
    const examples = data.seedSet.length + data.testSet.length;
    const goldMean = mean([...lengths.seed, ...lengths.test].map((e) => e.completion));
    const evaluator = { tokensPerSecond: evalRate, seconds: (examples * goldMean) / evalRate, secondsAtBudget: (examples * plan.evalMaxTokens) / evalRate };

    let teacher: ProbeEstimate["teacher"] = { skipped: "endpoint teacher: not probed (each request may cost money)" };
    if (config.teacher) {
      const local = await openTeacher({ teacher: config.teacher, parallel: 1, contextSize: plan.teacherContext });
      try {
        const built = augmentationRequest(data.task, data.seedSet[0]!, {
          k: plan.maxExamplesPerRequest,
          structured: config.structured,
          sampling: { ...config.teacherSampling, maxTokens: PROBE_TOKENS, seed: config.seed },
          iteration: 0,
          promptStyle: plan.teacherPromptStyle,
        });
        const started = performance.now();
        const [completion] = await local.complete([built.request]);
        const seconds = (performance.now() - started) / 1000;
        const rate = Math.max(completion?.tokens ?? 0, 1) / Math.max(seconds, 1e-9);
        // Every seed example wrong, each request filling its budget, one sequence: an upper bound (parallel sequences are faster).
        const requests = data.seedSet.length * Math.ceil(plan.examplesPerSource / plan.maxExamplesPerRequest);
        teacher = { tokensPerSecond: rate, seconds: (requests * plan.teacherMaxTokens) / rate };
      } finally {
        await local.dispose();
      }
    }
    const secondsPerIteration = trainer.seconds + evaluator.seconds + ("seconds" in teacher ? teacher.seconds : 0);
    return { trainer, evaluator, teacher, secondsPerIteration };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
