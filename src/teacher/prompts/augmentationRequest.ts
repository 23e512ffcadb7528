/**
 * One teacher request per wrong seed example, in the paper's layout: system prompt, one worked example
 * (user + assistant turns), then the seed example with its answer key and "generate k similar …".
 * Structured mode asks for JSON and attaches the task kind's schema (src/augment), so a local teacher's
 * grammar — or an endpoint's `response_format` — makes every completion parse.
 *
 * A retry for a seed example that is still short of k continues the conversation as the official code's
 * `encode_prompt(current_keep=…)` does: the request turn asks for as many as were kept, an assistant turn holds
 * the examples kept so far (in the request's own format), and a last user turn asks for more, different ones.
 */
import { augmentationJsonSchema, type LengthBounds } from "../../augment/index.js";
import type { Example, Provenance, SamplingOptions, Task, TaskKind, TeacherRequest } from "../../seams.js";
import { sha256OfText } from "../fileHash.js";
import { requestSeed } from "../requestSeed.js";
import { classificationPrompts } from "./classificationPrompts.js";
import { mathPrompts } from "./mathPrompts.js";
import { multipleChoicePrompts } from "./multipleChoicePrompts.js";
import type { KindPrompts } from "./types.js";

const PROMPTS: Readonly<Record<TaskKind, KindPrompts>> = {
  math: mathPrompts,
  classification: classificationPrompts,
  "multiple-choice": multipleChoicePrompts,
};

export interface AugmentationRequestOptions {
  /** New examples to ask for (the paper's k). */
  k: number;
  /** JSON output constrained by the task kind's schema, or the paper's free text. */
  structured: boolean;
  /** Sampling for every request; its `seed` is the run seed, from which each request's own seed is derived. */
  sampling: SamplingOptions;
  iteration: number;
  /** Index of this request among the requests for the same seed example (retries, split asks): its own
   *  request id, hence its own sampling seed. Default 0. */
  requestIndex?: number;
  /** Examples the teacher wrote for this seed example earlier and the filters kept: shown as its earlier
   *  answer, and `k` more, different ones are asked for. */
  earlier?: readonly Example[];
  /** The student's wrong answer, shown to the teacher when given. */
  studentAnswer?: string;
  /** Length bounds the schema enforces (the same the validate filter applies). */
  bounds?: LengthBounds;
  /** "paper" (default) or "compact": see `TeacherPromptStyle`. */
  promptStyle?: TeacherPromptStyle;
}

/**
 * "paper": system prompt, one worked example, the request (the official code's layout, written for
 * instruction-tuned 7B teachers). "compact": the request turn alone, for small teachers trained on it (the
 * embedded toy teacher, whose context is shorter than the paper's prompt); structured output then carries the form.
 */
export type TeacherPromptStyle = "paper" | "compact";

export interface AugmentationRequest {
  request: TeacherRequest;
  /** sha256 of the exact prompt: system prompt and every message, as sent. */
  promptHash: string;
  seed: Example;
  format: "free-text" | "json";
}

export function augmentationRequest(task: Task, seed: Example, options: AugmentationRequestOptions): AugmentationRequest {
  const prompts = PROMPTS[task.kind];
  const earlier = options.earlier ?? [];
  const askedFirst = earlier.length > 0 ? earlier.length : options.k;
  const ask: TeacherRequest["messages"][number] = { role: "user", content: prompts.request(task, seed, askedFirst, options.studentAnswer) };
  let system: string | undefined;
  let messages: TeacherRequest["messages"] = [ask];
  if ((options.promptStyle ?? "paper") === "paper") {
    const worked = prompts.workedExample(task, seed);
    system = prompts.system(task, options.structured);
    messages = [
      { role: "user", content: worked.user },
      { role: "assistant", content: options.structured ? JSON.stringify({ examples: worked.examples }) : worked.freeText },
      ask,
    ];
  }
  if (earlier.length > 0) {
    const answered = options.structured ? JSON.stringify({ examples: earlier.map(jsonExample) }) : prompts.freeTextList(earlier);
    messages = [...messages, { role: "assistant", content: answered }, { role: "user", content: prompts.askForMore(task, seed, options.k) }];
  }
  const id = `it${options.iteration}:${seed.id}:${options.requestIndex ?? 0}`;
  const sampling: SamplingOptions = { ...options.sampling };
  if (options.sampling.seed !== undefined) sampling.seed = requestSeed(options.sampling.seed, id);
  const request: TeacherRequest = { id, ...(system === undefined ? {} : { system }), messages, sampling };
  if (options.structured) {
    request.jsonSchema = augmentationJsonSchema(task.kind, {
      count: options.k,
      labels: task.labels,
      choiceCount: (task as { choiceCount?: number }).choiceCount ?? seed.choices?.length,
      bounds: options.bounds,
    });
  }
  return { request, promptHash: promptHash(request), seed, format: options.structured ? "json" : "free-text" };
}

/** An example as the structured output's `examples` items are written. */
function jsonExample(example: Example): Record<string, unknown> {
  return example.choices ? { question: example.question, choices: example.choices, answer: example.answer } : { question: example.question, answer: example.answer };
}

/** Hash of the prompt as the teacher receives it, before any chat template. */
export function promptHash(request: Pick<TeacherRequest, "system" | "messages">): string {
  return sha256OfText(JSON.stringify({ system: request.system ?? null, messages: request.messages }));
}

/** The provenance fields a request fixes (all but the source id, which the filter adds). */
export function requestProvenance(built: AugmentationRequest, teacherId: string, iteration: number): Omit<Provenance, "sourceId"> {
  return { iteration, teacherId, promptHash: built.promptHash, sampling: built.request.sampling };
}
