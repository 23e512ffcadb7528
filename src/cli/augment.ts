/**
 * `llm2llm augment`: one targeted augmentation step outside the loop. Reads the wrong seed examples, asks
 * the teacher (a local GGUF or an OpenAI-compatible endpoint) for k similar examples each, filters them
 * (parse → validate → verify → dedup against the wrong examples and any --existing data) and writes the
 * kept ones with their provenance as JSONL, atomically. Teacher garbage is never fatal: zero kept is exit 0.
 */
import { SingleBar } from "cli-progress";
import type { Argv, CommandModule } from "yargs";
import { UsageError } from "../errors.js";
import { DEFAULT_LENGTH_BOUNDS, type LengthBounds } from "../augment/index.js";
import type { Dataset } from "../data/loadDataset.js";
import { readRecords } from "../data/readRecords.js";
import { writeExamplesJsonl } from "../data/writeExamples.js";
import { loadTaskData } from "../tasks/loadTaskData.js";
import { buildTask, taskSpecFor } from "../tasks/resolveTask.js";
import type { TaskDefinition } from "../tasks/types.js";
import { augmentWithTeacher, type AugmentOutcome, type AugmentSource } from "../teacher/augmentWithTeacher.js";
import { EndpointTeacher } from "../teacher/EndpointTeacher.js";
import { LocalTeacher } from "../teacher/LocalTeacher.js";
import { openTeacher } from "../teacher/openTeacher.js";
import { jsonOption, printJson, say } from "./output.js";

/** Fields of a wrong-examples file that may hold the student's answer (the loop's eval files use `prediction`). */
const STUDENT_ANSWER_FIELDS = ["prediction", "student_answer", "ai_answer"];

const options = {
  ...jsonOption,
  teacher: { type: "string", describe: "teacher model (GGUF), run locally by llama.cpp" },
  "teacher-url": { type: "string", describe: "OpenAI-compatible endpoint instead, e.g. http://127.0.0.1:8080/v1 (key: LLM2LLM_TEACHER_API_KEY)" },
  "teacher-model": { type: "string", describe: "model name at --teacher-url" },
  task: { type: "string", describe: "kind (math, classification, multiple-choice), preset (gsm8k, sst2, trec, snips, casehold) or task .json; detected when absent" },
  wrong: { type: "string", demandOption: true, describe: "the seed examples the student got wrong (JSONL, JSON or CSV)" },
  existing: { type: "array", string: true, default: [] as string[], describe: "data so far (seed set, earlier augmentations): new questions must not near-copy these" },
  out: { type: "string", demandOption: true, describe: "where to write the kept examples (JSONL, with provenance)" },
  k: { type: "number", default: 1, describe: "new examples per wrong example (the paper's k)" },
  structured: { type: "boolean", default: false, describe: "JSON output constrained by a JSON-schema grammar (endpoint: response_format)" },
  parallel: { type: "number", default: 4, describe: "parallel sequences (local) or requests in flight (endpoint)" },
  seed: { type: "number", default: 0, describe: "run seed; each request derives its own sampling seed from it" },
  temperature: { type: "number", default: 0.7, describe: "sampling temperature (0 = greedy)" },
  "top-p": { type: "number", default: 0.9, describe: "nucleus sampling" },
  "top-k": { type: "number", describe: "top-k sampling" },
  "max-tokens": { type: "number", default: 512, describe: "max tokens per completion" },
  iteration: { type: "number", default: 0, describe: "LLM2LLM iteration recorded in the provenance" },
  rounds: { type: "number", default: 3, describe: "rounds at most: a wrong example with fewer than k kept is asked again, shown the kept ones" },
  "include-student-answer": { type: "boolean", default: false, describe: `show the teacher the student's wrong answer (field ${STUDENT_ANSWER_FIELDS.join(" / ")} or --student-answer-field)` },
  "student-answer-field": { type: "string", describe: "field of --wrong holding the student's answer" },
  "max-question-chars": { type: "number", describe: "longest question kept (and allowed by the JSON schema)" },
  "max-answer-chars": { type: "number", describe: "longest math answer kept (and allowed by the JSON schema)" },
  threads: { type: "number", describe: "local teacher: llama.cpp threads (default: all cores)" },
  "context-size": { type: "number", describe: "local teacher: tokens per sequence (default 2048)" },
  timeout: { type: "number", default: 120, describe: "endpoint: seconds per attempt" },
  retries: { type: "number", default: 4, describe: "endpoint: retries on 429 / 5xx / timeouts / dropped connections" },
  stream: { type: "boolean", default: false, describe: "endpoint: stream the reply (server-sent events)" },
} as const;

