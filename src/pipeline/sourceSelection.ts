/**
 * Which evaluated examples go to the teacher. The paper sends the student's wrong answers on the seed set;
 * other criteria plug in behind the same interface.
 */
import type { Example } from "../seams.js";

/** One example after the student answered it. */
export interface EvaluatedExample {
  example: Example;
  prediction: string;
  correct: boolean;
}

export interface SourceSelector {
  readonly name: string;
  select(evaluated: EvaluatedExample[]): Example[];
}

/** The paper's criterion: every example the student got wrong. */
export const wrongAnswers: SourceSelector = {
  name: "wrong",
  select: (evaluated) => evaluated.filter((e) => !e.correct).map((e) => e.example),
};

/** Every example, right or wrong: plain (non-targeted) augmentation, for comparison. */
export const allExamples: SourceSelector = {
  name: "all",
  select: (evaluated) => evaluated.map((e) => e.example),
};

export const sourceSelectors = { wrong: wrongAnswers, all: allExamples } as const;
