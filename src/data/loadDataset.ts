/**
 * A dataset file → Examples, with the task kind, label set and counts. The kind is given (by `--task`) or
 * detected: choices → multiple choice; answers ending `#### <number>` → math; a small closed set of short
 * answers → classification. Every record must fit; the first that does not is an error naming its line.
 */
import path from "node:path";
import { DataFormatError } from "../errors.js";
import type { Example, Provenance, TaskKind } from "../seams.js";
import { detectFields, type DetectedFields, type FieldMapping, type Shape } from "./fieldMapping.js";
import { readRecords, type FileFormat, type SourceRecord } from "./readRecords.js";

export interface LoadOptions {
  fields?: FieldMapping;
  /** The task kind when known (`--task`); detected otherwise. */
  kind?: TaskKind;
  /** Closed label set to check classification labels against. */
  labels?: readonly string[];
  /** Raw label → label word (`0` → `negative`). */
  labelWords?: Readonly<Record<string, string>>;
}

export interface Dataset {
  file: string;
  format: FileFormat;
  shape: Shape;
  fields: DetectedFields;
  kind: TaskKind;
  examples: Example[];
  /** Classification: labels sorted, with counts. */
  labels?: string[];
  labelCounts?: Record<string, number>;
  /** Multiple choice: the number of choices when every example has the same. */
  choiceCount?: number;
}

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HASH_ANSWER = /#{4}\s*\S/;
/** Classification is guessed only for short one-line answers, few of them distinct. */
const MAX_LABEL_CHARS = 40;
const MAX_DETECTED_LABELS = 100;

interface RawExample {
  record: SourceRecord;
  question: string;
  answer: string;
  choices?: string[];
}

export async function loadDataset(file: string, options: LoadOptions = {}): Promise<Dataset> {
  const { format, records } = await readRecords(file);
  const fields = detectFields(file, records.slice(0, 50).map((r) => r.fields), options.fields);
  const raw = records.map((record) => readFields(file, record, fields));
  const kind = options.kind ?? detectKind(file, fields, raw);
  const idOf = exampleIds(file, records, fields.id);
  const examples = raw.map((r, i): Example => {
    const example: Example = { id: idOf[i]!, question: r.question, answer: r.answer };
    if (r.choices) example.choices = r.choices;
    const provenance = r.record.fields.provenance;
    if (provenance && typeof provenance === "object") example.provenance = provenance as Provenance;
    return example;
  });
  const dataset: Dataset = { file, format, shape: fields.shape, fields, kind, examples };
  if (kind === "classification") classifyLabels(file, dataset, raw, options);
  if (kind === "multiple-choice") normaliseChoices(file, dataset, raw);
  if (kind === "math") checkMathAnswers(file, raw);
  return dataset;
}

/** A short description of a field value for a message: never the whole of a huge or deeply nested value. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return String(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function readFields(file: string, record: SourceRecord, fields: DetectedFields): RawExample {
  const f = record.fields;
  const need = (name: string): string => {
    const value = text(f[name]);
    if (value === undefined || !value.trim()) {
      throw new DataFormatError(file, record.line, `missing field "${name}"${f[name] === undefined ? "" : ` (empty or not text: ${describeValue(f[name])})`}`);
    }
    return value;
  };
  if (fields.shape === "chat") return readChat(file, record);
  let question = need(fields.input);
  const extra = fields.extraInput ? text(f[fields.extraInput]) : undefined;
  if (extra?.trim()) question = `${question}\n\n${extra}`;
  if (fields.choices) {
    const choices = f[fields.choices];
    if (!Array.isArray(choices) || choices.some((c) => text(c) === undefined)) {
      throw new DataFormatError(file, record.line, `field "${fields.choices}": expected an array of strings`);
    }
    return { record, question, answer: need(fields.label!), choices: choices.map((c) => text(c)!) };
  }
  return { record, question, answer: need((fields.output ?? fields.label)!) };
}

/** Chat records: the last user message is the question, the assistant reply after it the answer. */
function readChat(file: string, record: SourceRecord): RawExample {
  const messages = record.fields.messages;
  if (!Array.isArray(messages)) throw new DataFormatError(file, record.line, 'field "messages": expected an array of {role, content}');
  const turns = messages.map((m) => (typeof m === "object" && m !== null ? (m as { role?: unknown; content?: unknown }) : {}));
  const lastAssistant = turns.map((t) => t.role).lastIndexOf("assistant");
  const lastUser = turns.slice(0, Math.max(lastAssistant, 0)).map((t) => t.role).lastIndexOf("user");
  if (lastAssistant < 0 || lastUser < 0) {
    throw new DataFormatError(file, record.line, 'field "messages": expected a "user" message followed by an "assistant" message');
  }
  const question = text(turns[lastUser]!.content);
  const answer = text(turns[lastAssistant]!.content);
  if (!question?.trim() || !answer?.trim()) throw new DataFormatError(file, record.line, 'field "messages": empty "content"');
  return { record, question, answer };
}

