/**
 * Targeted augmentation, one LLM2LLM step: for each wrong seed example a teacher request ("generate k
 * similar …"), the teacher runs them as a batch, and the filters of src/augment (parse → validate → verify
 * → dedup) keep what is good, each kept example with its provenance.
 *
 * k is filled as the official code fills it: a seed example with fewer than k kept gets another round (at most
 * `rounds`), which shows the teacher the examples kept so far as its earlier answer and asks for the missing
 * ones, different; when nothing was kept yet it is asked afresh (a new request id, so a new sampling seed).
 * Large asks (one-shot, large k) are split into requests of at most `maxExamplesPerRequest` examples, so no
 * completion has to hold more than its token budget allows.
 *
 * Completions arrive in any order (N sequences, M connections), but are filtered in request order, so dedup
 * — which keeps the first of two near-copies — gives the same data however the batch was scheduled.
 */
import { augmentFilter, type DropNote, type LengthBounds, type TeacherOutput } from "../augment/index.js";
import type { Example, SamplingOptions, Task, Teacher, TeacherCompletion } from "../seams.js";
import { augmentationRequest, requestProvenance, type AugmentationRequest, type TeacherPromptStyle } from "./prompts/augmentationRequest.js";
import { spreadEvenly } from "../util/spreadEvenly.js";

/** Requests per seed example at most, unless told otherwise (the official code asks until k are kept). */
export const DEFAULT_AUGMENT_ROUNDS = 3;
/** Examples one request asks for at most, unless told otherwise (the official code asks for at most 10, with
 *  2149 completion tokens); the run plans it from the examples' token lengths and the teacher's budget. */
export const DEFAULT_MAX_EXAMPLES_PER_REQUEST = 4;

export interface AugmentSource {
  /** A seed example the student got wrong. */
  example: Example;
  /** What the student answered (shown to the teacher with `includeStudentAnswer`). */
  studentAnswer?: string;
  /** New examples wanted for this source; default the options' k (the one-shot ablation spreads a total). */
  count?: number;
}

export interface AugmentOptions {
  task: Task & { answerWord?: string };
  /** New examples per wrong seed example (the paper's k). */
  k: number;
  iteration: number;
  structured: boolean;
  /** Its `seed` is the run seed; every request derives its own from it. */
  sampling: SamplingOptions;
  /** Data so far (D), whose questions new ones must not near-copy; the sources' own questions always count. */
  existing?: readonly Example[];
  includeStudentAnswer?: boolean;
  /** Rounds at most: another round only for sources still short of k. Default DEFAULT_AUGMENT_ROUNDS. */
  rounds?: number;
  /** Examples asked for in one request at most; a larger ask is split. Default DEFAULT_MAX_EXAMPLES_PER_REQUEST. */
  maxExamplesPerRequest?: number;
  bounds?: LengthBounds;
  dedupThreshold?: number;
  onProgress?: (progress: AugmentProgress) => void;
  /** Overrides the teacher's own preference (a GGUF may name the prompt style it was trained on). */
  promptStyle?: TeacherPromptStyle;
  /** Why the student's tokenizer cannot take a text (see AugmentFilterOptions.untokenizable): such examples are dropped, counted. */
  untokenizable?: (text: string) => string | undefined;
}

export interface AugmentProgress {
  promptsDone: number;
  promptsTotal: number;
  kept: number;
  dropped: number;
  teacherTokens: number;
  seconds: number;
}

export interface AugmentOutcome {
  kept: Example[];
  /** reason → count (`teacher:error`, `parse:…`, `validate:…`, `verify:…`, `dedup:rouge-l`, `limit:beyond-k`). */
  dropped: Record<string, number>;
  prompts: number;
  teacherTokens: number;
  /** Candidates the parser found, before validate. */
  candidates: number;
  seconds: number;
  /** The first drops with details, for a person reading the log. */
  notes: DropNote[];
  /** New examples asked for in all (Σ per source of k, or of its own count). */
  wanted: number;
  /** Rounds that ran (1 when every source was filled at once). */
  roundsUsed: number;
  /** Requests sent in each round. */
  requestsPerRound: number[];
  /** Sources still short of k after the last round, and how many examples they miss together. */
  shortSources: number;
  missingExamples: number;
}

interface SourceState {
  source: AugmentSource;
  wanted: number;
  kept: Example[];
  /** Requests sent for this source so far (the next request's index). */
  requests: number;
}

