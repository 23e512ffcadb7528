/**
 * The structured teacher output: `{"examples": [{"question": …, "answer": …}]}` (classification: the answer
 * is the label; multiple choice: `{question, choices, answer}` with the answer a letter). The JSON schema is
 * what the teacher hands to node-llama-cpp's `createGrammarForJsonSchema` (or an endpoint's
 * `response_format`); its string length limits keep a constrained completion finite, and are the same
 * bounds the validate filter applies.
 */
import type { GbnfJsonObjectSchema, GbnfJsonSchema } from "node-llama-cpp";
import type { TaskKind } from "../seams.js";
import { LETTERS } from "../tasks/multipleChoiceTask.js";
import type { Candidate } from "./parseFreeText.js";

export interface LengthBounds {
  minQuestionChars: number;
  maxQuestionChars: number;
  maxAnswerChars: number;
}

export const DEFAULT_LENGTH_BOUNDS: Readonly<Record<TaskKind, LengthBounds>> = {
  math: { minQuestionChars: 20, maxQuestionChars: 1200, maxAnswerChars: 1600 },
  classification: { minQuestionChars: 3, maxQuestionChars: 600, maxAnswerChars: 60 },
  "multiple-choice": { minQuestionChars: 20, maxQuestionChars: 4000, maxAnswerChars: 1 },
};

export interface SchemaOptions {
  /** Examples per completion (the paper's k). */
  count: number;
  labels?: readonly string[];
  /** Multiple choice: number of choices. */
  choiceCount?: number;
  bounds?: LengthBounds;
  /** Longest single choice (multiple choice). */
  maxChoiceChars?: number;
}

/** A JSON schema in the subset node-llama-cpp's grammar and OpenAI-style `response_format` both accept. */
export function augmentationJsonSchema(kind: TaskKind, options: SchemaOptions): GbnfJsonObjectSchema {
  const bounds = options.bounds ?? DEFAULT_LENGTH_BOUNDS[kind];
  const question = { type: "string", minLength: bounds.minQuestionChars, maxLength: bounds.maxQuestionChars } as const;
  // `required` is ignored by the grammar (every property is required there) but needed by OpenAI-style servers.
  let item: GbnfJsonSchema;
  if (kind === "math") {
    item = {
      type: "object",
      properties: { question, answer: { type: "string", minLength: 1, maxLength: bounds.maxAnswerChars, description: "rationale with every calculation, ending with a line `#### <number>`" } },
      required: ["question", "answer"],
      additionalProperties: false,
    };
  } else if (kind === "classification") {
    if (!options.labels?.length) throw new Error("augmentationJsonSchema: classification needs the label set");
    item = {
      type: "object",
      properties: { question, answer: { enum: [...options.labels] } },
      required: ["question", "answer"],
      additionalProperties: false,
    };
  } else {
    const choiceCount = options.choiceCount ?? 4;
    item = {
      type: "object",
      properties: {
        question,
        choices: {
          type: "array",
          items: { type: "string", minLength: 1, maxLength: options.maxChoiceChars ?? 600 },
          minItems: choiceCount,
          maxItems: choiceCount,
        },
        answer: { enum: LETTERS.slice(0, choiceCount).split("") },
      },
      required: ["question", "choices", "answer"],
      additionalProperties: false,
    };
  }
  return {
    type: "object",
    properties: { examples: { type: "array", items: item, minItems: options.count, maxItems: options.count } },
    required: ["examples"],
    additionalProperties: false,
  };
}

export type StructuredParse = { ok: true; candidates: Candidate[] } | { ok: false; reason: "invalid-json" | "wrong-shape"; detail: string };

/**
 * Reads a structured completion. Tolerates a ```json fence, a bare array, and `label` for `answer`;
 * numbers become strings (a multiple-choice index stays an index for the validate filter to map).
 */
export function parseStructured(text: string): StructuredParse {
  const unfenced = text.trim().replace(/^```(?:json)?\s*\n?([\s\S]*?)\n?```$/i, "$1");
  let value: unknown;
  try {
    value = JSON.parse(unfenced);
  } catch (error) {
    return { ok: false, reason: "invalid-json", detail: (error as Error).message };
  }
  const list = Array.isArray(value) ? value : typeof value === "object" && value !== null ? (value as { examples?: unknown }).examples : undefined;
  if (!Array.isArray(list)) return { ok: false, reason: "wrong-shape", detail: 'expected {"examples": [...]}' };
  const asText = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");
  const candidates = list.map((item): Candidate => {
    const o = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
    const candidate: Candidate = { question: asText(o.question ?? o.text).trim(), answer: asText(o.answer ?? o.label).trim() };
    if (Array.isArray(o.choices)) candidate.choices = o.choices.map(asText);
    return candidate;
  });
  return { ok: true, candidates };
}
