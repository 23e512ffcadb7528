/**
 * What happens to teacher output (DESIGN §6): parse → validate → verify → dedup, each drop counted by
 * reason, each kept example stamped with its provenance. Garbage from the teacher is never an error: it is
 * counted and the run goes on.
 *
 * Reasons are `stage:what` — teacher:error, parse:invalid-json, parse:wrong-shape, parse:no-examples,
 * parse:no-answer, parse:truncated, validate:missing-field, validate:label-not-in-set,
 * validate:malformed-answer, validate:bad-choices, validate:too-short, validate:too-long,
 * validate:copy-of-seed, validate:outside-student-vocabulary, verify:wrong-arithmetic, verify:wrong-final-answer,
 * dedup:rouge-l, limit:beyond-k.
 * Completion-level reasons (teacher:error, parse:invalid-json, parse:wrong-shape, parse:no-examples) count
 * completions; every other reason counts candidate examples.
 */
import { createHash } from "node:crypto";
import type { Example, Provenance, Task } from "../seams.js";
import { labelKey } from "../tasks/classificationTask.js";
import { finalAnswerLine } from "../tasks/mathTask.js";
import { choiceLetter } from "../tasks/multipleChoiceTask.js";
import { normaliseFinalAnswer } from "../tasks/numericAnswer.js";
import { parseFreeText, type Candidate } from "./parseFreeText.js";
import { rougeTokens, RougeLIndex } from "./rougeL.js";
import { DEFAULT_LENGTH_BOUNDS, parseStructured, type LengthBounds } from "./structuredOutput.js";
import { verifyMathAnswer } from "./verifyMath.js";

/** One teacher completion and where it came from. */
export interface TeacherOutput {
  /** The wrong seed example the prompt was built from. */
  seed: Example;
  /** Raw completion text. */
  text: string;
  /** `json` when the completion was constrained by `augmentationJsonSchema`. */
  format: "free-text" | "json";
  /** Everything of the provenance but the source id, which is `seed.id`. */
  provenance: Omit<Provenance, "sourceId">;
  /** Generation stopped at max tokens: the last free-text block is cut off and discarded. */
  truncated?: boolean;
  /** The teacher failed on this prompt (after retries). */
  error?: string;
}

export interface AugmentFilterOptions {
  task: Task & { answerWord?: string };
  /** Every question so far (D ∪ A): seed set, earlier augmentations. */
  existingQuestions: Iterable<string>;
  /** Drop when ROUGE-L F ≥ this against any question so far (official: 0.95). */
  dedupThreshold?: number;
  bounds?: LengthBounds;
  /** Keep at most this many per seed example (the paper's k); unlimited when absent. */
  maxPerSeed?: number;
  /** Run the math verifier (default true). */
  verify?: boolean;
  /**
   * Why the student's tokenizer cannot take `text` (a character outside a vocabulary without byte fallback),
   * or undefined when it can; an example whose prompt or completion it cannot take is dropped and counted.
   */
  untokenizable?: (text: string) => string | undefined;
}

export interface DropNote {
  reason: string;
  seedId: string;
  detail: string;
}

export interface AugmentFilterResult {
  kept: Example[];
  /** reason → count, only reasons that occurred. */
  dropped: Record<string, number>;
  /** Candidates the parser found (before validate). */
  candidates: number;
  /** The first few drops with details, for a person reading the log. */
  notes: DropNote[];
}

const MAX_NOTES = 50;

export function augmentFilter(outputs: readonly TeacherOutput[], options: AugmentFilterOptions): AugmentFilterResult {
  const task = options.task;
  const threshold = options.dedupThreshold ?? 0.95;
  const bounds = options.bounds ?? DEFAULT_LENGTH_BOUNDS[task.kind];
  const index = new RougeLIndex(options.existingQuestions);
  const result: AugmentFilterResult = { kept: [], dropped: {}, candidates: 0, notes: [] };
  const keptPerSeed = new Map<string, number>();
  const drop = (reason: string, seedId: string, detail: string, count = 1) => {
    if (count <= 0) return;
    result.dropped[reason] = (result.dropped[reason] ?? 0) + count;
    if (result.notes.length < MAX_NOTES) result.notes.push({ reason, seedId, detail });
  };

  for (const output of outputs) {
    const seedId = output.seed.id;
    if (output.error !== undefined) {
      drop("teacher:error", seedId, output.error);
      continue;
    }
    const candidates = parseOutput(output, task, drop);
    result.candidates += candidates.length;
    for (const candidate of candidates) {
      const example = validate(candidate, output.seed, task, bounds);
      if (typeof example === "string") {
        const [key, ...rest] = example.split(": ");
        drop(`validate:${key}`, seedId, `${rest.join(": ")} — ${preview(candidate.question)}`);
        continue;
      }
      const untokenizable = options.untokenizable && studentTextProblem(example, task, options.untokenizable);
      if (untokenizable) {
        drop("validate:outside-student-vocabulary", seedId, `${untokenizable} — ${preview(candidate.question)}`);
        continue;
      }
      if (task.kind === "math" && options.verify !== false) {
        const verdict = verifyMathAnswer(example.answer);
        if (verdict.failure) {
          drop(`verify:${verdict.failure.reason}`, seedId, verdict.failure.detail);
          continue;
        }
      }
      const nearCopy = index.findNearCopy(example.question, threshold);
      if (nearCopy) {
        drop("dedup:rouge-l", seedId, `F=${nearCopy.fmeasure.toFixed(3)} with "${preview(nearCopy.text)}"`);
        continue;
      }
      const keptForSeed = keptPerSeed.get(seedId) ?? 0;
      if (options.maxPerSeed !== undefined && keptForSeed >= options.maxPerSeed) {
        drop("limit:beyond-k", seedId, `already ${keptForSeed} for this seed`);
        continue;
      }
      keptPerSeed.set(seedId, keptForSeed + 1);
      index.add(example.question);
      const provenance: Provenance = { sourceId: seedId, ...output.provenance };
      result.kept.push({ ...example, id: augmentedId(seedId, provenance.iteration, example), provenance });
    }
  }
  return result;
}

