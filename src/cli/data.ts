/**
 * `llm2llm data inspect <file>` — what a dataset file holds: kind, size, labels with counts or choices, shape.
 * `llm2llm data sample <file> --n 74 | --fraction 0.01 --seed S --out seed.jsonl` — a seeded seed set,
 * stratified by label for classification.
 */
import type { Argv, CommandModule } from "yargs";
import { UsageError } from "../errors.js";
import type { FieldMapping } from "../data/fieldMapping.js";
import type { Dataset } from "../data/loadDataset.js";
import { subsample } from "../data/subsample.js";
import { writeExamplesJsonl } from "../data/writeExamples.js";
import { loadTaskData } from "../tasks/loadTaskData.js";
import { jsonOption, printJson, say } from "./output.js";

const dataOptions = {
  ...jsonOption,
  task: { type: "string", describe: "kind (math, classification, multiple-choice), preset (gsm8k, sst2, trec, snips, casehold) or task .json; detected when absent" },
  "input-field": { type: "string", describe: "field holding the question / text / prompt" },
  "output-field": { type: "string", describe: "field holding a free-text answer (math rationale)" },
  "label-field": { type: "string", describe: "field holding the label (or the right choice for multiple choice)" },
  "choices-field": { type: "string", describe: "field holding the array of choices" },
} as const;

interface DataArgs {
  file: string;
  json: boolean;
  task?: string;
  "input-field"?: string;
  "output-field"?: string;
  "label-field"?: string;
  "choices-field"?: string;
}

interface SampleArgs extends DataArgs {
  n?: number;
  fraction?: number;
  seed: number;
  out: string;
  stratify: boolean;
}

function fieldMapping(args: DataArgs): FieldMapping {
  return { input: args["input-field"], output: args["output-field"], label: args["label-field"], choices: args["choices-field"] };
}

/** The summary `inspect` prints, also used by `sample` for what it wrote. */
export function datasetSummary(dataset: Dataset, taskName: string) {
  const choiceCounts = dataset.examples.map((e) => e.choices?.length ?? 0);
  return {
    file: dataset.file,
    format: dataset.format,
    shape: dataset.shape,
    fields: dataset.fields,
    kind: dataset.kind,
    task: taskName,
    n: dataset.examples.length,
    ...(dataset.labelCounts ? { labels: dataset.labelCounts } : {}),
    ...(dataset.kind === "multiple-choice"
      ? { choices: dataset.choiceCount ?? { min: Math.min(...choiceCounts), max: Math.max(...choiceCounts) } }
      : {}),
    firstId: dataset.examples[0]?.id,
  };
}

const inspectCommand: CommandModule<object, DataArgs> = {
  command: "inspect <file>",
  describe: "show a dataset's task kind, size, labels with counts or choices, and detected fields",
  builder: (y) => y.positional("file", { type: "string", demandOption: true }).options(dataOptions) as unknown as Argv<DataArgs>,
  handler: async (args) => {
    const { task, dataset } = await loadTaskData(args.file, args.task, fieldMapping(args));
    const summary = datasetSummary(dataset, task.name);
    if (args.json) return printJson(summary);
    const lines = [
      `${summary.file}: ${summary.n} examples, ${summary.kind} (task ${summary.task})`,
      `format ${summary.format}, shape ${summary.shape}: question ← "${dataset.fields.input}"` +
        (dataset.fields.output ? `, answer ← "${dataset.fields.output}"` : "") +
        (dataset.fields.label ? `, label ← "${dataset.fields.label}"` : "") +
        (dataset.fields.choices ? `, choices ← "${dataset.fields.choices}"` : ""),
      ...(summary.labels ? [`labels (${Object.keys(summary.labels).length}):`, ...Object.entries(summary.labels).map(([l, c]) => `  ${l.padEnd(24)} ${c}`)] : []),
      ...(summary.choices !== undefined ? [`choices per example: ${JSON.stringify(summary.choices)}`] : []),
    ];
    say(false, lines.join("\n"));
  },
};

const sampleCommand: CommandModule<object, SampleArgs> = {
  command: "sample <file>",
  describe: "write a seeded sample (--n or --fraction) as JSONL; stratified by label for classification",
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true })
      .options({
        ...dataOptions,
        n: { type: "number", describe: "sample size" },
        fraction: { type: "number", describe: "sample size as a fraction of the file, rounded down (0.01 of GSM8K train = 74)" },
        seed: { type: "number", default: 0, describe: "the same seed gives the same sample" },
        out: { type: "string", demandOption: true, describe: "output .jsonl (written atomically)" },
        stratify: { type: "boolean", default: true, describe: "classification: keep label proportions (--no-stratify for plain random)" },
      }) as unknown as Argv<SampleArgs>,
  handler: async (args) => {
    if (args.n === undefined && args.fraction === undefined) throw new UsageError("data sample: give --n or --fraction");
    const { task, dataset } = await loadTaskData(args.file, args.task, fieldMapping(args));
    const stratified = args.stratify && dataset.kind === "classification";
    const sample = subsample(dataset.examples, {
      n: args.n,
      fraction: args.fraction,
      seed: args.seed,
      stratifyBy: stratified ? (e) => e.answer : undefined,
    });
    await writeExamplesJsonl(args.out, sample, dataset.kind);
    const counts: Record<string, number> = {};
    if (dataset.kind === "classification") for (const e of sample) counts[e.answer] = (counts[e.answer] ?? 0) + 1;
    const summary = {
      file: args.file,
      out: args.out,
      kind: dataset.kind,
      task: task.name,
      n: sample.length,
      of: dataset.examples.length,
      seed: args.seed,
      stratified,
      ...(dataset.kind === "classification" ? { labels: Object.fromEntries((dataset.labels ?? []).map((l) => [l, counts[l] ?? 0])) } : {}),
    };
    if (args.json) return printJson(summary);
    say(false, `wrote ${summary.n} of ${summary.of} examples (seed ${summary.seed}${stratified ? ", stratified by label" : ""}) to ${summary.out}`);
    if (summary.labels) say(false, Object.entries(summary.labels).map(([l, c]) => `  ${l.padEnd(24)} ${c}`).join("\n"));
  },
};

export const dataCommand: CommandModule<object, object> = {
  command: "data <command>",
  describe: "inspect a dataset file or write a seeded sample of it",
  builder: (y) => y.command(inspectCommand).command(sampleCommand).demandCommand(1, "Name a data command: inspect or sample."),
  handler: () => undefined,
};
