/**
 * What the loop needs from the student, the teacher and the augmentation filters: small interfaces, so the
 * loop reads like the paper's algorithm and can be run with any implementation of each part.
 */
import type { Example, StudentGenerator, Task, Teacher } from "../seams.js";

export interface TrainResult {
  /** Final training loss (completion tokens only). */
  finalLoss: number;
  steps: number;
  tokensPerSecond: number;
  seconds: number;
}

export interface AugmentResult {
  kept: Example[];
  /** Drop counts by reason (parse, validate:…, verify, dedup, teacher-error …). */
  dropped: Record<string, number>;
  prompts: number;
  teacherTokens: number;
  seconds: number;
  /** New examples asked for in all, retry rounds used, requests per round, and what is still missing. */
  wanted: number;
  roundsUsed: number;
  requestsPerRound: number[];
  shortSources: number;
  missingExamples: number;
}

/** The numbers of the run's length plan the loop itself needs (pipeline/lengthPlan.ts). */
export interface LoopLengths {
  /** The student's answer budget in evaluation. */
  evalMaxTokens: number;
  /** Seed examples longer than the training length: in the data, left out by the trainer every iteration. */
  trainDropped: number;
  /** What metrics.json records under `lengths`. */
  summary: object;
}

export interface LoopParts {
  task: Task;
  lengths: LoopLengths;
  /** Fine-tunes a LoRA on the base student; from the base unless `initAdapter` is given (--continue). */
  trainStudent(data: Example[], options: { iteration: number; outAdapter: string; initAdapter?: string }): Promise<TrainResult>;
  /** Opens the student with an adapter for evaluation; the caller disposes it. */
  openStudent(adapterPath: string): Promise<StudentGenerator>;
  /** Loads the teacher; the caller disposes it before training, so one model is resident at a time. */
  openTeacher(): Promise<Teacher>;
  /** Asks the teacher for k new examples per source example (or the source's own `count`) and filters them against `existing`. */
  augment(
    teacher: Teacher,
    sources: { example: Example; studentAnswer: string; count?: number }[],
    options: { k: number; iteration: number; existing: Example[] },
  ): Promise<AugmentResult>;
}
