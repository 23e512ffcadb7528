/**
 * A stage of the loop: one file of runs/<name>/iterations/<t>/, written atomically. A stage whose file exists
 * is done, so a resumed run skips it and, every stage being seeded, ends with the same data as a run that
 * never stopped. Each stage's start and end go to events.jsonl and to the observer.
 */
import type { Example } from "../seams.js";
import type { LoopParts } from "./loopParts.js";
import type { LoopObserver } from "./observer.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";

/** What every stage works with. */
export interface LoopContext {
  config: RunConfig;
  run: RunDirectory;
  parts: LoopParts;
  observer: LoopObserver;
}

/** A stage with a result: computed and saved when its file is missing, read back otherwise. */
export async function stage<T>(run: RunDirectory, t: number, file: "train.jsonl" | "augmented.jsonl", observer: LoopObserver, name: string, compute: () => T | Promise<T>, save: (value: T) => Promise<void>, load: (file: string) => Promise<T>): Promise<T> {
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
export async function stageOnce(run: RunDirectory, t: number, file: "adapter.gguf", observer: LoopObserver, name: string, compute: () => Promise<unknown>): Promise<void> {
  if (run.has(t, file)) return;
  observer.stage(t, name);
  await run.event({ t, stage: name, event: "start" });
  const started = Date.now();
  const detail = await compute();
  await run.event({ t, stage: name, event: "end", seconds: (Date.now() - started) / 1000, detail });
}

/** D, as iteration t trains on it: train.jsonl, written once, read back on resume. */
export function trainingDataStage({ run, observer }: LoopContext, t: number, data: Example[]): Promise<Example[]> {
  return stage(run, t, "train.jsonl", observer, "data", () => data, (d) => run.writeJsonl(run.file(t, "train.jsonl"), d), (f) => run.readJsonl<Example>(f));
}
