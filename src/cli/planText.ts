/** The length plan (and the probe's estimate) as `run` and `run --dry-run` print them for a person. */
import type { LengthPlan, Stats } from "../pipeline/lengthPlan.js";
import type { ProbeEstimate } from "../pipeline/probe.js";

const stats = (s: Stats) => `p50 ${s.p50}, p95 ${s.p95}, max ${s.max}${s.longest ? ` (${s.longest})` : ""}`;
const from = (source: "data" | "flag") => (source === "flag" ? "set by flag" : "from the data");
const duration = (s: number) => (s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);

export function planText(plan: LengthPlan): string {
  const { seed, test, teacher } = plan.stats;
  const lines = [
    `seed set: ${seed.train.examples} examples; tokens: prompt ${stats(seed.prompt)}; completion ${stats(seed.completion)}; prompt + completion + EOS ${stats(seed.train)}`,
    `test set: ${test.prompt.examples} examples; tokens: prompt ${stats(test.prompt)}; completion ${stats(test.completion)}`,
    `teacher prompt (${plan.teacherTokenizer === "teacher" ? "teacher's tokenizer and chat template" : "student's tokenizer: an endpoint's is not at hand"}, ${plan.teacherPromptStyle} style): ${stats(teacher.prompt)}; a source as one JSON item: ${stats(teacher.item)}`,
    `training length: ${plan.trainMaxTokens} tokens (${from(plan.from.trainMaxTokens)})`,
    `student answer budget: ${plan.evalMaxTokens} tokens (${from(plan.from.evalMaxTokens)}); student context: ${plan.studentContext} tokens per sequence (${from(plan.from.studentContext)}; trained context ${plan.studentTrainedContext})`,
    `teacher budget: ${plan.teacherMaxTokens} tokens for up to ${plan.maxExamplesPerRequest} example${plan.maxExamplesPerRequest === 1 ? "" : "s"} per request (${plan.examplesPerSource} asked per source; ${from(plan.from.teacherMaxTokens)}); ` +
      `teacher context: ${plan.teacherContext} tokens per sequence (${from(plan.from.teacherContext)}${plan.teacherTrainedContext === undefined ? "; endpoint: the server's own" : `; trained context ${plan.teacherTrainedContext}`})`,
  ];
  if (plan.trainDropped.length === 0 && plan.evalCut.length === 0) lines.push("dropped or cut: nothing");
  for (const d of plan.trainDropped) lines.push(`dropped from training: seed example ${d.id} (${d.tokens} tokens): ${d.why}`);
  for (const c of plan.evalCut) lines.push(`cut in evaluation: ${c.set} example ${c.id} (gold ${c.tokens} tokens): ${c.why}`);
  return lines.join("\n");
}

export function probeText(probe: ProbeEstimate): string {
  const t = probe.teacher;
  return [
    `probe on this machine: trainer ${probe.trainer.tokensPerSecond.toFixed(0)} tokens/s → ${duration(probe.trainer.seconds)} of training in iteration 0`,
    `  evaluator ${probe.evaluator.tokensPerSecond.toFixed(1)} tokens/s → ${duration(probe.evaluator.seconds)} per evaluation of seed + test (answers as long as the gold ones; ${duration(probe.evaluator.secondsAtBudget)} if every answer runs to the budget)`,
    "skipped" in t ? `  teacher: ${t.skipped}` : `  teacher ${t.tokensPerSecond.toFixed(1)} tokens/s → at most ${duration(t.seconds)} if every seed example goes to it (one sequence, full budgets)`,
    `  about ${duration(probe.secondsPerIteration)} per iteration`,
  ].join("\n");
}
