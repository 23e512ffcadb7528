/** Everything the report shows, read back from a run directory's files. */
import { existsSync } from "node:fs";
import type { Example } from "../../seams.js";
import type { PlanSummary } from "../lengthPlan.js";
import type { IterationMetrics } from "../iterationMetrics.js";
import type { RunDirectory } from "../runDirectory.js";

export interface StageTiming {
  t: number;
  stage: string;
  seconds: number;
}

export interface WrongExampleWithAugmentations {
  t: number;
  seed: Example;
  studentAnswer: string;
  written: Example[];
}

export interface ReportData {
  name: string;
  config: Record<string, unknown>;
  iterations: IterationMetrics[];
  /** The run's length plan as metrics.json records it (pipeline/lengthPlan.ts `planSummary`), when present. */
  lengths?: Partial<PlanSummary>;
  timings: StageTiming[];
  /** A few wrong seed examples per iteration with what the teacher wrote for them. */
  samples: WrongExampleWithAugmentations[];
}

export async function readReportData(run: RunDirectory, name: string, samplesPerIteration = 3): Promise<ReportData> {
  const config = existsSync(run.configPath) ? await run.readJson<Record<string, unknown>>(run.configPath) : {};
  const metrics = existsSync(run.metricsPath) ? await run.readJson<{ lengths?: Partial<PlanSummary>; iterations: IterationMetrics[] }>(run.metricsPath) : undefined;
  const iterations = metrics?.iterations ?? [];
  const events = existsSync(run.eventsPath) ? await run.readJsonl<{ t?: number; stage?: string; event?: string; seconds?: number }>(run.eventsPath).catch(() => []) : [];
  const timings = events
    .filter((e) => e.event === "end" && typeof e.seconds === "number" && e.t !== undefined && e.stage !== undefined)
    .map((e) => ({ t: e.t!, stage: e.stage!, seconds: e.seconds! }));

  const samples: WrongExampleWithAugmentations[] = [];
  for (const t of await run.iterationNumbers()) {
    if (!run.has(t, "augmented.jsonl") || !run.has(t, "eval-seed.jsonl") || !run.has(t, "train.jsonl")) continue;
    const train = new Map((await run.readJsonl<Example>(run.file(t, "train.jsonl"))).map((e) => [e.id, e]));
    const augmented = await run.readJsonl<Example>(run.file(t, "augmented.jsonl"));
    const wrong = (await run.readJsonl<{ id: string; correct: boolean; prediction: string }>(run.file(t, "eval-seed.jsonl"))).filter((r) => !r.correct);
    for (const row of wrong.slice(0, samplesPerIteration)) {
      const seed = train.get(row.id);
      if (!seed) continue;
      samples.push({ t, seed, studentAnswer: row.prediction, written: augmented.filter((a) => a.provenance?.sourceId === row.id) });
    }
  }
  return { name, config, iterations, ...(metrics?.lengths ? { lengths: metrics.lengths } : {}), timings, samples };
}
