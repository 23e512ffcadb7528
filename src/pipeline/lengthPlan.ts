/**
 * Lengths from the data (issue 13): every token budget of a run follows from the seed and test sets as the
 * student's tokenizer (and the teacher's, for its prompts) sees them, unless a flag sets it.
 *
 * - training length: covers every seed example (prompt + completion + EOS), with the same headroom the
 *   teacher's budget gives a new example over its source (batches pad to their own longest, so it costs nothing);
 * - student answer budget: the longest gold completion (seed or test) plus a margin;
 * - teacher budget: as many examples per request as fit, each as long as the longest source written as the
 *   teacher writes it (JSON), with headroom, plus the JSON wrapper;
 * - contexts: prompt + budget, within the model's trained context. A run that cannot fit fails here, before
 *   any work, naming the example and the numbers.
 *
 * Pure: measurements in (src/pipeline/measureLengths.ts), plan out. Whatever a flag makes the run leave out
 * (a training example too long, a gold answer longer than the budget) is listed, never silent.
 */
import { UsageError } from "../errors.js";

/** One example in the student's tokens. Its training length is prompt + completion + 1 (EOS). */
export interface ExampleLength {
  id: string;
  prompt: number;
  completion: number;
}

/** One seed example as a teacher source, in the teacher's tokens. */
export interface SourceLength {
  id: string;
  /** The whole request as the teacher reads it (chat template applied when the teacher is local). */
  prompt: number;
  /** The example written as one item of the teacher's JSON output. */
  item: number;
}

export interface LengthMeasurements {
  /** trainedContext: the longest context the student runs as llama.cpp will (contextLimitReason: why less than trained). */
  student: { seed: ExampleLength[]; test: ExampleLength[]; trainedContext: number; contextLimitReason?: string };
  teacher: {
    sources: SourceLength[];
    /** Undefined for an endpoint teacher (its context is the server's business). */
    trainedContext?: number;
    /** Whose tokenizer measured the teacher side. */
    tokenizer: "teacher" | "student";
    promptStyle: "paper" | "compact";
    /** Tokens of the JSON wrapper `{"examples": []}` around the items. */
    wrapper: number;
  };
}

/** What a user may set; undefined means "from the data". */
export interface LengthOverrides {
  trainMaxTokens?: number;
  evalMaxTokens?: number;
  studentContext?: number;
  teacherMaxTokens?: number;
  teacherContext?: number;
  maxExamplesPerRequest?: number;
}

export interface PlanShape {
  /** Examples asked per source in the first round (k; the one-shot ablation asks k·(n−1) at once). */
  examplesPerSource: number;
  /** --augment-all: augmented examples are evaluated too, so the student context must hold a training example. */
  augmentAll: boolean;
}

export interface Stats {
  examples: number;
  p50: number;
  p95: number;
  max: number;
  /** Id of the longest example. */
  longest: string;
}

export interface LeftOut {
  id: string;
  tokens: number;
  why: string;
}

export interface LengthPlan {
  trainMaxTokens: number;
  /** Seed examples longer than the training length: the trainer leaves them out every iteration. */
  trainDropped: LeftOut[];
  evalMaxTokens: number;
  /** Seed or test examples whose gold completion is longer than the answer budget (scored on a cut answer). */
  evalCut: (LeftOut & { set: "seed" | "test" })[];
  studentContext: number;
  studentTrainedContext: number;
  teacherMaxTokens: number;
  maxExamplesPerRequest: number;
  examplesPerSource: number;
  teacherContext: number;
  teacherTrainedContext?: number;
  teacherTokenizer: "teacher" | "student";
  teacherPromptStyle: "paper" | "compact";
  /** Where each number came from. */
  from: Record<"trainMaxTokens" | "evalMaxTokens" | "studentContext" | "teacherMaxTokens" | "teacherContext", "data" | "flag">;
  stats: {
    seed: { prompt: Stats; completion: Stats; train: Stats };
    test: { prompt: Stats; completion: Stats };
    teacher: { prompt: Stats; item: Stats };
  };
}

/** Answer budget margin over the longest gold completion: 10%, at least 8 tokens. */
export function answerBudget(longestGold: number): number {
  return longestGold + Math.max(8, Math.ceil(0.1 * longestGold));
}

/** A new example may be longer than its source: the teacher's budget gives each 25% more, at least 32 tokens. */
export const ITEM_HEADROOM = 1.25;
export function withHeadroom(tokens: number): number {
  return Math.max(Math.ceil(tokens * ITEM_HEADROOM), tokens + 32);
}
/** Tokens the count in "generate N similar …" and the request's own wording may add. */
const PROMPT_SLACK = 8;
/** A retry round shows the teacher an earlier answer: room for one, plus the words around it. */
const RETRY_ROOM = 64;

