/**
 * The augmentation's last filter: a teacher example longer than the run's training length would be left out
 * by the trainer, silently. Here it is measured with the student's tokenizer (as the trainer measures it)
 * and dropped with a reason that metrics.json and the report count.
 */
import type { Example, Task } from "../seams.js";
import { StudentTokenizer } from "../student/tokenizer.js";
import { loadVocab, studentLengths } from "./measureLengths.js";

export const TOO_LONG_TO_TRAIN = "length:too-long-to-train";

export async function dropTooLongToTrain(studentPath: string, task: Task, examples: readonly Example[], maxTokens: number): Promise<{ kept: Example[]; dropped: number }> {
  if (examples.length === 0) return { kept: [], dropped: 0 };
  const model = await loadVocab(studentPath, "student model");
  try {
    const lengths = studentLengths(StudentTokenizer.fromModel(model), task, examples);
    const kept = examples.filter((_, i) => lengths[i]!.prompt + lengths[i]!.completion + 1 <= maxTokens);
    return { kept, dropped: examples.length - kept.length };
  } finally {
    await model.dispose();
  }
}