type AugmentArgs = {
  json: boolean;
  teacher?: string;
  "teacher-url"?: string;
  "teacher-model"?: string;
  task?: string;
  wrong: string;
  existing: string[];
  out: string;
  k: number;
  structured: boolean;
  parallel: number;
  seed: number;
  temperature: number;
  "top-p": number;
  "top-k"?: number;
  "max-tokens": number;
  iteration: number;
  rounds: number;
  "include-student-answer": boolean;
  "student-answer-field"?: string;
  "max-question-chars"?: number;
  "max-answer-chars"?: number;
  threads?: number;
  "context-size"?: number;
  timeout: number;
  retries: number;
  stream: boolean;
};

export const augmentCommand: CommandModule<object, AugmentArgs> = {
  command: "augment",
  describe: "let the teacher write k targeted examples per wrong seed example; filter and write them with provenance",
  builder: (y) => y.options(options) as unknown as Argv<AugmentArgs>,
  handler: async (args) => {
    checkNumbers(args);
    const { task, wrong, existing } = await loadData(args);
    const sources = await withStudentAnswers(args, wrong);
    const bounds = lengthBounds(task, args);

    const teacher = await openTeacher({
      teacher: args.teacher,
      teacherUrl: args["teacher-url"],
      teacherModel: args["teacher-model"],
      parallel: args.parallel,
      threads: args.threads,
      contextSize: args["context-size"],
      timeoutMs: args.timeout * 1000,
      retries: args.retries,
      stream: args.stream,
    });
    const bar = new SingleBar(
      { stream: process.stderr, format: "teacher |{bar}| {value}/{total} prompts | kept {kept} dropped {dropped} | {tps} tok/s", hideCursor: true },
    );
    bar.start(sources.length, 0, { kept: 0, dropped: 0, tps: "0" });
    let outcome: AugmentOutcome;
    try {
      outcome = await augmentWithTeacher(teacher, sources, {
        task,
        k: args.k,
        iteration: args.iteration,
        structured: args.structured,
        sampling: {
          temperature: args.temperature,
          topP: args["top-p"],
          ...(args["top-k"] !== undefined ? { topK: args["top-k"] } : {}),
          seed: args.seed,
          maxTokens: args["max-tokens"],
        },
        existing,
        includeStudentAnswer: args["include-student-answer"],
        rounds: args.rounds,
        bounds,
        onProgress: (p) => {
          bar.setTotal(p.promptsTotal);
          bar.update(p.promptsDone, { kept: p.kept, dropped: p.dropped, tps: (p.teacherTokens / Math.max(p.seconds, 1e-3)).toFixed(1) });
        },
      });
    } finally {
      bar.stop();
      await teacher.dispose();
    }
    await writeExamplesJsonl(args.out, outcome.kept, task.kind);

    const summary = {
      out: args.out,
      task: task.name,
      kind: task.kind,
      teacher: teacher.id,
      ...(teacher instanceof LocalTeacher ? { chatWrapper: teacher.chatWrapperName, parallel: teacher.parallel } : {}),
      ...(teacher instanceof EndpointTeacher ? { endpoint: teacher.stats } : {}),
      structured: args.structured,
      wrong: sources.length,
      prompts: outcome.prompts,
      wanted: outcome.wanted,
      roundsUsed: outcome.roundsUsed,
      shortSources: outcome.shortSources,
      missingExamples: outcome.missingExamples,
      candidates: outcome.candidates,
      kept: outcome.kept.length,
      dropped: outcome.dropped,
      teacherTokens: outcome.teacherTokens,
      tokensPerSecond: outcome.teacherTokens / Math.max(outcome.seconds, 1e-9),
      seconds: outcome.seconds,
    };
    say(args.json, dropTable(summary.kept, outcome));
    if (args.json) printJson(summary);
  },
};

