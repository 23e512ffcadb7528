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
 * Each stage (stage.ts) writes its files of runs/<name>/iterations/<t>/ atomically; a stage whose file exists is
 * done, so a resumed run skips it and, every stage being seeded, ends with the same data as a run that never stopped.
 */
import type { Example } from "../seams.js";
import { augmentStage, notAugmented } from "./augmentStage.js";
import { evaluationStage } from "./evaluationStage.js";
import type { IterationMetrics } from "./iterationMetrics.js";
import type { LoopParts } from "./loopParts.js";
import type { LoopObserver } from "./observer.js";
import { recordIteration } from "./recordIteration.js";
import type { RunConfig } from "./runConfig.js";
import type { RunDirectory } from "./runDirectory.js";
import { sourceSelectors } from "./sourceSelection.js";
import { trainingDataStage, type LoopContext } from "./stage.js";
import { trainStage } from "./trainStage.js";

export async function runLoop(config: RunConfig, run: RunDirectory, parts: LoopParts, seedSet: Example[], testSet: Example[], observer: LoopObserver): Promise<IterationMetrics[]> {
  const loop: LoopContext = { config, run, parts, observer };
  // The one-shot ablation asks the teacher once, after iteration 0, for the whole run's new examples.
  const iterations = config.oneShot ? Math.min(2, config.iterations) : config.iterations;
  const history: IterationMetrics[] = [];
  let data = seedSet; // D = D0

  for (let t = 0; t < iterations; t++) {
    data = await trainingDataStage(loop, t, data); // iterations/<t>/train.jsonl
    await trainStage(loop, t, data, history[t - 1]); // S_t = finetune_lora(S0, D)
    const sourcePool = config.augmentAll ? data : seedSet;
    const evaluations = await evaluationStage(loop, t, seedSet, sourcePool, testSet); // S_t on D0 and T: acc_t
    const wrong = sourceSelectors[config.sources].select(evaluations.sourceEval); // W_t = wrong(S_t, D0)
    const asksTeacher = t < iterations - 1 && !(config.oneShot && t > 0); // if t == n-1: break
    const augmented = asksTeacher ? await augmentStage(loop, t, wrong, evaluations.sourceEval, data) : notAugmented; // A_t
    await recordIteration(loop, t, history, data, wrong, evaluations, augmented);
    data = [...data, ...augmented.kept]; // D = D ∪ A_t
  }
  return history;
}
