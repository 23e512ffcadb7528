/** report.html (self-contained: inline CSS and SVG, no scripts, works offline) and report.md from the same data. */
import type { ReportData } from "./reportData.js";
import { escapeHtml as h, escapeMarkdownCell as md } from "./escape.js";
import { verifierAcceptance } from "../verifierAcceptance.js";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function dropSummary(dropped: Record<string, number>): string {
  const entries = Object.entries(dropped).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([reason, n]) => `${reason}: ${n}`).join(", ") : "none";
}

/** "kept of asked, rounds, shortfall": how far the retry rounds filled k (older runs have no `wanted`). */
function keptSummary(m: ReportData["iterations"][number]): string {
  if (!m.wanted) return String(m.kept);
  const short = m.short_sources ? `; ${m.short_sources} sources short by ${m.missing_examples}` : "";
  return `${m.kept} of ${m.wanted} (${m.rounds_used} round${m.rounds_used === 1 ? "" : "s"}, ${m.teacher_requests} requests${short})`;
}

/** "passed/reached (rate)" for the verifier over the whole run, or "not reached" when nothing got that far. */
function verifierLine(data: ReportData): string {
  const dropped: Record<string, number> = {};
  let kept = 0;
  for (const m of data.iterations) {
    kept += m.kept;
    for (const [k, v] of Object.entries(m.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
  }
  const v = verifierAcceptance(kept, dropped);
  return v.rate === undefined ? "no teacher example reached the verifier" : `${v.passed} of ${v.reached} valid teacher examples passed the verifier (${pct(v.rate)}; only math has one: it recomputes every step)`;
}

/** The length plan in one paragraph: budgets, contexts, and what was left out or cut (never silently). */
export function lengthsLine(data: ReportData): string {
  const l = data.lengths;
  if (!l || l.train_max_tokens === undefined) return "No length plan recorded for this run.";
  const augmentDrops = data.iterations.reduce((n, m) => n + (m.dropped["length:too-long-to-train"] ?? 0), 0);
  return (
    `Training length ${l.train_max_tokens} tokens (${l.train_dropped ?? 0} seed examples longer, left out of training); ` +
    `student answer budget ${l.eval_max_tokens} tokens (${l.eval_cut ?? 0} gold answers longer, cut); student context ${l.student_context}; ` +
    `teacher budget ${l.teacher_max_tokens} tokens for up to ${l.max_examples_per_request} examples per request; teacher context ${l.teacher_context}; ` +
    `${augmentDrops} teacher examples too long to train on, dropped at augmentation`
  );
}

function timingTable(data: ReportData): { stage: string; seconds: number }[] {
  const byStage = new Map<string, number>();
  for (const t of data.timings) byStage.set(t.stage, (byStage.get(t.stage) ?? 0) + t.seconds);
  return [...byStage].map(([stage, seconds]) => ({ stage, seconds }));
}

export function renderHtml(data: ReportData, plotSvg: string): string {
  const rows = data.iterations
    .map((m) => `<tr><td>${m.t}</td><td>${pct(m.seed_accuracy)}</td><td>${pct(m.test_accuracy)}</td><td>${m.train_size}</td><td>${m.sources}</td><td>${h(keptSummary(m))}</td><td>${h(dropSummary(m.dropped))}</td></tr>`)
    .join("\n");
  const timings = timingTable(data).map((t) => `<tr><td>${h(t.stage)}</td><td>${t.seconds.toFixed(1)} s</td></tr>`).join("\n");
  const samples = data.samples
    .map(
      (s) => `<section class="sample"><h3>Iteration ${s.t}: seed example ${h(s.seed.id)}</h3>
<p class="label">Question</p><pre>${h(s.seed.question)}</pre>
<p class="label">Gold answer</p><pre>${h(s.seed.answer)}</pre>
<p class="label">Student answered</p><pre>${h(s.studentAnswer)}</pre>
<p class="label">Teacher wrote (${s.written.length} kept)</p>${s.written.map((w) => `<pre>${h(w.question)}\n→ ${h(w.answer)}</pre>`).join("") || "<p>nothing kept</p>"}
</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>llm2llm report: ${h(data.name)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}pre{background:#f8f8f8;padding:.5em;white-space:pre-wrap;word-break:break-word}
.label{margin:.4em 0 0;font-weight:600}.sample{border-top:1px solid #ddd;margin-top:1em}
</style></head><body>
<h1>llm2llm run: ${h(data.name)}</h1>
<p>Task <b>${h(data.config.task ?? "?")}</b>, student <code>${h(data.config.student ?? "?")}</code>, teacher <code>${h(data.config.teacher ?? data.config.teacherUrl ?? "?")}</code>,
${h(data.config.iterations ?? "?")} iterations, k = ${h(data.config.k ?? "?")}.</p>
<h2>Accuracy</h2>
<figure id="accuracy-plot">${plotSvg}</figure>
<table><thead><tr><th>iteration</th><th>seed accuracy</th><th>test accuracy</th><th>train size</th><th>wrong seed examples</th><th>new examples kept of asked (teacher rounds)</th><th>dropped (reason: count)</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p id="verifier">${h(verifierLine(data))}.</p>
<p id="lengths">${h(lengthsLine(data))}.</p>
<h2>Time per stage (all iterations)</h2>
<table><thead><tr><th>stage</th><th>time</th></tr></thead><tbody>
${timings}
</tbody></table>
<h2>Wrong seed examples and what the teacher wrote</h2>
${samples || "<p>No augmentation happened in this run.</p>"}
</body></html>
`;
}

export function renderMarkdown(data: ReportData): string {
  const lines = [
    `# llm2llm run: ${md(data.name)}`,
    "",
    `Task **${md(data.config.task ?? "?")}**, ${md(data.config.iterations ?? "?")} iterations, k = ${md(data.config.k ?? "?")}.`,
    "",
    "| iteration | seed accuracy | test accuracy | train size | wrong seed examples | kept of asked (teacher rounds) | dropped |",
    "|---:|---:|---:|---:|---:|---:|---|",
    ...data.iterations.map((m) => `| ${m.t} | ${pct(m.seed_accuracy)} | ${pct(m.test_accuracy)} | ${m.train_size} | ${m.sources} | ${md(keptSummary(m))} | ${md(dropSummary(m.dropped))} |`),
    "",
    `${verifierLine(data)}.`,
    "",
    `${lengthsLine(data)}.`,
    "",
    "## Time per stage",
    "",
    "| stage | seconds |",
    "|---|---:|",
    ...timingTable(data).map((t) => `| ${md(t.stage)} | ${t.seconds.toFixed(1)} |`),
    "",
    "## Wrong seed examples and what the teacher wrote",
    "",
    ...data.samples.flatMap((s) => [
      `- iteration ${s.t}, **${md(s.seed.id)}**: ${md(s.seed.question)} — gold: ${md(s.seed.answer)} — student: ${md(s.studentAnswer)}`,
      ...s.written.map((w) => `  - teacher: ${md(w.question)} → ${md(w.answer)}`),
    ]),
    "",
  ];
  return lines.join("\n");
}
