/**
 * The student S_t answers the seed set D0 (whose wrong answers W_t go to the teacher) and the test set T
 * (acc_t, reported only); with --augment-all also all of D, the ablation's sources. One student load serves
 * every evaluation of the iteration; each set's predictions are iterations/<t>/eval-<set>.jsonl.
 */
import type { Example } from "../seams.js";
import { evaluateStudent, evaluationRow } from "./evaluate.js";
import type { EvaluatedExample } from "./sourceSelection.js";
import type { LoopContext } from "./stage.js";

export interface Evaluations {
  seedEval: EvaluatedExample[];
  /** The augmentation sources' evaluation: the seed set's, or with --augment-all all of D's. */
  sourceEval: EvaluatedExample[];
  testEval: EvaluatedExample[];
}

export async function evaluationStage({ config, run, parts, observer }: LoopContext, t: number, seedSet: Example[], sourcePool: Example[], testSet: Example[]): Promise<Evaluations> {
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