function checkNumbers(args: AugmentArgs): void {
  const positive: [string, number | undefined][] = [["k", args.k], ["parallel", args.parallel], ["max-tokens", args["max-tokens"]], ["rounds", args.rounds], ["timeout", args.timeout]];
  for (const [name, value] of positive) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UsageError(`--${name}: expected a positive number, got ${value}`);
  }
  if (!(args.temperature >= 0)) throw new UsageError(`--temperature: expected a number ≥ 0, got ${args.temperature}`);
  if (!(args["top-p"] > 0 && args["top-p"] <= 1)) throw new UsageError(`--top-p: expected a number in (0, 1], got ${args["top-p"]}`);
}

/** The wrong examples and the data so far; a classification label set is the union of what they show. */
async function loadData(args: AugmentArgs): Promise<{ task: TaskDefinition; wrong: Dataset; existing: Dataset["examples"] }> {
  const wrongData = await loadTaskData(args.wrong, args.task);
  const existingData = await Promise.all(args.existing.map((file) => loadTaskData(file, args.task ?? wrongData.task.kind)));
  for (const { dataset } of existingData) {
    if (dataset.kind !== wrongData.task.kind) throw new UsageError(`--existing ${dataset.file}: ${dataset.kind} data, but --wrong is ${wrongData.task.kind}`);
  }
  let task = wrongData.task;
  if (task.kind === "classification") {
    const labels = [...new Set([...(task.labels ?? []), ...existingData.flatMap((d) => d.task.labels ?? [])])];
    task = buildTask(args.task ? taskSpecFor(args.task) : { name: task.name, kind: task.kind }, { labels });
  }
  return { task, wrong: wrongData.dataset, existing: existingData.flatMap((d) => d.dataset.examples) };
}

/** Pairs each wrong example with the student's answer from the same record, when the file has one. */
async function withStudentAnswers(args: AugmentArgs, wrong: Dataset): Promise<AugmentSource[]> {
  if (wrong.examples.length === 0) throw new UsageError(`--wrong ${args.wrong}: no examples`);
  if (!args["include-student-answer"]) return wrong.examples.map((example) => ({ example }));
  const { records } = await readRecords(args.wrong);
  const keys = new Set(records.flatMap((r) => Object.keys(r.fields)));
  const field = args["student-answer-field"] ?? STUDENT_ANSWER_FIELDS.find((name) => keys.has(name));
  if (!field || !keys.has(field)) {
    throw new UsageError(`--include-student-answer: ${args.wrong} has no field ${args["student-answer-field"] ?? STUDENT_ANSWER_FIELDS.join(" / ")} (fields: ${[...keys].join(", ")}); name it with --student-answer-field`);
  }
  return wrong.examples.map((example, i) => {
    const value = records[i]?.fields[field];
    return { example, studentAnswer: typeof value === "string" ? value : value === undefined ? undefined : JSON.stringify(value) };
  });
}

function lengthBounds(task: TaskDefinition, args: AugmentArgs): LengthBounds {
  const defaults = DEFAULT_LENGTH_BOUNDS[task.kind];
  const bounds = {
    ...defaults,
    ...(args["max-question-chars"] !== undefined ? { maxQuestionChars: args["max-question-chars"] } : {}),
    ...(args["max-answer-chars"] !== undefined ? { maxAnswerChars: args["max-answer-chars"] } : {}),
  };
  if (bounds.maxQuestionChars < bounds.minQuestionChars) {
    throw new UsageError(`--max-question-chars ${bounds.maxQuestionChars}: below the task's minimum question length (${bounds.minQuestionChars})`);
  }
  return bounds;
}

function dropTable(kept: number, outcome: AugmentOutcome): string {
  const rows = Object.entries(outcome.dropped).sort((a, b) => b[1] - a[1]);
  const width = Math.max(6, ...rows.map(([reason]) => reason.length));
  const lines = [
    `${outcome.prompts} prompts, ${outcome.teacherTokens} teacher tokens (${(outcome.teacherTokens / Math.max(outcome.seconds, 1e-9)).toFixed(1)} tok/s), ${outcome.candidates} candidates: kept ${kept}`,
    `${"dropped".padEnd(width)}  count`,
    ...rows.map(([reason, count]) => `${reason.padEnd(width)}  ${String(count).padStart(5)}`),
  ];
  if (rows.length === 0) lines.push(`${"(none)".padEnd(width)}      0`);
  return lines.join("\n");
}
