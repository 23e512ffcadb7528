/**
 * The real parts of the loop: the tfjs LoRA trainer, llama.cpp evaluation with the iteration's adapter,
 * and the teacher (local GGUF or endpoint) with the augmentation filters. Each part loads what it needs and
 * releases it when done, so the teacher and the student are never resident together (one GPU holds one).
 */
import { rm } from "node:fs/promises";
import { openGguf } from "../gguf/index.js";
import { untokenizableReason, vocabularyCoverageFromMetadata } from "../gguf/vocabularyCoverage.js";
import type { Example } from "../seams.js";
import { loadStudentGenerator } from "../student/evaluate/loadStudentGenerator.js";
import { trainAdapterFile } from "../student/train/trainAdapterFile.js";
import { loadTaskData } from "../tasks/loadTaskData.js";
import type { TaskDefinition } from "../tasks/types.js";
import { augmentWithTeacher } from "../teacher/augmentWithTeacher.js";
import { openTeacher } from "../teacher/openTeacher.js";
import type { LengthPlan } from "./lengthPlan.js";
import { planSummary } from "./lengthPlan.js";
import type { LoopParts } from "./loopParts.js";
import type { LoopObserver } from "./observer.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";
import { dropTooLongToTrain, TOO_LONG_TO_TRAIN } from "./trainLengthFilter.js";

export interface RunData {
  task: TaskDefinition;
  seedSet: Example[];
  testSet: Example[];
}

/** The seed set D0 and the test set T, read with the run's task (the task's label set comes from the seed data). */
export async function loadRunData(config: RunConfig): Promise<RunData> {
  const seed = await loadTaskData(config.seedData, config.task);
  const test = await loadTaskData(config.testData, config.task);
  return { task: seed.task, seedSet: seed.dataset.examples, testSet: test.dataset.examples };
}

/** The loop's parts; every token budget and context comes from `plan` (pipeline/planRun.ts), the same numbers `run --dry-run` prints. */
export function createLoopParts(config: RunConfig, task: TaskDefinition, run: RunDirectory, observer: LoopObserver, plan: LengthPlan): LoopParts {
  return {
    task,
    lengths: { evalMaxTokens: plan.evalMaxTokens, trainDropped: plan.trainDropped.length, summary: planSummary(plan) },

    async trainStudent(data, { iteration, outAdapter, initAdapter }) {
      let barStarted = false;
      const { summary } = await trainAdapterFile({
        modelPath: config.student,
        examples: data.map((e, i) => ({ prompt: task.formatPrompt(e), completion: task.formatCompletion(e), line: i + 1 })),
        dataFile: run.file(iteration, "train.jsonl"),
        outPath: outAdapter,
        maxLength: plan.trainMaxTokens,
        ...(initAdapter ? { initAdapterPath: initAdapter } : {}),
        training: {
          lora: { rank: config.train.rank, alpha: config.train.alpha, dropout: config.train.dropout, targets: config.train.targets },
          learningRate: config.train.learningRate,
          epochs: config.train.epochs,
          batchSize: config.train.batchSize,
          seed: config.seed,
        },
        onStep: (_point, totalSteps) => {
          if (!barStarted) observer.stage(iteration, "train", totalSteps);
          barStarted = true;
          observer.progress(1);
        },
      });
      // The plan counted every example the trainer may leave out (seed examples beyond a --max-len; augmented
      // ones that long were dropped at augmentation): anything else left out would be lost silently.
      if (summary.tooLong !== plan.trainDropped.length) {
        await rm(outAdapter, { force: true }); // an existing adapter would mark the stage done on resume
        throw new Error(`iteration ${iteration}: training left out ${summary.tooLong} examples longer than ${plan.trainMaxTokens} tokens; the length plan expected ${plan.trainDropped.length}`);
      }
      return { finalLoss: summary.finalLoss, steps: summary.steps, tokensPerSecond: summary.tokensPerSecond, seconds: summary.seconds };
    },

    openStudent(adapterPath) {
      return loadStudentGenerator({ engine: "llama.cpp", modelPath: config.student, adapterPath, parallel: config.evalParallel, contextSize: plan.studentContext });
    },

    openTeacher() {
      return openTeacher({
        ...(config.teacher ? { teacher: config.teacher } : {}),
        ...(config.teacherUrl ? { teacherUrl: config.teacherUrl, teacherModel: config.teacherModel } : {}),
        parallel: config.teacherParallel,
        contextSize: plan.teacherContext,
      });
    },

    async augment(teacher, sources, { k, iteration, existing }) {
      // The bar counts requests: a source may take several (compact teachers, retry rounds, split asks).
      observer.stage(iteration, "augment", sources.length);
      let done = 0;
      // Teacher text the student's vocabulary cannot hold (no byte fallback) is a counted drop, not a crash later.
      const untokenizable = untokenizableReason(vocabularyCoverageFromMetadata((await openGguf(config.student)).metadata), config.student);
      const outcome = await augmentWithTeacher(teacher, sources, {
        ...(untokenizable ? { untokenizable } : {}),
        task,
        k,
        iteration,
        structured: config.structured,
        sampling: { ...config.teacherSampling, maxTokens: plan.teacherMaxTokens, seed: config.seed },
        existing,
        rounds: config.augmentRounds,
        maxExamplesPerRequest: plan.maxExamplesPerRequest,
        onProgress: (p) => {
          observer.setTotal?.(p.promptsTotal);
          observer.progress(p.promptsDone - done);
          done = p.promptsDone;
        },
      });
      const fit = await dropTooLongToTrain(config.student, task, outcome.kept, plan.trainMaxTokens);
      const dropped = { ...outcome.dropped };
      if (fit.dropped > 0) dropped[TOO_LONG_TO_TRAIN] = (dropped[TOO_LONG_TO_TRAIN] ?? 0) + fit.dropped;
      const { prompts, teacherTokens, seconds, wanted, roundsUsed, requestsPerRound, shortSources, missingExamples } = outcome;
      return { kept: fit.kept, dropped, prompts, teacherTokens, seconds, wanted, roundsUsed, requestsPerRound, shortSources, missingExamples };
    },
  };
}
