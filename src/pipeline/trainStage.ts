/**
 * S_t = finetune_lora(S0, D): a fresh LoRA on the base student every iteration (from S_{t-1}'s adapter with
 * --continue), written to iterations/<t>/adapter.gguf.
 */
import { readFile } from "node:fs/promises";
import type { Example } from "../seams.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import type { IterationMetrics } from "./iterationMetrics.js";
import { stageOnce, type LoopContext } from "./stage.js";

export async function trainStage({ config, run, parts, observer }: LoopContext, t: number, data: Example[], previous: IterationMetrics | undefined): Promise<void> {
  // A fresh LoRA trained on the same data with the same seed is the same student (training is seeded), so
  // when the teacher added nothing last iteration, its adapter and evaluations are this one's: copied, not recomputed.
  if (previous && !config.continueFromPrevious && previous.kept === 0) {
    const reused = ["eval-seed.jsonl", "eval-test.jsonl", ...(config.augmentAll ? (["eval-train.jsonl"] as const) : []), "adapter.gguf"] as const;
    for (const file of reused) if (!run.has(t, file)) await writeFileAtomic(run.file(t, file), await readFile(run.file(t - 1, file)));
    await run.event({ t, stage: "train", event: "reused", from: t - 1 });
  }
  const initAdapter = config.continueFromPrevious && t > 0 ? run.file(t - 1, "adapter.gguf") : undefined;
  await stageOnce(run, t, "adapter.gguf", observer, "train", () => parts.trainStudent(data, { iteration: t, outAdapter: run.file(t, "adapter.gguf"), initAdapter }));
}