function parseOutput(output: TeacherOutput, task: AugmentFilterOptions["task"], drop: (reason: string, seedId: string, detail: string, count?: number) => void): Candidate[] {
  const seedId = output.seed.id;
  if (output.format === "json") {
    const parsed = parseStructured(output.text);
    if (!parsed.ok) {
      drop(`parse:${parsed.reason}`, seedId, `${parsed.detail}${output.truncated ? " (stopped at max tokens)" : ""}`);
      return [];
    }
    if (parsed.candidates.length === 0) drop("parse:no-examples", seedId, "empty examples array");
    return parsed.candidates;
  }
  const parsed = parseFreeText(output.text, { kind: task.kind, answerWord: task.answerWord, truncated: output.truncated });
  if (parsed.truncatedDropped) drop("parse:truncated", seedId, "last block cut off at max tokens");
  drop("parse:no-answer", seedId, "a question without an answer", parsed.withoutAnswer);
  if (parsed.candidates.length === 0 && parsed.withoutAnswer === 0 && !parsed.truncatedDropped) {
    drop("parse:no-examples", seedId, preview(output.text));
  }
  return parsed.candidates;
}

/** The candidate as a well-formed Example (answers normalised), or the task-style reason it is not. */
function validate(candidate: Candidate, seed: Example, task: Task, bounds: LengthBounds): Omit<Example, "id"> | string {
  const question = candidate.question.trim();
  let answer = candidate.answer.trim();
  if (!question) return "missing-field: no question";
  if (!answer) return "missing-field: no answer";
  if (task.kind === "classification") {
    const label = task.labels?.find((l) => labelKey(l) === labelKey(answer));
    if (label === undefined) return `label-not-in-set: "${answer}" is not one of ${task.labels?.join(", ")}`;
    answer = label;
  } else if (task.kind === "multiple-choice") {
    const letter = choiceLetter(answer, candidate.choices ?? []);
    if (letter === undefined) return `malformed-answer: "${answer}" names none of ${candidate.choices?.length ?? 0} choices`;
    answer = letter;
  } else {
    const final = finalAnswerLine(answer);
    const number = final && normaliseFinalAnswer(final.value);
    if (!final || number === undefined) return "malformed-answer: no final `#### <number>` line";
    answer = `${final.rationale.trim()}\n#### ${number}`;
  }
  if (question.length < bounds.minQuestionChars) return `too-short: question of ${question.length} characters (min ${bounds.minQuestionChars})`;
  if (question.length > bounds.maxQuestionChars) return `too-long: question of ${question.length} characters (max ${bounds.maxQuestionChars})`;
  if (task.kind === "math" && answer.length > bounds.maxAnswerChars) return `too-long: answer of ${answer.length} characters (max ${bounds.maxAnswerChars})`;
  const example: Omit<Example, "id"> = { question, answer, ...(candidate.choices ? { choices: candidate.choices.map((c) => c.trim()) } : {}) };
  const reason = task.invalidReason({ id: "", ...example });
  if (reason) return reason.includes(": ") ? reason : `invalid: ${reason}`;
  if (rougeTokens(question).join(" ") === rougeTokens(seed.question).join(" ")) return "copy-of-seed: the question is the seed's";
  return example;
}

/** Stable: the same teacher output gives the same id. */
function augmentedId(seedId: string, iteration: number, example: Omit<Example, "id">): string {
  const hash = createHash("sha256").update(`${example.question}\u0000${example.answer}`).digest("hex").slice(0, 10);
  return `${seedId}~it${iteration}-${hash}`;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

/** The first text of the example as the student would see it (formatted prompt and completion) that its tokenizer cannot take. */
function studentTextProblem(example: Omit<Example, "id">, task: Task, untokenizable: (text: string) => string | undefined): string | undefined {
  const full = example as Example;
  for (const text of [task.formatPrompt(full), task.formatCompletion(full)]) {
    const problem = untokenizable(text);
    if (problem) return problem;
  }
  return undefined;
}
