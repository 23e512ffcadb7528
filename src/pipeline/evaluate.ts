/**
 * Asks the student to answer examples and scores each answer with the task. Greedy by default; "paper" samples
 * as the paper's evaluation does (temperature 0.7, top-p 0.9) with a seed per example from the run seed and the
 * example id, so a prediction depends on neither the order, the batch nor a resume.
 */
import { UntokenizableTextError } from "../gguf/vocabularyCoverage.js";
import type { Example, SamplingOptions, StudentGenerator, Task } from "../seams.js";
import { requestSeed } from "../teacher/requestSeed.js";
import type { EvaluatedExample } from "./sourceSelection.js";

export const evalSamplingModes = ["greedy", "paper"] as const;
export type EvalSamplingMode = (typeof evalSamplingModes)[number];

export interface EvalSampling {
  mode: EvalSamplingMode;
  /** The run seed. */
  seed: number;
  maxTokens: number;
}

/** The sampling of each example: greedy, or the paper's with the example's own seed. */
export function evalSamplingFor(examples: readonly Example[], sampling: EvalSampling): SamplingOptions[] {
  return examples.map((example) =>
    sampling.mode === "greedy"
      ? { maxTokens: sampling.maxTokens, temperature: 0 }
      : { maxTokens: sampling.maxTokens, temperature: 0.7, topP: 0.9, seed: requestSeed(sampling.seed, `eval:${example.id}`) },
  );
}

export async function evaluateStudent(
  student: StudentGenerator,
  task: Task,
  examples: Example[],
  sampling: EvalSampling,
  onDone?: (index: number) => void,
): Promise<EvaluatedExample[]> {
  const predictions = await student
    .generate(examples.map((e) => task.formatPrompt(e)), evalSamplingFor(examples, sampling), onDone)
    .catch((error: unknown) => {
      // A prompt outside the student's vocabulary: say which example it came from.
      if (error instanceof UntokenizableTextError && error.textIndex !== undefined && examples[error.textIndex]) {
        throw error.at(`example "${examples[error.textIndex]!.id}" (${error.where})`);
      }
      throw error;
    });
  return examples.map((example, i) => ({ example, prediction: predictions[i]!, correct: task.isCorrect(predictions[i]!, example) }));
}

export function accuracy(evaluated: EvaluatedExample[]): number {
  return evaluated.length === 0 ? 0 : evaluated.filter((e) => e.correct).length / evaluated.length;
}

/** The row written to eval-*.jsonl. */
export function evaluationRow(e: EvaluatedExample) {
  return { id: e.example.id, correct: e.correct, prediction: e.prediction, answer: e.example.answer };
}
