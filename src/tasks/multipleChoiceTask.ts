/**
 * Multiple choice (CaseHOLD: a case prompt and five candidate holdings). The prompt lists the choices as
 * `(A) …` lines; the answer is the letter. Data may give the answer as a 0-based index, a letter or the
 * text of the choice; `choiceLetter` turns each into the letter.
 */
import type { Example } from "../seams.js";
import { fillTemplate, invalid, type TaskDefinition, type TaskDescription } from "./types.js";

/** Default for `multiple-choice` and the `casehold` preset (official `train.py`: `{instruction}\nAnswer:`). */
export const MULTIPLE_CHOICE_PROMPT = "{question}\n{choices}\nAnswer:";

export const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

export interface MultipleChoiceTaskOptions {
  name?: string;
  promptTemplate?: string;
  answerWord?: string;
  /** When set, every example must have exactly this many choices. */
  choiceCount?: number;
}

/**
 * The letter an answer names: `B`, `(b)`, `b)`, a 0-based index `1`, or the exact text of a choice.
 * Undefined when it names none of `choices`.
 */
export function choiceLetter(answer: string | number, choices: readonly string[]): string | undefined {
  if (typeof answer === "number") {
    return Number.isInteger(answer) && answer >= 0 && answer < choices.length ? LETTERS[answer] : undefined;
  }
  const trimmed = answer.trim();
  const letter = /^\(?([A-Za-z])\)?[.:]?$/.exec(trimmed)?.[1]?.toUpperCase();
  if (letter !== undefined) {
    const index = LETTERS.indexOf(letter);
    return index >= 0 && index < choices.length ? letter : undefined;
  }
  if (/^\d+$/.test(trimmed)) return choiceLetter(Number(trimmed), choices);
  const byText = choices.findIndex((choice) => choice.trim() === trimmed);
  return byText >= 0 ? LETTERS[byText] : undefined;
}

export class MultipleChoiceTask implements TaskDefinition {
  readonly kind = "multiple-choice" as const;
  readonly name: string;
  readonly promptTemplate: string;
  readonly answerWord: string;
  readonly choiceCount?: number;

  constructor(options: MultipleChoiceTaskOptions = {}) {
    this.name = options.name ?? "multiple-choice";
    this.promptTemplate = options.promptTemplate ?? MULTIPLE_CHOICE_PROMPT;
    this.answerWord = options.answerWord ?? "Answer";
    this.choiceCount = options.choiceCount;
  }

  formatPrompt(example: Example): string {
    const choices = (example.choices ?? []).map((choice, i) => `(${LETTERS[i]}) ${choice}`).join("\n");
    return fillTemplate(this.promptTemplate, { question: example.question, choices });
  }

  formatCompletion(example: Example): string {
    return ` ${example.answer.trim()}`;
  }

  /** The letter the completion starts with: `B`, `(B)`, `B)` or `B.`; a bare lowercase letter is not read. */
  extractAnswer(completion: string): string | undefined {
    const match = /^\s*(?:\(([A-Za-z])\)|([A-Z])(?![A-Za-z]))/.exec(completion);
    return (match?.[1] ?? match?.[2])?.toUpperCase();
  }

  isCorrect(completion: string, example: Example): boolean {
    const predicted = this.extractAnswer(completion);
    return predicted !== undefined && predicted === choiceLetter(example.answer, example.choices ?? []);
  }

  invalidReason(example: Example): string | undefined {
    if (!example.question.trim()) return invalid("missing-field", "empty prompt");
    const choices = example.choices;
    if (!choices || choices.length < 2) return invalid("bad-choices", `needs at least 2 choices, got ${choices?.length ?? 0}`);
    if (choices.length > LETTERS.length) return invalid("bad-choices", `at most ${LETTERS.length} choices, got ${choices.length}`);
    if (this.choiceCount !== undefined && choices.length !== this.choiceCount) {
      return invalid("bad-choices", `expected ${this.choiceCount} choices, got ${choices.length}`);
    }
    if (choices.some((choice) => !choice.trim())) return invalid("bad-choices", "a choice is empty");
    if (new Set(choices.map((c) => c.trim().toLowerCase())).size !== choices.length) return invalid("bad-choices", "two choices are the same");
    if (!example.answer.trim()) return invalid("missing-field", "empty answer");
    if (choiceLetter(example.answer, choices) !== example.answer.trim()) {
      return invalid("malformed-answer", `answer "${example.answer}" is not a letter A–${LETTERS[choices.length - 1]}`);
    }
    return undefined;
  }

  describe(): TaskDescription {
    return {
      name: this.name,
      kind: this.kind,
      answerWord: this.answerWord,
      promptTemplate: this.promptTemplate,
      ...(this.choiceCount !== undefined ? { choiceCount: this.choiceCount } : {}),
    };
  }
}
