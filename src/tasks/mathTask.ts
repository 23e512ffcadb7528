/**
 * Math word problems with a worked rationale ending `#### <number>` (GSM8K). Calculator annotations
 * (`<<48/2=24>>`) are part of the gold rationale the student learns to write; scoring looks only at the
 * final answer, compared as the official LLM2LLM code does.
 */
import type { Example } from "../seams.js";
import { compareAnswersOfficially, extractHashAnswer, normaliseFinalAnswer } from "./numericAnswer.js";
import { fillTemplate, invalid, type TaskDefinition, type TaskDescription } from "./types.js";

/** The official evaluation prompt (LLM2LLM `GSM8K/eval.py`); the student is trained and tested with it. */
export const GSM8K_PROMPT = "Solve the below question step by step.\n\n{question}\n\nAnswer:";

export interface MathTaskOptions {
  name?: string;
  promptTemplate?: string;
  answerWord?: string;
}

export class MathTask implements TaskDefinition {
  readonly kind = "math" as const;
  readonly name: string;
  readonly promptTemplate: string;
  readonly answerWord: string;

  constructor(options: MathTaskOptions = {}) {
    this.name = options.name ?? "math";
    this.promptTemplate = options.promptTemplate ?? GSM8K_PROMPT;
    this.answerWord = options.answerWord ?? "Answer";
  }

  formatPrompt(example: Example): string {
    return fillTemplate(this.promptTemplate, { question: example.question });
  }

  formatCompletion(example: Example): string {
    return ` ${example.answer.trim()}`;
  }

  extractAnswer(completion: string): string | undefined {
    const raw = extractHashAnswer(completion);
    if (raw === undefined || raw === "") return undefined;
    return normaliseFinalAnswer(raw) ?? raw;
  }

  isCorrect(completion: string, example: Example): boolean {
    const predicted = extractHashAnswer(completion);
    const gold = extractHashAnswer(example.answer);
    if (predicted === undefined || gold === undefined) return false;
    return compareAnswersOfficially(gold, predicted);
  }

  invalidReason(example: Example): string | undefined {
    if (!example.question.trim()) return invalid("missing-field", "empty question");
    if (!example.answer.trim()) return invalid("missing-field", "empty answer");
    const final = finalAnswerLine(example.answer);
    if (final === undefined) return invalid("malformed-answer", "no `#### <number>` line at the end of the answer");
    if (normaliseFinalAnswer(final.value) === undefined) {
      return invalid("malformed-answer", `the final answer "${final.value}" is not a number`);
    }
    if (!final.rationale.trim()) return invalid("malformed-answer", "no rationale before the `####` line");
    return undefined;
  }

  describe(): TaskDescription {
    return { name: this.name, kind: this.kind, answerWord: this.answerWord, promptTemplate: this.promptTemplate };
  }
}

/** Splits `rationale\n#### 42` at its first `####` line; undefined when there is none. */
export function finalAnswerLine(answer: string): { rationale: string; value: string } | undefined {
  const match = /^(.*?)#{4}\s*([^\n]*)/s.exec(answer);
  if (!match) return undefined;
  return { rationale: match[1] ?? "", value: (match[2] ?? "").trim() };
}
