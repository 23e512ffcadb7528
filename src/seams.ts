/**
 * The seam types: the small interfaces between folders (DESIGN.md §2). Everything above imports these;
 * this file imports nothing of the project. A second teacher (an HTTP endpoint) or a second evaluator
 * plugs in by implementing one of these, without touching the loop.
 */

/** Where an augmented example came from. Seed examples have none. */
export interface Provenance {
  /** Id of the seed example whose wrong answer prompted this one. */
  sourceId: string;
  /** LLM2LLM iteration that wrote it. */
  iteration: number;
  /** sha256 of the teacher model file (or the endpoint URL + model name for an HTTP teacher). */
  teacherId: string;
  /** sha256 of the exact prompt sent to the teacher. */
  promptHash: string;
  sampling: SamplingOptions;
}

/** One labelled example, in the task's own terms. */
export interface Example {
  /** Stable id: the same data file gives the same ids. */
  id: string;
  /** The input: a word problem, an utterance, a case prompt. */
  question: string;
  /** The gold output as the student should write it: a rationale ending `#### N`, a label, a choice. */
  answer: string;
  /** Multiple choice only: the candidate answers, in order. */
  choices?: string[];
  provenance?: Provenance;
}

export type TaskKind = "math" | "classification" | "multiple-choice";

/** How one task formats prompts, extracts and scores answers, and what a valid example is. */
export interface Task {
  readonly name: string;
  readonly kind: TaskKind;
  /** Closed label set (classification) or undefined. */
  readonly labels?: readonly string[];
  /** The text the student is given (its completion follows directly). */
  formatPrompt(example: Example): string;
  /** The text the student should produce after the prompt (without EOS). */
  formatCompletion(example: Example): string;
  /** The final answer inside a completion, normalised, or undefined when there is none. */
  extractAnswer(completion: string): string | undefined;
  /** Whether a completion answers the example correctly. */
  isCorrect(completion: string, example: Example): boolean;
  /** Why an example is invalid for this task, or undefined when it is fine. */
  invalidReason(example: Example): string | undefined;
}

export interface SamplingOptions {
  /** 0 (or absent) means greedy. */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  maxTokens: number;
}

/** A chat request for the teacher. */
export interface TeacherRequest {
  id: string;
  system?: string;
  messages: { role: "user" | "assistant"; content: string }[];
  /** When set, the completion is constrained to JSON matching this schema. */
  jsonSchema?: object;
  sampling: SamplingOptions;
}

export interface TeacherCompletion {
  id: string;
  text: string;
  /** Set when the request failed after retries; the text is then empty and the failure counted. */
  error?: string;
  tokens: number;
  /** Generation stopped at `maxTokens` (the text is cut off; the parser discards its last block). */
  truncated?: boolean;
}

/** A teacher LLM: local llama.cpp or an OpenAI-compatible endpoint. */
export interface Teacher {
  /** Identifies the model for provenance (file sha256, or URL + model name). */
  readonly id: string;
  /** The prompt layout this teacher was trained for ("compact" for small teachers), when it says so. */
  readonly promptStyle?: "paper" | "compact";
  complete(requests: TeacherRequest[], onDone?: (done: TeacherCompletion) => void): Promise<TeacherCompletion[]>;
  dispose(): Promise<void>;
}

/** Generates student completions for prompts: llama.cpp with an adapter, or the tfjs student. */
export interface StudentGenerator {
  readonly engine: string;
  /** `sampling`: one for every prompt, or one per prompt (the paper's evaluation seeds each example). */
  generate(prompts: string[], sampling: SamplingOptions | readonly SamplingOptions[], onDone?: (index: number) => void): Promise<string[]>;
  dispose(): Promise<void>;
}