function detectKind(file: string, fields: DetectedFields, raw: RawExample[]): TaskKind {
  if (fields.choices) return "multiple-choice";
  if (fields.label) return "classification";
  const withHash = raw.filter((r) => HASH_ANSWER.test(r.answer)).length;
  if (withHash > raw.length / 2) return "math";
  const distinct = new Set(raw.map((r) => r.answer.trim()));
  const labelLike = raw.every((r) => r.answer.trim().length <= MAX_LABEL_CHARS && !r.answer.includes("\n"));
  if (labelLike && distinct.size >= 2 && distinct.size <= MAX_DETECTED_LABELS && distinct.size <= raw.length / 2) return "classification";
  throw new DataFormatError(
    file,
    undefined,
    `cannot tell the task kind: answers in "${fields.output ?? fields.label}" neither end "#### <number>" (math) nor form a small label set (classification); pass --task`,
  );
}

function exampleIds(file: string, records: SourceRecord[], idField: string | undefined): string[] {
  const stem = path.basename(file).replace(/\.[^.]*$/, "");
  const ids = records.map((r) => (idField !== undefined ? text(r.fields[idField]) : undefined) ?? `${stem}-${r.ordinal}`);
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const first = seen.get(id);
    if (first !== undefined) throw new DataFormatError(file, records[i]!.line, `duplicate id "${id}" (first on line ${first})`);
    seen.set(id, records[i]!.line);
  });
  return ids;
}

function classifyLabels(file: string, dataset: Dataset, raw: RawExample[], options: LoadOptions): void {
  const allowed = options.labels ? new Map(options.labels.map((l) => [l.toLowerCase(), l])) : undefined;
  const counts: Record<string, number> = {};
  raw.forEach((r, i) => {
    const word = options.labelWords?.[r.answer.trim()] ?? r.answer.trim();
    const label = allowed ? allowed.get(word.toLowerCase()) : word;
    if (label === undefined) {
      throw new DataFormatError(file, r.record.line, `label "${r.answer}" is not in the label set (${options.labels!.join(", ")})`);
    }
    dataset.examples[i]!.answer = label;
    counts[label] = (counts[label] ?? 0) + 1;
  });
  dataset.labels = options.labels ? [...options.labels] : Object.keys(counts).sort();
  dataset.labelCounts = Object.fromEntries(dataset.labels.map((l) => [l, counts[l] ?? 0]));
}

function normaliseChoices(file: string, dataset: Dataset, raw: RawExample[]): void {
  const counts = new Set<number>();
  raw.forEach((r, i) => {
    const choices = r.choices ?? [];
    if (choices.length < 2) throw new DataFormatError(file, r.record.line, `expected at least 2 choices, got ${choices.length}`);
    const answer = r.answer.trim();
    // A number is a 0-based index (CaseHOLD's `label`); a letter or the choice's text also work.
    let index = /^\d+$/.test(answer) ? Number(answer) : /^\(?[A-Za-z]\)?$/.test(answer) ? LETTERS.indexOf(answer.replace(/[()]/g, "").toUpperCase()) : -1;
    if (index < 0) index = choices.findIndex((c) => c.trim() === answer);
    if (index < 0 || index >= choices.length) {
      throw new DataFormatError(file, r.record.line, `answer "${r.answer}" names none of the ${choices.length} choices (expected a 0-based index, a letter or a choice's text)`);
    }
    dataset.examples[i]!.answer = LETTERS[index]!;
    counts.add(choices.length);
  });
  if (counts.size === 1) dataset.choiceCount = [...counts][0];
}

function checkMathAnswers(file: string, raw: RawExample[]): void {
  const bad = raw.find((r) => !HASH_ANSWER.test(r.answer));
  if (bad) throw new DataFormatError(file, bad.record.line, 'math answer has no final "#### <number>" line');
}
