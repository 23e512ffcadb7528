/**
 * The LLM2LLM loop (Lee et al. 2024, Algorithm 1; DESIGN.md §1):
 *
 *   D = D0
 *   for t in 0 .. n-1:
 *     S_t   = finetune_lora(S0, D)       fresh LoRA on the base (or from S_{t-1} with --continue)
 *     W_t   = wrong(S_t, D0)             seed set only (all of D with --augment-all)
 *     acc_t = accuracy(S_t, T)           reported only; T never feeds training or prompts
 *     if t == n-1: break
 *     A_t   = filter(teacher(W_t, k))    k new examples per wrong example
 *     D     = D ∪ A_t
 *
 * Each stage writes one file of runs/<name>/iterations/<t>/ atomically; a stage whose file exists is done, so a
 * resumed run skips it and, every stage being seeded, ends with the same data as a run that never stopped.
 */
import type { Example } from "../seams.js";
import { accuracy, evaluateStudent, evaluationRow } from "./evaluate.js";
import type { LoopParts } from "./loopParts.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";
import { sourceSelectors, type EvaluatedExample } from "./sourceSelection.js";
import type { LoopObserver } from "./observer.js";
import { examplesPerSource } from "./planRun.js";

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
}

export async function runLoop(config: RunConfig, run: RunDirectory, parts: LoopParts, seedSet: Example[], testSet: Example[], observer: LoopObserver): Promise<IterationMetrics[]> {
  const iterations = config.oneShot ? Math.min(2, config.iterations) : config.iterations;
  // One-shot ablation: the same total number of new examples, asked for all at once after iteration 0.
  const k = examplesPerSource(config);
  const history: IterationMetrics[] = [];
  let data = seedSet;

  for (let t = 0; t < iterations; t++) {
    data = await stage(run, t, "train.jsonl", observer, "data", () => data, (d) => run.writeJsonl(run.file(t, "train.jsonl"), d), (f) => run.readJsonl<Example>(f));

    const previous = config.continueFromPrevious && t > 0 ? run.file(t - 1, "adapter.gguf") : undefined;
    await stageOnce(run, t, "adapter.gguf", observer, "train", () => parts.trainStudent(data, { iteration: t, outAdapter: run.file(t, "adapter.gguf"), initAdapter: previous }));

    const isLast = t === iterations - 1;
    const sourcePool = config.augmentAll ? data : seedSet;
    const { seedEval, sourceEval, testEval } = await evaluations(run, t, parts, config, seedSet, sourcePool, testSet, observer);

    let kept: Example[] = [];
    let dropped: Record<string, number> = {};
    const sources = sourceSelectors[config.sources].select(sourceEval);
    if (!isLast && !(config.oneShot && t > 0)) {
      const result = await stage(
        run, t, "augmented.jsonl", observer, "augment",
        async () => {
          if (sources.length === 0) return { kept: [] as Example[], dropped: {} };
          const teacher = await parts.openTeacher();
          try {
            const answers = new Map(sourceEval.map((e) => [e.example.id, e.prediction]));
            const requests = sources.map((example) => ({ example, studentAnswer: answers.get(example.id) ?? "" }));
            const r = await parts.augment(teacher, requests, { k, iteration: t, existing: data });
            await run.writeJson(run.file(t, "augment-drops.json"), r.dropped);
            return { kept: r.kept, dropped: r.dropped };
          } finally {
            await teacher.dispose();
          }
        },
        (r) => run.writeJsonl(run.file(t, "augmented.jsonl"), r.kept),
        async (f) => ({ kept: await run.readJsonl<Example>(f), dropped: await readDrops(run, t) }),
      );
      kept = result.kept;
      dropped = result.dropped;
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
        const evaluated = await evaluateStudent(student, parts.task, examples, parts.lengths.evalMaxTokens, () => observer.progress(1));
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

async function readDrops(run: RunDirectory, t: number): Promise<Record<string, number>> {
  try {
    return await run.readJson<Record<string, number>>(run.file(t, "augment-drops.json"));
  } catch {
    return {};
  }
}
