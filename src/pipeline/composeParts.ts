/**
 * The real parts of the loop: the tfjs LoRA trainer, llama.cpp evaluation with the iteration's adapter,
 * and the teacher (local GGUF or endpoint) with the augmentation filters. Each part loads what it needs and
 * releases it when done, so the teacher and the student are never resident together (one GPU holds one).
 */
import { openGguf } from "../gguf/index.js";
import { untokenizableReason, vocabularyCoverageFromMetadata } from "../gguf/vocabularyCoverage.js";
import type { Example } from "../seams.js";
import { loadStudentGenerator } from "../student/evaluate/loadStudentGenerator.js";
import { trainAdapterFile } from "../student/train/trainAdapterFile.js";
import { loadTaskData } from "../tasks/loadTaskData.js";
import type { TaskDefinition } from "../tasks/types.js";
import { augmentWithTeacher } from "../teacher/augmentWithTeacher.js";
import { openTeacher } from "../teacher/openTeacher.js";
import type { LoopParts } from "./loopParts.js";
import type { LoopObserver } from "./observer.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";

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

export function createLoopParts(config: RunConfig, task: TaskDefinition, run: RunDirectory, observer: LoopObserver): LoopParts {
  return {
    task,

    async trainStudent(data, { iteration, outAdapter, initAdapter }) {
      let barStarted = false;
      const { summary } = await trainAdapterFile({
        modelPath: config.student,
        examples: data.map((e, i) => ({ prompt: task.formatPrompt(e), completion: task.formatCompletion(e), line: i + 1 })),
        dataFile: run.file(iteration, "train.jsonl"),
        outPath: outAdapter,
        maxLength: config.train.maxLength,
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
      return { finalLoss: summary.finalLoss, steps: summary.steps, tokensPerSecond: summary.tokensPerSecond, seconds: summary.seconds };
    },

    openStudent(adapterPath) {
      return loadStudentGenerator({ engine: "llama.cpp", modelPath: config.student, adapterPath, parallel: config.evalParallel });
    },

    openTeacher() {
      return openTeacher({
        ...(config.teacher ? { teacher: config.teacher } : {}),
        ...(config.teacherUrl ? { teacherUrl: config.teacherUrl, teacherModel: config.teacherModel } : {}),
        parallel: config.teacherParallel,
      });
    },

    async augment(teacher, sources, { k, iteration, existing }) {
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
        sampling: { ...config.teacherSampling, seed: config.seed },
        existing,
        rounds: config.augmentRounds,
        onProgress: (p) => {
          observer.progress(p.promptsDone - done);
          done = p.promptsDone;
        },
      });
      const { kept, dropped, prompts, teacherTokens, seconds, wanted, roundsUsed, requestsPerRound, shortSources, missingExamples } = outcome;
      return { kept, dropped, prompts, teacherTokens, seconds, wanted, roundsUsed, requestsPerRound, shortSources, missingExamples };
    },
  };
}
