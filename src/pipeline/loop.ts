/**
 * The LLM2LLM loop (Lee et al. 2024, Algorithm 1; DESIGN.md §1):
 *
 *   D = D0
 *   for t in 0 .. n-1:
 *     S_t   = finetune_lora(S0, D)       fresh LoRA on the base (or from S_{t-1} with --continue)
 *     W_t   = wrong(S_t, D0)             seed set only (all of D with --augment-all)
 *     acc_t = accuracy(S_t, T)           reported only; T never feeds training or prompts
 *     if t == n-1: break
 *     A_t   = filter(teacher(W_t, k))    k new examples per wrong example (bounded retry rounds fill k)
 *     D     = D ∪ A_t
 *
 * Each stage writes one file of runs/<name>/iterations/<t>/ atomically; a stage whose file exists is done, so a
 * resumed run skips it and, every stage being seeded, ends with the same data as a run that never stopped.
 */
import { readFile } from "node:fs/promises";
import type { Example } from "../seams.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { accuracy, evaluateStudent, evaluationRow } from "./evaluate.js";
import type { LoopParts } from "./loopParts.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";
import { sourceSelectors, type EvaluatedExample } from "./sourceSelection.js";
import type { LoopObserver } from "./observer.js";
import { examplesPerSource } from "./planRun.js";
import { spreadEvenly } from "../util/spreadEvenly.js";

export interface IterationMetrics {
  t: number;
  seed_accuracy: number;
  test_accuracy: number;
  train_size: number;
  /** Examples of the training data longer than the run's training length (the trainer leaves them out). */
  train_dropped: number;
  /** Examples sent to the teacher (wrong seed examples) and what came back. */
  sources: number;
  kept: number;
  dropped: Record<string, number>;
  /** New examples asked for (k per source; the one-shot ablation's total), teacher requests, retry rounds
   *  used, and the sources still short of k after the last round with the examples they miss. */
  wanted: number;
  teacher_requests: number;
  rounds_used: number;
  short_sources: number;
  missing_examples: number;
}

/** What the augment stage saves beside augmented.jsonl, so a resumed run reports the same numbers. */
interface AugmentStageResult {
  kept: Example[];
  dropped: Record<string, number>;
  rounds: AugmentRounds;
}
type AugmentRounds = Pick<IterationMetrics, "wanted" | "teacher_requests" | "rounds_used" | "short_sources" | "missing_examples"> & { requests_per_round: number[] };
const noRounds: AugmentRounds = { wanted: 0, teacher_requests: 0, rounds_used: 0, short_sources: 0, missing_examples: 0, requests_per_round: [] };

export async function runLoop(config: RunConfig, run: RunDirectory, parts: LoopParts, seedSet: Example[], testSet: Example[], observer: LoopObserver): Promise<IterationMetrics[]> {
  const iterations = config.oneShot ? Math.min(2, config.iterations) : config.iterations;
  // One-shot ablation: the same total number of new examples, asked for all at once after iteration 0:
  // k·(n−1) per source, or `oneShotExamples` spread evenly over the sources (the bench passes the iterative run's total).
  const k = examplesPerSource(config);
  const history: IterationMetrics[] = [];
  let data = seedSet;

  for (let t = 0; t < iterations; t++) {
    data = await stage(run, t, "train.jsonl", observer, "data", () => data, (d) => run.writeJsonl(run.file(t, "train.jsonl"), d), (f) => run.readJsonl<Example>(f));

    // A fresh LoRA trained on the same data with the same seed is the same student (training is seeded), so
    // when the teacher added nothing last iteration, its adapter and evaluations are this one's: copied, not recomputed.
    if (t > 0 && !config.continueFromPrevious && history[t - 1]!.kept === 0) {
      const reused = ["eval-seed.jsonl", "eval-test.jsonl", ...(config.augmentAll ? (["eval-train.jsonl"] as const) : []), "adapter.gguf"] as const;
      for (const file of reused) if (!run.has(t, file)) await writeFileAtomic(run.file(t, file), await readFile(run.file(t - 1, file)));
      await run.event({ t, stage: "train", event: "reused", from: t - 1 });
    }
    const previous = config.continueFromPrevious && t > 0 ? run.file(t - 1, "adapter.gguf") : undefined;
    await stageOnce(run, t, "adapter.gguf", observer, "train", () => parts.trainStudent(data, { iteration: t, outAdapter: run.file(t, "adapter.gguf"), initAdapter: previous }));

    const isLast = t === iterations - 1;
    const sourcePool = config.augmentAll ? data : seedSet;
    const { seedEval, sourceEval, testEval } = await evaluations(run, t, parts, config, seedSet, sourcePool, testSet, observer);

    let kept: Example[] = [];
    let dropped: Record<string, number> = {};
    let rounds = noRounds;
    const sources = sourceSelectors[config.sources].select(sourceEval);
    if (!isLast && !(config.oneShot && t > 0)) {
      const result = await stage<AugmentStageResult>(
        run, t, "augmented.jsonl", observer, "augment",
        async () => {
          if (sources.length === 0) return { kept: [] as Example[], dropped: {}, rounds: noRounds };
          const teacher = await parts.openTeacher();
          try {
            const answers = new Map(sourceEval.map((e) => [e.example.id, e.prediction]));
            const counts = config.oneShot && config.oneShotExamples !== undefined ? spreadEvenly(config.oneShotExamples, sources.length) : undefined;
            const requests = sources.map((example, i) => ({ example, studentAnswer: answers.get(example.id) ?? "", ...(counts ? { count: counts[i]! } : {}) }));
            const r = await parts.augment(teacher, requests, { k, iteration: t, existing: data });
            const rounds: AugmentRounds = { wanted: r.wanted, teacher_requests: r.prompts, rounds_used: r.roundsUsed, short_sources: r.shortSources, missing_examples: r.missingExamples, requests_per_round: r.requestsPerRound };
            await run.writeJson(run.file(t, "augment-drops.json"), r.dropped);
            await run.writeJson(run.file(t, "augment-rounds.json"), rounds);
            return { kept: r.kept, dropped: r.dropped, rounds };
          } finally {
            await teacher.dispose();
          }
        },
        (r) => run.writeJsonl(run.file(t, "augmented.jsonl"), r.kept),
        async (f) => ({ kept: await run.readJsonl<Example>(f), dropped: await readDrops(run, t), rounds: await readRounds(run, t) }),
      );
      kept = result.kept;
      dropped = result.dropped;
      rounds = result.rounds;
    }

    const metrics: IterationMetrics = {
      t,
      seed_accuracy: accuracy(seedEval),
      test_accuracy: accuracy(testEval),
      train_size: data.length,
      // Augmented examples that would not fit were dropped at augmentation: only seed examples can be left out here.
      train_dropped: parts.lengths.trainDropped,
      sources: sources.length,
      kept: kept.length,
      dropped,
      wanted: rounds.wanted,
      teacher_requests: rounds.teacher_requests,
      rounds_used: rounds.rounds_used,
      short_sources: rounds.short_sources,
      missing_examples: rounds.missing_examples,
    };
    await run.writeJson(run.file(t, "metrics.json"), metrics);
    history.push(metrics);
    await run.writeJson(run.metricsPath, { lengths: parts.lengths.summary, iterations: history });
    observer.iterationDone(metrics);
    data = [...data, ...kept];
  }
  return history;
}

