/** Builds runs/<name>/report.html and report.md from the run's files (also `llm2llm report runs/<name>`). */
import path from "node:path";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import type { RunDirectory } from "../runDirectory.js";
import { accuracyPlotSvg } from "./accuracyPlot.js";
import { readReportData } from "./reportData.js";
import { renderHtml, renderMarkdown } from "./renderReport.js";

export async function writeReport(run: RunDirectory): Promise<{ html: string; markdown: string }> {
  const data = await readReportData(run, path.basename(path.resolve(run.root)));
  const html = path.join(run.root, "report.html");
  const markdown = path.join(run.root, "report.md");
  await writeFileAtomic(html, renderHtml(data, await accuracyPlotSvg(data.iterations)));
  await writeFileAtomic(markdown, renderMarkdown(data));
  return { html, markdown };
}