export function tokenStats<T extends { id: string }>(items: readonly T[], length: (item: T) => number): Stats {
  if (items.length === 0) return { examples: 0, p50: 0, p95: 0, max: 0, longest: "" };
  const sorted = items.map((item) => ({ id: item.id, n: length(item) })).sort((a, b) => a.n - b.n);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!.n;
  return { examples: items.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1)!.n, longest: sorted.at(-1)!.id };
}

const trainLength = (e: ExampleLength) => e.prompt + e.completion + 1;

export function planLengths(m: LengthMeasurements, shape: PlanShape, overrides: LengthOverrides = {}): LengthPlan {
  const { seed, test, trainedContext } = m.student;
  const studentContextWords = m.student.contextLimitReason
    ? `the student's usable context of ${trainedContext} tokens (${m.student.contextLimitReason})`
    : `the student's trained context of ${trainedContext} tokens`;
  if (seed.length === 0) throw new UsageError("the seed set is empty: nothing to plan or train on");
  const seedStats = { prompt: tokenStats(seed, (e) => e.prompt), completion: tokenStats(seed, (e) => e.completion), train: tokenStats(seed, trainLength) };
  const testStats = { prompt: tokenStats(test, (e) => e.prompt), completion: tokenStats(test, (e) => e.completion) };

  // Training length.
  const seedLongest = seedStats.train.max;
  if (overrides.trainMaxTokens === undefined && seedLongest > trainedContext) {
    throw new UsageError(
      `seed example ${seedStats.train.longest} is ${seedLongest} tokens (prompt + completion + EOS), more than ${studentContextWords}: ` +
        `use a student with a longer context, or set --max-len to leave the longest examples out`,
    );
  }
  const trainMaxTokens = overrides.trainMaxTokens ?? Math.min(trainedContext, withHeadroom(seedLongest));
  if (trainMaxTokens > trainedContext) throw new UsageError(`--max-len ${trainMaxTokens} is more than ${studentContextWords}`);
  const trainDropped = seed.filter((e) => trainLength(e) > trainMaxTokens).map((e) => ({ id: e.id, tokens: trainLength(e), why: `longer than the training length ${trainMaxTokens}` }));
  if (trainDropped.length === seed.length) throw new UsageError(`every seed example is longer than --max-len ${trainMaxTokens} tokens (the shortest is ${Math.min(...seed.map(trainLength))})`);

  // Student answer budget and context.
  const both = [...seed.map((e) => ({ ...e, set: "seed" as const })), ...test.map((e) => ({ ...e, set: "test" as const }))];
  const longestGold = Math.max(...both.map((e) => e.completion));
  const evalMaxTokens = overrides.evalMaxTokens ?? answerBudget(longestGold);
  const evalCut = both
    .filter((e) => e.completion > evalMaxTokens)
    .map((e) => ({ set: e.set, id: e.id, tokens: e.completion, why: `gold completion longer than the answer budget ${evalMaxTokens}` }));
  const longestPrompt = both.reduce((a, b) => (b.prompt > a.prompt ? b : a));
  // --augment-all evaluates augmented examples too: a prompt may then be as long as a training example.
  const promptRoom = shape.augmentAll ? Math.max(longestPrompt.prompt, trainMaxTokens) : longestPrompt.prompt;
  const needed = promptRoom + evalMaxTokens;
  const studentContext = overrides.studentContext ?? needed;
  const limit = overrides.studentContext ?? trainedContext;
  if (needed > limit || studentContext > trainedContext) {
    const what = overrides.studentContext !== undefined ? `the student context --student-context ${overrides.studentContext}` : studentContextWords;
    throw new UsageError(
      `${longestPrompt.set} example ${longestPrompt.id}: its prompt is ${longestPrompt.prompt} tokens` +
        (shape.augmentAll && trainMaxTokens > longestPrompt.prompt ? ` (with --augment-all, room for a training example of ${trainMaxTokens})` : "") +
        `; with the answer budget of ${evalMaxTokens} it needs ${needed} tokens, more than ${what}` +
        (studentContext > trainedContext && needed <= limit ? ` (--student-context ${studentContext} is itself beyond the trained context ${trainedContext})` : ""),
    );
  }

  // Teacher budget and context.
  const t = m.teacher;
  const teacherStats = { prompt: tokenStats(t.sources, (s) => s.prompt), item: tokenStats(t.sources, (s) => s.item) };
  const promptMax = teacherStats.prompt.max + PROMPT_SLACK;
  const itemBudget = withHeadroom(teacherStats.item.max);
  const overhead = t.wrapper + PROMPT_SLACK;
  const teacherLimit = overrides.teacherContext ?? t.trainedContext ?? Number.POSITIVE_INFINITY;
  if (overrides.teacherContext !== undefined && t.trainedContext !== undefined && overrides.teacherContext > t.trainedContext) {
    throw new UsageError(`--teacher-context ${overrides.teacherContext} is more than the teacher's trained context of ${t.trainedContext} tokens`);
  }
  const fit = Math.floor((teacherLimit - promptMax - overhead) / itemBudget);
  if (fit < 1) {
    throw new UsageError(
      `seed example ${teacherStats.prompt.longest}: the teacher's prompt is ${teacherStats.prompt.max} tokens and one new example as long as the longest source (${teacherStats.item.longest}, ` +
        `${teacherStats.item.max} tokens, ${itemBudget} with headroom) needs ${promptMax + overhead + itemBudget} tokens in all, more than ` +
        (overrides.teacherContext !== undefined ? `--teacher-context ${overrides.teacherContext}` : `the teacher's trained context of ${teacherLimit} tokens`),
    );
  }
  let perRequest = t.promptStyle === "compact" ? 1 : Math.min(shape.examplesPerSource, fit, overrides.maxExamplesPerRequest ?? Number.POSITIVE_INFINITY);
  if (overrides.teacherMaxTokens !== undefined) perRequest = Math.max(1, Math.min(perRequest, Math.floor((overrides.teacherMaxTokens - overhead) / itemBudget)));
  const teacherMaxTokens = overrides.teacherMaxTokens ?? overhead + perRequest * itemBudget;
  const wanted = promptMax + 2 * teacherMaxTokens + RETRY_ROOM;
  const teacherContext = overrides.teacherContext ?? Math.min(wanted, teacherLimit);
  if (promptMax + teacherMaxTokens > teacherContext) {
    throw new UsageError(`the teacher's prompt (up to ${promptMax} tokens) and its budget of ${teacherMaxTokens} tokens need ${promptMax + teacherMaxTokens}, more than the teacher context ${teacherContext}`);
  }

  return {
    trainMaxTokens,
    trainDropped,
    evalMaxTokens,
    evalCut,
    studentContext,
    studentTrainedContext: trainedContext,
    teacherMaxTokens,
    maxExamplesPerRequest: perRequest,
    examplesPerSource: shape.examplesPerSource,
    teacherContext,
    ...(t.trainedContext === undefined ? {} : { teacherTrainedContext: t.trainedContext }),
    teacherTokenizer: t.tokenizer,
    teacherPromptStyle: t.promptStyle,
    from: {
      trainMaxTokens: overrides.trainMaxTokens === undefined ? "data" : "flag",
      evalMaxTokens: overrides.evalMaxTokens === undefined ? "data" : "flag",
      studentContext: overrides.studentContext === undefined ? "data" : "flag",
      teacherMaxTokens: overrides.teacherMaxTokens === undefined ? "data" : "flag",
      teacherContext: overrides.teacherContext === undefined ? "data" : "flag",
    },
    stats: { seed: seedStats, test: testStats, teacher: teacherStats },
  };
}

/** The plan as metrics.json, plan.json and `run --dry-run --json` write it (snake_case numbers first). */
export function planSummary(plan: LengthPlan) {
  return {
    train_max_tokens: plan.trainMaxTokens,
    train_dropped: plan.trainDropped.length,
    eval_max_tokens: plan.evalMaxTokens,
    eval_cut: plan.evalCut.length,
    teacher_max_tokens: plan.teacherMaxTokens,
    max_examples_per_request: plan.maxExamplesPerRequest,
    examples_per_source: plan.examplesPerSource,
    student_context: plan.studentContext,
    student_trained_context: plan.studentTrainedContext,
    teacher_context: plan.teacherContext,
    teacher_trained_context: plan.teacherTrainedContext ?? null,
    teacher_tokenizer: plan.teacherTokenizer,
    teacher_prompt_style: plan.teacherPromptStyle,
    from: plan.from,
    stats: plan.stats,
    dropped: plan.trainDropped,
    cut: plan.evalCut,
  };
}

export type PlanSummary = ReturnType<typeof planSummary>;
