/**
 * Targeted augmentation, one LLM2LLM step: for each wrong seed example a teacher request ("generate k
 * similar …"), the teacher runs them as a batch, and the filters of src/augment (parse → validate → verify
 * → dedup) keep what is good, each kept example with its provenance.
 *
 * Completions arrive in any order (N sequences, M connections), but are filtered in request order, so dedup
 * — which keeps the first of two near-copies — gives the same data however the batch was scheduled. Seed
 * examples that got fewer than k survive into another round (`rounds`), as the official code asks again.
 */
import { augmentFilter, type DropNote, type LengthBounds, type TeacherOutput } from "../augment/index.js";
import type { Example, SamplingOptions, Task, Teacher, TeacherCompletion } from "../seams.js";
import { augmentationRequest, requestProvenance, type AugmentationRequest, type TeacherPromptStyle } from "./prompts/augmentationRequest.js";

export interface AugmentSource {
  /** A seed example the student got wrong. */
  example: Example;
  /** What the student answered (shown to the teacher with `includeStudentAnswer`). */
  studentAnswer?: string;
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
  /** Requests per seed example at most (another round only for seeds still short of k). Default 1. */
  rounds?: number;
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
}

export async function augmentWithTeacher(teacher: Teacher, sources: readonly AugmentSource[], options: AugmentOptions): Promise<AugmentOutcome> {
  const started = performance.now();
  const k = Math.max(1, Math.floor(options.k));
  const unique = [...new Map(sources.map((s) => [s.example.id, s])).values()];
  const questionsSoFar = [...(options.existing ?? []).map((e) => e.question), ...unique.map((s) => s.example.question)];
  const keptBySeed = new Map<string, number>();
  const outcome: AugmentOutcome = { kept: [], dropped: {}, prompts: 0, teacherTokens: 0, candidates: 0, seconds: 0, notes: [] };
  const progress = (promptsDone: number, promptsTotal: number): void =>
    options.onProgress?.({
      promptsDone,
      promptsTotal,
      kept: outcome.kept.length,
      dropped: Object.values(outcome.dropped).reduce((a, b) => a + b, 0),
      teacherTokens: outcome.teacherTokens,
      seconds: (performance.now() - started) / 1000,
    });

  const rounds = Math.max(1, Math.floor(options.rounds ?? 1));
  for (let round = 0; round < rounds; round++) {
    const pending = unique.filter((s) => (keptBySeed.get(s.example.id) ?? 0) < k);
    if (pending.length === 0) break;
    const promptStyle = options.promptStyle ?? teacher.promptStyle;
    const built = pending.flatMap((source) => {
      const missing = k - (keptBySeed.get(source.example.id) ?? 0);
      // A compact-style teacher is a small model trained to write one example per request: ask it `missing`
      // times (each request its own id, so its own sampling seed) instead of once for `missing` examples.
      const asks = promptStyle === "compact" ? Array.from({ length: missing }, (_, j) => ({ count: 1, round: round * k + j })) : [{ count: missing, round }];
      return asks.map((ask) =>
        augmentationRequest(options.task, source.example, {
          k: ask.count,
          structured: options.structured,
          sampling: options.sampling,
          iteration: options.iteration,
          round: ask.round,
          studentAnswer: options.includeStudentAnswer ? source.studentAnswer : undefined,
          bounds: options.bounds,
          promptStyle,
        }),
      );
    });
    const promptsBefore = outcome.prompts;
    const inOrder = new InOrderFilter(built, (chunk) => filterChunk(chunk, teacher.id, options, questionsSoFar, keptBySeed, k, outcome));
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
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
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
  keptBySeed: Map<string, number>,
  k: number,
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
    maxPerSeed: k,
    bounds: options.bounds,
    dedupThreshold: options.dedupThreshold,
    ...(options.untokenizable ? { untokenizable: options.untokenizable } : {}),
  });
  for (const [reason, count] of Object.entries(result.dropped)) outcome.dropped[reason] = (outcome.dropped[reason] ?? 0) + count;
  outcome.candidates += result.candidates;
  outcome.notes.push(...result.notes.slice(0, Math.max(0, 50 - outcome.notes.length)));
  for (const example of result.kept) {
    const seedId = example.provenance!.sourceId;
    const already = keptBySeed.get(seedId) ?? 0;
    // A later round asks only for what is missing; a teacher that writes more than asked is cut at k.
    if (already >= k) {
      outcome.dropped["limit:beyond-k"] = (outcome.dropped["limit:beyond-k"] ?? 0) + 1;
      continue;
    }
    keptBySeed.set(seedId, already + 1);
    questionsSoFar.push(example.question);
    outcome.kept.push(example);
  }
}
