/**
 * Which fields of a record hold the question, the answer or label, and the choices. The common shapes are
 * detected from the field names; `FieldMapping` (the `--input-field`, `--output-field`, `--label-field`,
 * `--choices-field` options) settles what detection cannot.
 */
import { DataFormatError } from "../errors.js";

export interface FieldMapping {
  /** The question / text / prompt. */
  input?: string;
  /** A free-text answer (math rationale). */
  output?: string;
  /** A class label, or the right choice (index, letter or text) for multiple choice. */
  label?: string;
  /** Multiple choice: the array of candidate answers. */
  choices?: string;
  /** A field holding a stable id to keep. */
  id?: string;
}

export type Shape = "question-answer" | "alpaca" | "text-label" | "multiple-choice" | "chat" | "mapped";

export interface DetectedFields {
  shape: Shape;
  input: string;
  /** Alpaca: the `input` field appended to the instruction when non-empty. */
  extraInput?: string;
  output?: string;
  label?: string;
  choices?: string;
  id?: string;
}

const QUESTION_NAMES = ["question", "text", "sentence", "prompt", "utterance", "query", "context", "problem", "input"];
const ANSWER_NAMES = ["answer", "output", "response", "completion", "solution", "target"];
const LABEL_NAMES = ["label", "intent", "class", "category", "sentiment", "gold", "answer"];
const CHOICE_NAMES = ["choices", "options", "endings", "candidates", "holdings"];
const SHAPES_HELP =
  "{question, answer}, alpaca {instruction, input, output}, {text, label}, {prompt, choices, label} or chat {messages}; " +
  "map fields with --input-field, --output-field, --label-field, --choices-field";

function firstPresent(keys: Set<string>, names: readonly string[], except?: string): string | undefined {
  return names.find((name) => keys.has(name) && name !== except);
}

/** Detects the shape from the keys of the first records, then applies explicit mapping on top. */
export function detectFields(file: string, sample: Record<string, unknown>[], mapping: FieldMapping = {}): DetectedFields {
  const keys = new Set(sample.flatMap((fields) => Object.keys(fields)));
  const id = mapping.id ?? (keys.has("id") ? "id" : undefined);
  const mapped = Boolean(mapping.input || mapping.output || mapping.label || mapping.choices);
  for (const [option, field] of Object.entries(mapping)) {
    if (field !== undefined && !keys.has(field)) {
      throw new DataFormatError(file, undefined, `--${option}-field "${field}": no such field (fields: ${[...keys].join(", ")})`);
    }
  }
  if (keys.has("messages") && !mapping.input) return { shape: "chat", input: "messages", id };

  const choices = mapping.choices ?? firstPresent(keys, CHOICE_NAMES);
  if (choices) {
    const input = mapping.input ?? firstPresent(keys, QUESTION_NAMES);
    const label = mapping.label ?? firstPresent(keys, LABEL_NAMES);
    if (!input) throw new DataFormatError(file, undefined, `multiple choice "${choices}" but no prompt field (${QUESTION_NAMES.join(", ")}); use --input-field`);
    if (!label) throw missingLabel(file, keys, "the right choice (index, letter or text)");
    return { shape: mapped ? "mapped" : "multiple-choice", input, choices, label, id };
  }

  if (!mapped) {
    if (keys.has("instruction") && keys.has("output")) {
      return { shape: "alpaca", input: "instruction", extraInput: keys.has("input") ? "input" : undefined, output: "output", id };
    }
    if (keys.has("question") && keys.has("answer")) return { shape: "question-answer", input: "question", output: "answer", id };
  }

  const input = mapping.input ?? firstPresent(keys, QUESTION_NAMES);
  if (!input) {
    throw new DataFormatError(file, undefined, `unknown fields ${[...keys].map((k) => `"${k}"`).join(", ")}: expected ${SHAPES_HELP}`);
  }
  if (mapping.output) return { shape: "mapped", input, output: mapping.output, id };
  if (mapping.label) return { shape: "mapped", input, label: mapping.label, id };
  const label = firstPresent(keys, LABEL_NAMES, input);
  if (label) return { shape: mapped ? "mapped" : "text-label", input, label, id };
  const output = firstPresent(keys, ANSWER_NAMES, input);
  if (output) return { shape: mapped ? "mapped" : "question-answer", input, output, id };
  throw missingLabel(file, keys, "a label or answer");
}

function missingLabel(file: string, keys: Set<string>, what: string): DataFormatError {
  return new DataFormatError(
    file,
    undefined,
    `label column missing: no field holds ${what} (fields: ${[...keys].join(", ")}; expected one of ${LABEL_NAMES.join(", ")}); use --label-field`,
  );
}
