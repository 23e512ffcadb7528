/**
 * Scoring a student's output against a gold completion ({prompt, completion} data, `llm2llm eval`): with a
 * task, its own extraction decides (GSM8K: the number after `####`, compared as the official code does; a
 * label: the label the output starts with; multiple choice: the letter). Without a task, `llm2llm eval` keeps
 * exact match and reports prefix match beside it (src/student/evaluate/evaluateExamples.ts).
 */
import type { Example } from "../seams.js";
import { buildTask, taskSpecFor } from "./resolveTask.js";
import type { TaskDefinition } from "./types.js";

export type CompletionScorer = (output: string, completion: string) => boolean;

/** The task a `--task` value names, for scoring completions; a classification task without labels takes the completions' set. */
export function scoringTask(nameOrKind: string, completions: readonly string[]): TaskDefinition {
  const spec = taskSpecFor(nameOrKind);
  const labels = spec.kind === "classification" && !spec.labels ? [...new Set(completions.map((c) => c.trim()))] : undefined;
  return buildTask(spec, labels ? { labels } : {});
}

export function taskScorer(task: TaskDefinition): CompletionScorer {
  if (task.kind === "multiple-choice") {
    // The gold completion is the letter itself (the choices are inside the prompt, not in the data).
    return (output, completion) => {
      const predicted = task.extractAnswer(output);
      return predicted !== undefined && predicted === task.extractAnswer(completion);
    };
  }
  return (output, completion) => task.isCorrect(output, { id: "", question: "", answer: completion.trim() } satisfies Example);
}
