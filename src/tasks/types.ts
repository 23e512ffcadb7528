/** What this folder's tasks offer beyond the seam `Task`: the pieces a teacher prompt and a data loader need. */
import type { Task, TaskKind } from "../seams.js";

export interface TaskDefinition extends Task {
  /** The word before the answer in the student prompt (`Answer`, `Sentiment`, `Class`, `Intent`). */
  readonly answerWord: string;
  /** Student prompt template; `{question}` (and `{choices}` for multiple choice) are filled in. */
  readonly promptTemplate: string;
  /** Raw label in the data → label word (`0` → `negative`), applied when examples are loaded. */
  readonly labelWords?: Readonly<Record<string, string>>;
  /** Multiple choice: how many candidates every example has (CaseHOLD: 5), when fixed. */
  readonly choiceCount?: number;
  /** A summary for `--json` output and run configs. */
  describe(): TaskDescription;
}

export interface TaskDescription {
  name: string;
  kind: TaskKind;
  answerWord: string;
  promptTemplate: string;
  labels?: string[];
  labelWords?: Record<string, string>;
  choiceCount?: number;
}

/**
 * `invalidReason` strings start with a stable key and a colon (`label-not-in-set: "meh" is not one of …`),
 * so the augmentation filters can count drops by key.
 */
export type InvalidReasonKey = "missing-field" | "label-not-in-set" | "malformed-answer" | "bad-choices";

export function invalid(key: InvalidReasonKey, detail: string): string {
  return `${key}: ${detail}`;
}

/** Fills `{question}` / `{choices}` in a template; unknown placeholders are left as written. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}
