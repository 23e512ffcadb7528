/** Asks the student to answer examples and scores each answer with the task (greedy decoding). */
import { UntokenizableTextError } from "../gguf/vocabularyCoverage.js";
import type { Example, StudentGenerator, Task } from "../seams.js";
import type { EvaluatedExample } from "./sourceSelection.js";

export async function evaluateStudent(
  student: StudentGenerator,
  task: Task,
  examples: Example[],
  maxTokens: number,
  onDone?: (index: number) => void,
): Promise<EvaluatedExample[]> {
  const predictions = await student
    .generate(examples.map((e) => task.formatPrompt(e)), { maxTokens, temperature: 0 }, onDone)
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
