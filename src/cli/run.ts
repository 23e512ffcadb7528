/**
 * `llm2llm run`: the LLM2LLM loop into a run directory. Options come from flags or a config file
 * (`--config run.json`, flags override); on an existing run directory the run resumes at the first
 * unfinished stage, and a changed config is refused (naming the keys) unless --force.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { CommandModule } from "yargs";
import { UsageError } from "../errors.js";
import { changedKeys, parseRunConfig, readRunConfigFile, RunDirectory, runLoop, silentObserver, TerminalObserver, type RunConfig } from "../pipeline/index.js";
import { createLoopParts, loadRunData } from "../pipeline/composeParts.js";
import { percent } from "../pipeline/observer.js";
import { planSummary } from "../pipeline/lengthPlan.js";
import { measureRun, planFrom, planRun } from "../pipeline/planRun.js";
import { memorySummary, planRunMemory } from "../pipeline/memoryCheck.js";
import { probeRun } from "../pipeline/probe.js";
import { describeMemoryPlan } from "../student/train/memoryPlan.js";
import { memoryOptions } from "./memoryOptions.js";
import { writeReport } from "../pipeline/report/index.js";
import { planText, probeText } from "./planText.js";
import { initBackend } from "../backend/tfjsBackend.js";
import { jsonOption, printJson, say } from "./output.js";

const flagToKey = {
  student: "student", teacher: "teacher", "teacher-url": "teacherUrl", "teacher-model": "teacherModel", task: "task",
  "seed-data": "seedData", "test-data": "testData", iterations: "iterations", k: "k", seed: "seed", sources: "sources",
  "one-shot": "oneShot", continue: "continueFromPrevious", "augment-all": "augmentAll", structured: "structured",
  "teacher-parallel": "teacherParallel", rounds: "augmentRounds", "one-shot-examples": "oneShotExamples", "eval-parallel": "evalParallel", "eval-max-tokens": "evalMaxTokens", "eval-sampling": "evalSampling",
  "student-context": "studentContext", "teacher-context": "teacherContext", "max-examples-per-request": "maxExamplesPerRequest",
} as const;
const trainFlagToKey = { rank: "rank", alpha: "alpha", dropout: "dropout", lr: "learningRate", epochs: "epochs", batch: "batchSize", "max-len": "maxLength" } as const;

export const runCommand: CommandModule = {
  command: "run",
  describe: "run the LLM2LLM loop: train the student, find its wrong seed answers, let the teacher write targeted examples, repeat",
  builder: (y) =>
    y
      .options({
        config: { type: "string", describe: "run config JSON (flags override its keys)" },
        out: { type: "string", describe: "run directory", default: "runs/llm2llm" },
        force: { type: "boolean", default: false, describe: "resume even if the config changed" },
        student: { type: "string", describe: "student base model (GGUF)" },
        teacher: { type: "string", describe: "teacher model (GGUF)" },
        "teacher-url": { type: "string", describe: "OpenAI-compatible endpoint instead of a local teacher (key: LLM2LLM_TEACHER_API_KEY)" },
        "teacher-model": { type: "string", describe: "model name at --teacher-url" },
        task: { type: "string", describe: "task kind or preset (gsm8k, sst2, trec, snips, casehold, math, classification, multiple-choice) or a task config file" },
        "seed-data": { type: "string", describe: "the labelled seed set D0" },
        "test-data": { type: "string", describe: "the test set T (reported only; never trained on or shown to the teacher)" },
        iterations: { type: "number", describe: "LLM2LLM iterations (default 5)" },
        k: { type: "number", describe: "new examples per wrong seed example (default 1)" },
        seed: { type: "number", describe: "random seed (default 0)" },
        sources: { type: "string", choices: ["wrong", "all"], describe: "which evaluated examples go to the teacher (default wrong)" },
        "one-shot": { type: "boolean", describe: "ablation: all augmentation in one round" },
        "one-shot-examples": { type: "number", describe: "one-shot: total new examples, spread over the sources (default k·(iterations−1) each)" },
        rounds: { type: "number", describe: "teacher rounds per iteration while a source has fewer than k kept (default 3)" },
        continue: { type: "boolean", describe: "ablation: train from the previous iteration's adapter instead of the base" },
        "augment-all": { type: "boolean", describe: "ablation: wrong augmented examples become sources too" },
        structured: { type: "boolean", describe: "JSON-schema-constrained teacher output (default true; --no-structured for free text)" },
        "teacher-parallel": { type: "number", describe: "parallel teacher sequences" },
        "eval-parallel": { type: "number", describe: "parallel evaluation sequences" },
        "eval-max-tokens": { type: "number", describe: "max tokens per student answer (default: the longest gold completion + 10%)" },
        "eval-sampling": { type: "string", choices: ["greedy", "paper"], describe: "student evaluation: greedy (default) or the paper's (temperature 0.7, top-p 0.9, a seed per example from --seed and its id)" },
        "student-context": { type: "number", describe: "tokens per student sequence in evaluation (default: longest prompt + answer budget)" },
        "teacher-max-tokens": { type: "number", describe: "max tokens per teacher completion (default: the examples asked, each as long as the longest source + 25%)" },
        "teacher-context": { type: "number", describe: "tokens per teacher sequence (default: what the prompt and budget need, within the trained context)" },
        "max-examples-per-request": { type: "number", describe: "new examples asked in one teacher request at most (default: as many as fit)" },
        "dry-run": { type: "boolean", default: false, describe: "tokenize the data and print the plan (lengths, budgets, contexts, drops) and a time estimate; train nothing" },
        probe: { type: "boolean", default: true, describe: "with --dry-run: time a few training steps, answers and one teacher request (--no-probe: skip)" },
        rank: { type: "number", describe: "LoRA rank" },
        alpha: { type: "number", describe: "LoRA alpha" },
        dropout: { type: "number", describe: "LoRA dropout" },
        lr: { type: "number", describe: "learning rate" },
        epochs: { type: "number", describe: "epochs per iteration" },
        batch: { type: "number", describe: "batch size" },
        "max-len": { type: "number", describe: "max tokens per training example (default: the longest seed example; longer ones are left out and counted)" },
        ...memoryOptions,
      })
      .options(jsonOption),
  handler: async (args) => {
    // Memory options change memory and time, never results: process settings, not run config keys.
    if (args["base-weights"] !== undefined) process.env.LLM2LLM_BASE_WEIGHTS = String(args["base-weights"]);
    if (args.checkpoint !== undefined) process.env.LLM2LLM_CHECKPOINT = String(args.checkpoint);
    const config = await buildConfig(args as Record<string, unknown>);
    const json = Boolean(args.json);
    if (args["dry-run"]) return dryRun(config, json, Boolean(args.probe));
    const run = new RunDirectory(String(args.out));
    await checkResume(run, config, Boolean(args.force));
    // The plan comes before any work: a run that cannot fit its data fails here, with the example and the numbers.
    const data = await loadRunData(config);
    const plan = await planRun(config, data);
    const memory = await planRunMemory(config, plan);
    await run.create();
    await run.writeJson(run.configPath, config);
    await run.writeJson(path.join(run.root, "plan.json"), planSummary(plan));

    const { seedSet, testSet, task } = data;
    const observer = json ? silentObserver : new TerminalObserver(config.iterations);
    const parts = createLoopParts(config, task, run, observer, plan);
    say(json, `llm2llm run → ${run.root}: ${seedSet.length} seed examples, ${testSet.length} test examples, task ${task.name}\n${planText(plan)}\nmemory: ${describeMemoryPlan(memory)}`);
    say(json, `student backend: ${(await initBackend()).description}`);
    const history = await runLoop(config, run, parts, seedSet, testSet, observer).finally(() => observer.close());
    const report = await writeReport(run);

    if (json) return printJson({ out: run.root, iterations: history, report: report.html });
    const table = [
      "iteration  seed acc  test acc  train size  wrong  kept",
      ...history.map((m) => `${String(m.t).padStart(9)}  ${percent(m.seed_accuracy).padStart(8)}  ${percent(m.test_accuracy).padStart(8)}  ${String(m.train_size).padStart(10)}  ${String(m.sources).padStart(5)}  ${String(m.kept).padStart(4)}`),
    ];
    const askedTeacher = history.slice(0, -1).some((m) => m.sources > 0);
    if (askedTeacher && history.every((m) => m.kept === 0)) table.push("", "The teacher's output was all filtered out: no augmentation happened (see the drop reasons in the report).");
    say(false, `${table.join("\n")}\n\nreport: ${report.html}`);
  },
};

async function dryRun(config: RunConfig, json: boolean, probe: boolean): Promise<void> {
  const data = await loadRunData(config);
  const measured = await measureRun(config, data);
  const plan = planFrom(config, measured);
  const memory = await planRunMemory(config, plan);
  const estimate = probe ? await probeRun(config, data, plan, measured.student) : undefined;
  if (json) {
    return printJson({
      ...planSummary(plan), ...memorySummary(memory), task: data.task.name, seed_examples: data.seedSet.length, test_examples: data.testSet.length, probe: estimate ?? null,
    });
  }
  const memoryLine = `memory: ${describeMemoryPlan(memory)}`;
  say(false, `llm2llm run --dry-run: task ${data.task.name}, ${data.seedSet.length} seed examples, ${data.testSet.length} test examples\n${planText(plan)}\n${memoryLine}${estimate ? `\n${probeText(estimate)}` : ""}`);
}

async function buildConfig(args: Record<string, unknown>): Promise<RunConfig> {
  const fromFile = args.config ? await readRunConfigFile(String(args.config)) : {};
  if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) throw new UsageError(`${String(args.config)}: expected a JSON object`);
  const merged: Record<string, unknown> = { ...(fromFile as Record<string, unknown>) };
  // Paths in a config file are relative to the file, not to where the command runs.
  if (args.config) {
    const base = path.dirname(path.resolve(String(args.config)));
    for (const key of ["student", "teacher", "seedData", "testData"]) {
      if (typeof merged[key] === "string" && !path.isAbsolute(merged[key] as string)) merged[key] = path.join(base, merged[key] as string);
    }
  }
  for (const [flag, key] of Object.entries(flagToKey)) if (args[flag] !== undefined) merged[key] = args[flag];
  const train: Record<string, unknown> = { ...((merged.train as Record<string, unknown> | undefined) ?? {}) };
  for (const [flag, key] of Object.entries(trainFlagToKey)) if (args[flag] !== undefined) train[key] = args[flag];
  if (Object.keys(train).length) merged.train = train;
  if (args["teacher-max-tokens"] !== undefined) merged.teacherSampling = { ...((merged.teacherSampling as Record<string, unknown> | undefined) ?? {}), maxTokens: args["teacher-max-tokens"] };
  return parseRunConfig(merged, args.config ? String(args.config) : "command line");
}

async function checkResume(run: RunDirectory, config: RunConfig, force: boolean): Promise<void> {
  if (!existsSync(run.configPath)) return;
  const before = await run.readJson<unknown>(run.configPath);
  const changed = changedKeys(before, JSON.parse(JSON.stringify(config)));
  if (changed.length > 0 && !force) {
    throw new UsageError(`${run.configPath}: this run directory was started with a different config (changed: ${changed.join(", ")}); use another --out, or --force to resume anyway`);
  }
}
