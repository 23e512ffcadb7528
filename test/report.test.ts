/** The run report: built from a run directory's files, self-contained, escaped, and it opens in a real browser. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunDirectory } from "../src/pipeline/index.js";
import { writeReport } from "../src/pipeline/report/index.js";
import { chromiumPath, haveChromium, launchChromium } from "./helpers/chromium.js";

const hostile = `Is <script>window.__pwned = 1</script> a question & "answer"?`;
let dir: string;
let html: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-report-"));
  const run = new RunDirectory(dir);
  await run.create();
  await run.writeJson(run.configPath, { task: "gsm8k", student: "s.gguf", teacher: "t.gguf", iterations: 2, k: 1 });
  const seed = { id: "seed-0", question: hostile, answer: "2 + 2 = 4\n#### 4" };
  await run.writeJsonl(run.file(0, "train.jsonl"), [seed]);
  await run.writeJsonl(run.file(0, "eval-seed.jsonl"), [{ id: "seed-0", correct: false, prediction: "<b>5</b>", answer: seed.answer }]);
  const written = { id: "aug-0", question: "What is 3 + 3?", answer: "3 + 3 = 6\n#### 6", provenance: { sourceId: "seed-0", iteration: 0, teacherId: "x", promptHash: "y", sampling: { maxTokens: 8 } } };
  await run.writeJsonl(run.file(0, "augmented.jsonl"), [written]);
  await run.writeJson(run.metricsPath, {
    iterations: [
      { t: 0, seed_accuracy: 0, test_accuracy: 0.25, train_size: 1, sources: 1, kept: 1, dropped: { verify: 2 } },
      { t: 1, seed_accuracy: 1, test_accuracy: 0.5, train_size: 2, sources: 0, kept: 0, dropped: {} },
    ],
  });
  await run.event({ t: 0, stage: "train", event: "end", seconds: 1.5 });
  html = (await writeReport(run)).html;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("report", () => {
  it("escapes dataset text and holds the plot inline", async () => {
    const text = await readFile(html, "utf8");
    expect(text).not.toContain("<script>");
    expect(text).toContain("&lt;script&gt;window.__pwned");
    expect(text).toMatch(/<svg[^>]*>/);
    expect(text).not.toMatch(/(src|href)="https?:/);
    const markdown = await readFile(path.join(dir, "report.md"), "utf8");
    expect(markdown).toContain("| 1 | 100.0% | 50.0% | 2 | 0 | 0 | none |");
    expect(markdown).toContain("\\<script\\>");
  });

  it.skipIf(!haveChromium)(`opens in headless Chromium without errors, shows the plot and the <script> line as text (needs ${chromiumPath})`, async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(pathToFileURL(html).href);
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      const plot = await page.locator("#accuracy-plot svg").boundingBox();
      expect(plot!.width).toBeGreaterThan(200);
      expect(await page.locator("#accuracy-plot svg path").count()).toBeGreaterThan(2);
      expect(await page.locator("body").innerText()).toContain("<script>window.__pwned = 1</script>");
    } finally {
      await browser.close();
    }
  });
});
