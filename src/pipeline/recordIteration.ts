/** The end of an iteration: its metrics in iterations/<t>/metrics.json, the run's metrics.json and the live view. */
import type { Example } from "../seams.js";
import type { Augmented } from "./augmentStage.js";
import { accuracy } from "./evaluate.js";
import type { Evaluations } from "./evaluationStage.js";
import type { IterationMetrics } from "./iterationMetrics.js";
import type { LoopContext } from "./stage.js";

/** Appends iteration t's metrics to `history` (what the run's metrics.json holds). */
export async function recordIteration({ run, parts, observer }: LoopContext, t: number, history: IterationMetrics[], data: Example[], sources: Example[], { seedEval, testEval }: Evaluations, { kept, dropped, rounds }: Augmented): Promise<void> {
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
}
