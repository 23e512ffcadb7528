/** What every task kind's teacher prompt provides (the paper's layout: system prompt, one worked example, the request). */
import type { Example, Task } from "../../seams.js";

export interface WorkedExample {
  /** The user turn: a seed question with its answer key. */
  user: string;
  /** The assistant turn, free text in the paper's numbered format. */
  freeText: string;
  /** The same examples as the structured output's `examples` array. */
  examples: Record<string, unknown>[];
}

export interface KindPrompts {
  /** The system prompt: the teacher's job and the requirements on what it writes. */
  system(task: Task, structured: boolean): string;
  /** The one worked example; shaped like `seed` where the format depends on it (number of choices). */
  workedExample(task: Task, seed: Example): WorkedExample;
  /** The request for one wrong seed example: "The student was given … Please generate k similar …". */
  request(task: Task, seed: Example, k: number, studentAnswer?: string): string;
  /** Examples the teacher wrote earlier, numbered in the free-text form (its earlier answer in a retry). */
  freeTextList(examples: readonly Example[]): string;
  /** The retry's last turn: "Now generate k more … different from the ones you just generated …". */
  askForMore(task: Task, seed: Example, k: number): string;
}

/** The paper's ending for the free-text mode vs. the structured mode's JSON instruction. */
export function outputInstruction(structured: boolean, freeTextForm: string, jsonForm: string): string {
  return structured
    ? `Always return your examples as JSON, and nothing else, in the form:\n${jsonForm}\n`
    : `Always return your examples in the form:\n${freeTextForm}\n`;
}

/** "1 similar question" / "2 similar questions". */
export function plural(k: number, noun: string): string {
  return `${k} similar ${noun}${k === 1 ? "" : "s"}`;
}

/** The optional line about the student's own (wrong) answer. */
export function studentAnswerPart(studentAnswer: string | undefined): string {
  const answer = studentAnswer?.trim();
  return answer ? `The student answered:\n\n${answer}\n\nwhich is wrong.\n\n` : "";
}

/** "1 more question" / "2 more questions". */
export function more(k: number, noun: string): string {
  return `${k} more ${noun}${k === 1 ? "" : "s"}`;
}
