/**
 * `npm run bench -- ablations [--json] [--task toy-math|toy-intents] [--seeds 0,1,2] [--iterations N]`
 *
 * The paper's comparisons on the embedded toy world, each with several seeds (mean and spread):
 *   seed-only   fine-tuning on the seed set alone (iteration 0 of the LLM2LLM run: the same training)
 *   llm2llm     iterative, targeted augmentation, the student retrained from the base each iteration
 *   one-shot    the same amount of new data asked for at once, after iteration 0: the llm2llm run's total of
 *               new examples, spread over iteration 0's wrong examples and filled by retry rounds (both
 *               totals are reported)
 *   continuous  llm2llm, but each iteration continues from the previous iteration's adapter
 * Runs go to runs/ablations/<task>/<variant>-s<seed>/ and resume, so an interrupted benchmark picks up where it
 * stopped; iteration 0, the same in every variant, is copied from the llm2llm run. `--variants continuous` runs
 * that variant alone (in a second process beside the others). The paper's orderings are checked and stated, held or not: llm2llm > one-shot, llm2llm ≥ continuous.
 */
import { writeFileSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { UsageError } from "../src/errors.js";
import { createLoopParts, loadRunData } from "../src/pipeline/composeParts.js";
import { planRun } from "../src/pipeline/planRun.js";
import { embeddedDefaultConfig, embeddedTasks, type EmbeddedTask } from "../src/pipeline/embeddedDefault.js";
import { parseRunConfig, RunDirectory, runLoop, type IterationMetrics, type LoopObserver } from "../src/pipeline/index.js";
import type { IterationFile } from "../src/pipeline/runDirectory.js";
import { describeMachine, type Machine } from "./machine.js";
import type { Benchmark } from "./main.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const variants = ["seed-only", "llm2llm", "one-shot", "continuous"] as const;
type Variant = (typeof variants)[number];

interface AblationRow {
  variant: Variant;
  test_accuracy_mean: number;
  test_accuracy_std: number;
  per_seed: { seed: number; test_accuracy: number; train_size: number; new_examples: number }[];
}

interface AblationResult extends Record<string, unknown> {
  benchmark: "ablations";
  task: EmbeddedTask;
  seeds: number[];
  iterations: number;
  results: AblationRow[];
  orderings: { claim: string; holds: boolean; detail: string }[];
  plot: string;
  machine: Machine;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

const runDir = (task: EmbeddedTask, name: string, seed: number) => path.join(repoRoot, "runs/ablations", task, `${name}-s${seed}`);

/** Iteration 0 is the same training and evaluation in every variant (and, for continuous, the same augmentation):
 *  its files are copied from the llm2llm run when that has them, instead of being computed again. */
const sharedIterationZero: Partial<Record<Variant, IterationFile[]>> = {
  "one-shot": ["train.jsonl", "adapter.gguf", "eval-seed.jsonl", "eval-test.jsonl"],
  continuous: ["train.jsonl", "adapter.gguf", "eval-seed.jsonl", "eval-test.jsonl", "augment-drops.json", "augment-rounds.json", "augmented.jsonl"],
};

async function runVariant(task: EmbeddedTask, seed: number, overrides: Record<string, unknown>, name: Variant, log: (line: string) => void): Promise<IterationMetrics[]> {
  const config = parseRunConfig({ ...embeddedDefaultConfig(task), seed, ...overrides }, `ablation ${name}`);
  const run = new RunDirectory(runDir(task, name, seed));
  await run.create();
  await run.writeJson(run.configPath, config);
  const from = new RunDirectory(runDir(task, "llm2llm", seed));
  const shared = sharedIterationZero[name] ?? [];
  // All or nothing, in stage order (augmented.jsonl, the stage's marker, last).
  if (shared.length > 0 && shared.every((f) => from.has(0, f)) && !run.has(0, "train.jsonl")) {
    await mkdir(run.iterationDir(0), { recursive: true });
    for (const file of shared) await copyFile(from.file(0, file), run.file(0, file));
  }
  const observer: LoopObserver = {
    stage: () => undefined,
    progress: () => undefined,
    iterationDone: (m) => log(`  ${name} seed ${seed}: iteration ${m.t}: test ${(100 * m.test_accuracy).toFixed(1)}%, train size ${m.train_size}`),
    close: () => undefined,
  };
  const data = await loadRunData(config);
  const plan = await planRun(config, data);
  return runLoop(config, run, createLoopParts(config, data.task, run, observer, plan), data.seedSet, data.testSet, observer);
}

function meanStd(xs: number[]): [number, number] {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
  return [mean, Math.sqrt(variance)];
}

async function plotSvg(rows: AblationRow[], file: string): Promise<void> {
  const values = rows.flatMap((r) => r.per_seed.map((s) => ({ variant: r.variant, seed: String(s.seed), accuracy: s.test_accuracy })));
  const spec: vegaLite.TopLevelSpec = {
    width: 360,
    height: 240,
    title: "Test accuracy by training recipe (points: seeds, bar: mean)",
    data: { values },
    layer: [
      { mark: "bar", encoding: { x: { field: "variant", type: "nominal", sort: [...variants] }, y: { aggregate: "mean", field: "accuracy", type: "quantitative", axis: { format: "%" } } } },
      { mark: { type: "point", filled: true, color: "black" }, encoding: { x: { field: "variant", type: "nominal", sort: [...variants] }, y: { field: "accuracy", type: "quantitative" } } },
    ],
  };
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}

const ablations: Benchmark<AblationResult> = {
  description: "seed-only vs LLM2LLM vs one-shot vs continuous fine-tuning on the toy world, several seeds",
  async run(args, log) {
    const task = (option(args, "task") ?? "toy-math") as EmbeddedTask;
    if (!embeddedTasks.includes(task)) throw new UsageError(`--task: expected one of ${embeddedTasks.join(", ")}`);
    const seeds = (option(args, "seeds") ?? "0,1,2").split(",").map(Number);
    const iterations = Number(option(args, "iterations") ?? embeddedDefaultConfig(task).iterations);
    const backend = await initBackend();
    const perVariant = new Map<Variant, AblationRow["per_seed"]>(variants.map((v) => [v, []]));
    // --variants continuous: that variant alone (a second process can run it beside the others; runs resume).
    const only = option(args, "variants")?.split(",") as Variant[] | undefined;
    const continuousOnly = only?.length === 1 && only[0] === "continuous";

    for (const seed of continuousOnly ? [] : seeds) {
      const llm2llm = await runVariant(task, seed, { iterations }, "llm2llm", log);
      const first = llm2llm[0]!;
      const last = llm2llm.at(-1)!;
      const row = (m: IterationMetrics) => ({ seed, test_accuracy: m.test_accuracy, train_size: m.train_size, new_examples: m.train_size - first.train_size });
      perVariant.get("seed-only")!.push(row(first));
      perVariant.get("llm2llm")!.push(row(last));
      // One-shot is asked for exactly as many new examples as llm2llm kept in all, from iteration 0's wrong examples.
      const newExamples = last.train_size - first.train_size;
      const oneShot = await runVariant(task, seed, { iterations: 2, oneShot: true, ...(newExamples > 0 ? { oneShotExamples: newExamples } : {}) }, "one-shot", log);
      perVariant.get("one-shot")!.push(row(oneShot.at(-1)!));
      log(`  seed ${seed}: new examples llm2llm ${newExamples}, one-shot ${oneShot[0]!.kept} (asked for ${oneShot[0]!.wanted}, ${oneShot[0]!.rounds_used} rounds)`);
      const continuous = await runVariant(task, seed, { iterations, continueFromPrevious: true }, "continuous", log);
      perVariant.get("continuous")!.push(row(continuous.at(-1)!));
    }
    for (const seed of continuousOnly ? seeds : []) {
      const continuous = await runVariant(task, seed, { iterations, continueFromPrevious: true }, "continuous", log);
      const m = continuous.at(-1)!;
      perVariant.get("continuous")!.push({ seed, test_accuracy: m.test_accuracy, train_size: m.train_size, new_examples: m.train_size - continuous[0]!.train_size });
    }

    const results = variants.filter((v) => perVariant.get(v)!.length > 0).map((variant) => {
      const perSeed = perVariant.get(variant)!;
      const [mean, std] = meanStd(perSeed.map((s) => s.test_accuracy));
      return { variant, test_accuracy_mean: mean, test_accuracy_std: std, per_seed: perSeed };
    });
    const mean = (v: Variant) => results.find((r) => r.variant === v)?.test_accuracy_mean ?? NaN;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const orderings = [
      { claim: "llm2llm > seed-only", holds: mean("llm2llm") > mean("seed-only"), detail: `${pct(mean("llm2llm"))} vs ${pct(mean("seed-only"))}` },
      { claim: "llm2llm > one-shot (same amount of new data)", holds: mean("llm2llm") > mean("one-shot"), detail: `${pct(mean("llm2llm"))} vs ${pct(mean("one-shot"))}` },
      { claim: "from scratch ≥ continuous", holds: mean("llm2llm") >= mean("continuous"), detail: `${pct(mean("llm2llm"))} vs ${pct(mean("continuous"))}` },
    ].filter((o) => !o.detail.includes("NaN"));
    for (const o of orderings) log(`${o.holds ? "holds" : "DOES NOT HOLD"}: ${o.claim} (${o.detail})`);
    const plot = path.join(repoRoot, `benchmarks/results/ablations-${task}.svg`);
    await plotSvg(results, plot);
    return { benchmark: "ablations", task, seeds, iterations, results, orderings, plot: path.relative(repoRoot, plot), machine: describeMachine(backend.description) };
  },
  table(result) {
    return {
      header: ["variant", "test acc mean", "spread (sd)", "per seed", "train sizes", "new examples"],
      rows: result.results.map((r) => [
        r.variant,
        `${(100 * r.test_accuracy_mean).toFixed(1)}%`,
        `${(100 * r.test_accuracy_std).toFixed(1)}`,
        r.per_seed.map((s) => `${(100 * s.test_accuracy).toFixed(0)}%`).join(" "),
        r.per_seed.map((s) => s.train_size).join(" "),
        r.per_seed.map((s) => s.new_examples).join(" "),
      ]),
    };
  },
};

export default ablations;
