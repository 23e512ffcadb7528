/**
 * A_t = filter(teacher(W_t, k)): the teacher writes k new examples per wrong example (bounded retry rounds
 * fill k; the one-shot ablation asks for the whole run's new examples at once), the filters keep what parses,
 * validates, verifies and is new against D. Writes iterations/<t>/augmented.jsonl, and beside it the drop
 * reasons and the rounds' counts, so a resumed run reports the same numbers.
 */
import type { Example } from "../seams.js";
import { spreadEvenly } from "../util/spreadEvenly.js";
import type { IterationMetrics } from "./iterationMetrics.js";
import { examplesPerSource } from "./planRun.js";
import type { RunDirectory } from "./runDirectory.js";
import type { EvaluatedExample } from "./sourceSelection.js";
import { stage, type LoopContext } from "./stage.js";

export interface Augmented {
  kept: Example[];
  dropped: Record<string, number>;
  rounds: AugmentRounds;
}
export type AugmentRounds = Pick<IterationMetrics, "wanted" | "teacher_requests" | "rounds_used" | "short_sources" | "missing_examples"> & { requests_per_round: number[] };

const noRounds: AugmentRounds = { wanted: 0, teacher_requests: 0, rounds_used: 0, short_sources: 0, missing_examples: 0, requests_per_round: [] };
/** An iteration that does not ask the teacher (the last one; the one-shot ablation after iteration 0). */
export const notAugmented: Augmented = { kept: [], dropped: {}, rounds: noRounds };

/** `sources` (W_t) with the student's answers from `sourceEval`; `data` is D, what new examples must differ from. */
export function augmentStage({ config, run, parts, observer }: LoopContext, t: number, sources: Example[], sourceEval: EvaluatedExample[], data: Example[]): Promise<Augmented> {
  // One-shot ablation: the same total number of new examples, asked for all at once after iteration 0:
  // k·(n−1) per source, or `oneShotExamples` spread evenly over the sources (the bench passes the iterative run's total).
  const k = examplesPerSource(config);
  return stage<Augmented>(
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