async function evaluations(run: RunDirectory, t: number, parts: LoopParts, config: RunConfig, seedSet: Example[], sourcePool: Example[], testSet: Example[], observer: LoopObserver) {
  const files = ["eval-seed.jsonl", "eval-test.jsonl", ...(config.augmentAll ? (["eval-train.jsonl"] as const) : [])] as const;
  const byId = (examples: Example[]) => new Map(examples.map((e) => [e.id, e]));
  const missing = files.filter((f) => !run.has(t, f));
  if (missing.length > 0) {
    // One student load serves every evaluation of this iteration.
    const student = await parts.openStudent(run.file(t, "adapter.gguf"));
    try {
      for (const file of missing) {
        const examples = file === "eval-seed.jsonl" ? seedSet : file === "eval-test.jsonl" ? testSet : sourcePool;
        const name = file.replace(".jsonl", "");
        observer.stage(t, name, examples.length);
        await run.event({ t, stage: name, event: "start" });
        const started = Date.now();
        const evaluated = await evaluateStudent(student, parts.task, examples, { mode: config.evalSampling, seed: config.seed, maxTokens: parts.lengths.evalMaxTokens }, () => observer.progress(1));
        await run.writeJsonl(run.file(t, file), evaluated.map(evaluationRow));
        await run.event({ t, stage: name, event: "end", seconds: (Date.now() - started) / 1000, examples: examples.length });
      }
    } finally {
      await student.dispose();
    }
  }
  const load = async (file: (typeof files)[number] | "eval-train.jsonl", examples: Example[]): Promise<EvaluatedExample[]> => {
    const ids = byId(examples);
    const rows = await run.readJsonl<ReturnType<typeof evaluationRow>>(run.file(t, file));
    return rows.map((r) => ({ example: ids.get(r.id)!, prediction: r.prediction, correct: r.correct }));
  };
  const seedEval = await load("eval-seed.jsonl", seedSet);
  const testEval = await load("eval-test.jsonl", testSet);
  const sourceEval = config.augmentAll ? await load("eval-train.jsonl", sourcePool) : seedEval;
  return { seedEval, sourceEval, testEval };
}

/** A stage with a result: computed and saved when its file is missing, read back otherwise. */
async function stage<T>(run: RunDirectory, t: number, file: "train.jsonl" | "augmented.jsonl", observer: LoopObserver, name: string, compute: () => T | Promise<T>, save: (value: T) => Promise<void>, load: (file: string) => Promise<T>): Promise<T> {
  const path = run.file(t, file);
  if (run.has(t, file)) return load(path);
  observer.stage(t, name);
  await run.event({ t, stage: name, event: "start" });
  const started = Date.now();
  const value = await compute();
  await save(value);
  await run.event({ t, stage: name, event: "end", seconds: (Date.now() - started) / 1000 });
  return value;
}

/** A stage that writes its own file (training writes the adapter). */
async function stageOnce(run: RunDirectory, t: number, file: "adapter.gguf", observer: LoopObserver, name: string, compute: () => Promise<unknown>): Promise<void> {
  if (run.has(t, file)) return;
  observer.stage(t, name);
  await run.event({ t, stage: name, event: "start" });
  const started = Date.now();
  const detail = await compute();
  await run.event({ t, stage: name, event: "end", seconds: (Date.now() - started) / 1000, detail });
}

async function readRounds(run: RunDirectory, t: number): Promise<AugmentRounds> {
  try {
    return await run.readJson<AugmentRounds>(run.file(t, "augment-rounds.json"));
  } catch {
    return noRounds;
  }
}

async function readDrops(run: RunDirectory, t: number): Promise<Record<string, number>> {
  try {
    return await run.readJson<Record<string, number>>(run.file(t, "augment-drops.json"));
  } catch {
    return {};
  }
}