export async function augmentWithTeacher(teacher: Teacher, sources: readonly AugmentSource[], options: AugmentOptions): Promise<AugmentOutcome> {
  const started = performance.now();
  const k = Math.max(1, Math.floor(options.k));
  const unique = [...new Map(sources.map((s) => [s.example.id, s])).values()];
  const states = new Map<string, SourceState>(unique.map((source) => [source.example.id, { source, wanted: Math.max(0, Math.floor(source.count ?? k)), kept: [], requests: 0 }]));
  const questionsSoFar = [...(options.existing ?? []).map((e) => e.question), ...unique.map((s) => s.example.question)];
  const outcome: AugmentOutcome = {
    kept: [], dropped: {}, prompts: 0, teacherTokens: 0, candidates: 0, seconds: 0, notes: [],
    wanted: [...states.values()].reduce((sum, s) => sum + s.wanted, 0), roundsUsed: 0, requestsPerRound: [], shortSources: 0, missingExamples: 0,
  };
  const progress = (promptsDone: number, promptsTotal: number): void =>
    options.onProgress?.({
      promptsDone,
      promptsTotal,
      kept: outcome.kept.length,
      dropped: Object.values(outcome.dropped).reduce((a, b) => a + b, 0),
      teacherTokens: outcome.teacherTokens,
      seconds: (performance.now() - started) / 1000,
    });

  const rounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_AUGMENT_ROUNDS));
  const promptStyle = options.promptStyle ?? teacher.promptStyle;
  // A compact-style teacher is a small model trained to write one example per request, from the request turn
  // alone: it gets one request per missing example, and a retry is a fresh request (no conversation).
  const perRequest = promptStyle === "compact" ? 1 : Math.max(1, Math.floor(options.maxExamplesPerRequest ?? DEFAULT_MAX_EXAMPLES_PER_REQUEST));
  for (let round = 0; round < rounds; round++) {
    const pending = [...states.values()].filter((s) => s.kept.length < s.wanted);
    if (pending.length === 0) break;
    const built = pending.flatMap((state) =>
      splitAsk(state.wanted - state.kept.length, perRequest).map((count) =>
        augmentationRequest(options.task, state.source.example, {
          k: count,
          structured: options.structured,
          sampling: options.sampling,
          iteration: options.iteration,
          requestIndex: state.requests++,
          studentAnswer: options.includeStudentAnswer ? state.source.studentAnswer : undefined,
          ...(promptStyle !== "compact" && state.kept.length > 0 ? { earlier: [...state.kept] } : {}),
          bounds: options.bounds,
          promptStyle,
        }),
      ),
    );
    outcome.roundsUsed = round + 1;
    outcome.requestsPerRound.push(built.length);
    const promptsBefore = outcome.prompts;
    const inOrder = new InOrderFilter(built, (chunk) => filterChunk(chunk, teacher.id, options, questionsSoFar, states, outcome));
    progress(promptsBefore, promptsBefore + built.length);
    const seen = new Set<string>();
    const arrived = (completion: TeacherCompletion): void => {
      if (seen.has(completion.id)) return;
      seen.add(completion.id);
      outcome.prompts++;
      outcome.teacherTokens += completion.tokens;
      inOrder.arrived(completion);
      progress(outcome.prompts, promptsBefore + built.length);
    };
    const completions = await teacher.complete(
      built.map((b) => b.request),
      arrived,
    );
    // A teacher that reports nothing through onDone still returns everything here.
    completions.forEach(arrived);
    inOrder.flush();
    progress(outcome.prompts, outcome.prompts);
  }
  for (const state of states.values()) {
    const missing = state.wanted - state.kept.length;
    if (missing > 0) {
      outcome.shortSources++;
      outcome.missingExamples += missing;
    }
  }
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/** `count` examples as requests of at most `perRequest` each, as even as possible (10 by 4: 4, 3, 3). */
export function splitAsk(count: number, perRequest: number): number[] {
  if (count <= 0) return [];
  return spreadEvenly(count, Math.ceil(count / perRequest));
}

type Arrived = { built: AugmentationRequest; completion: TeacherCompletion };

/** Holds completions until every earlier one has arrived, then filters them in request order. */
class InOrderFilter {
  private readonly results: (TeacherCompletion | undefined)[];
  private readonly indexOf: Map<string, number>;
  private next = 0;
  private ready: Arrived[] = [];
  /** Filter in chunks: each filter call rebuilds the dedup index, so not one call per completion. */
  private readonly chunkSize: number;

  constructor(
    private readonly built: AugmentationRequest[],
    private readonly filter: (chunk: Arrived[]) => void,
  ) {
    this.results = new Array(built.length);
    this.indexOf = new Map(built.map((b, i) => [b.request.id, i]));
    this.chunkSize = Math.max(1, Math.ceil(built.length / 20));
  }

  arrived(completion: TeacherCompletion): void {
    const index = this.indexOf.get(completion.id);
    if (index === undefined) return;
    this.results[index] = completion;
    while (this.next < this.results.length && this.results[this.next]) {
      this.ready.push({ built: this.built[this.next]!, completion: this.results[this.next]! });
      this.next++;
    }
    if (this.ready.length >= this.chunkSize) this.flush();
  }

  flush(): void {
    if (this.ready.length === 0) return;
    const chunk = this.ready;
    this.ready = [];
    this.filter(chunk);
  }
}

function filterChunk(
  chunk: Arrived[],
  teacherId: string,
  options: AugmentOptions,
  questionsSoFar: string[],
  states: Map<string, SourceState>,
  outcome: AugmentOutcome,
): void {
  const outputs: TeacherOutput[] = chunk.map(({ built, completion }) => ({
    seed: built.seed,
    text: completion.text,
    format: built.format,
    provenance: requestProvenance(built, teacherId, options.iteration),
    truncated: completion.truncated,
    ...(completion.error !== undefined ? { error: completion.error } : {}),
  }));
  const result = augmentFilter(outputs, {
    task: options.task,
    existingQuestions: questionsSoFar,
    bounds: options.bounds,
    dedupThreshold: options.dedupThreshold,
    ...(options.untokenizable ? { untokenizable: options.untokenizable } : {}),
  });
  for (const [reason, count] of Object.entries(result.dropped)) outcome.dropped[reason] = (outcome.dropped[reason] ?? 0) + count;
  outcome.candidates += result.candidates;
  outcome.notes.push(...result.notes.slice(0, Math.max(0, 50 - outcome.notes.length)));
  for (const example of result.kept) {
    const state = states.get(example.provenance!.sourceId)!;
    // Each request asks only for what is missing; a teacher that writes more than asked is cut at k.
    if (state.kept.length >= state.wanted) {
      outcome.dropped["limit:beyond-k"] = (outcome.dropped["limit:beyond-k"] ?? 0) + 1;
      continue;
    }
    state.kept.push(example);
    questionsSoFar.push(example.question);
    outcome.kept.push(example);
  }
}
