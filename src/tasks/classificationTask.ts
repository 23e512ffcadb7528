/**
 * Classification over a closed label set (SST-2, TREC, SNIPS): the prompt is the text and an answer word
 * (`Sentiment:`, `Class:`, `Intent:` as in the official LLM2LLM `train.py`), the completion is one label.
 */
import type { Example } from "../seams.js";
import { UsageError } from "../errors.js";
import { fillTemplate, invalid, type TaskDefinition, type TaskDescription } from "./types.js";

export interface ClassificationTaskOptions {
  name?: string;
  /** The closed label set, as the student writes the labels. */
  labels: readonly string[];
  labelWords?: Readonly<Record<string, string>>;
  /** Default `{question}\n<answerWord>:`. */
  promptTemplate?: string;
  /** Default `Label`. */
  answerWord?: string;
}

/** Case and surrounding punctuation do not matter when matching a label. */
export function labelKey(text: string): string {
  return text.trim().replace(/^[\s"'`*([]+|[\s"'`*.)\]!,;:]+$/g, "").toLowerCase();
}

export class ClassificationTask implements TaskDefinition {
  readonly kind = "classification" as const;
  readonly name: string;
  readonly labels: readonly string[];
  readonly labelWords?: Readonly<Record<string, string>>;
  readonly promptTemplate: string;
  readonly answerWord: string;
  /** labelKey → canonical label. */
  private readonly byKey: Map<string, string>;
  /** Longest first, so `PlayMusic` is not read as a shorter label that prefixes it. */
  private readonly longestFirst: string[];

  constructor(options: ClassificationTaskOptions) {
    if (options.labels.length < 2) {
      throw new UsageError(`task ${options.name ?? "classification"}: a classification task needs at least 2 labels, got ${options.labels.length}`);
    }
    this.name = options.name ?? "classification";
    this.labels = [...options.labels];
    this.labelWords = options.labelWords;
    this.answerWord = options.answerWord ?? "Label";
    this.promptTemplate = options.promptTemplate ?? `{question}\n${this.answerWord}:`;
    this.byKey = new Map(this.labels.map((label) => [labelKey(label), label]));
    if (this.byKey.size !== this.labels.length) {
      throw new UsageError(`task ${this.name}: labels differ only in case or punctuation: ${this.labels.join(", ")}`);
    }
    this.longestFirst = [...this.labels].sort((a, b) => b.length - a.length);
  }

  /** The canonical label a text names exactly (ignoring case and punctuation around it), or undefined. */
  canonicalLabel(text: string): string | undefined {
    return this.byKey.get(labelKey(text));
  }

  formatPrompt(example: Example): string {
    return fillTemplate(this.promptTemplate, { question: example.question });
  }

  formatCompletion(example: Example): string {
    return ` ${example.answer.trim()}`;
  }

  /** The label the completion starts with: its first line exactly, else the first label word it begins with. */
  extractAnswer(completion: string): string | undefined {
    const firstLine = completion.trim().split("\n", 1)[0] ?? "";
    const exact = this.canonicalLabel(firstLine);
    if (exact) return exact;
    const lower = firstLine.trim().replace(/^[\s"'`*([]+/, "").toLowerCase();
    for (const label of this.longestFirst) {
      const key = label.toLowerCase();
      if (lower.startsWith(key) && !/[a-z0-9]/i.test(lower.charAt(key.length))) return label;
    }
    return undefined;
  }

  isCorrect(completion: string, example: Example): boolean {
    const predicted = this.extractAnswer(completion);
    return predicted !== undefined && predicted === this.canonicalLabel(example.answer);
  }

  invalidReason(example: Example): string | undefined {
    if (!example.question.trim()) return invalid("missing-field", "empty text");
    if (!example.answer.trim()) return invalid("missing-field", "empty label");
    if (this.canonicalLabel(example.answer) === undefined) {
      return invalid("label-not-in-set", `"${example.answer}" is not one of ${this.labels.join(", ")}`);
    }
    return undefined;
  }

  describe(): TaskDescription {
    return {
      name: this.name,
      kind: this.kind,
      answerWord: this.answerWord,
      promptTemplate: this.promptTemplate,
      labels: [...this.labels],
      ...(this.labelWords ? { labelWords: { ...this.labelWords } } : {}),
    };
  }
}
