/**
 * The embedded toy datasets (datasets/): the generator reproduces the committed files byte for byte, the
 * files load as the project's tasks, every math step recomputes, the seed set is skewed as documented,
 * and no input text is shared between test, seed, teacher pairs and pool.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeToyDatasets, datasetsRoot } from "../datasets/generator/generate.js";
import { INTENT_SEED_COUNTS, MATH_SEED_COUNTS } from "../datasets/generator/buildTasks.js";
import { MATH_SKILLS, numbersSentence } from "../datasets/generator/toyMath.js";
import { INTENTS } from "../datasets/generator/toyIntents.js";
import { loadDataset } from "../src/data/loadDataset.js";
import { resolveTask } from "../src/tasks/resolveTask.js";

const FILES = ["pool.jsonl", "seed.jsonl", "test.jsonl", "teacher.jsonl", "manifest.json"];
const TASKS = ["toy-math", "toy-intents"];

function rows(task: string, file: string): Record<string, any>[] {
  return readFileSync(path.join(datasetsRoot, task, file), "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}
/** A pool row's question: up to its question mark (a read-back sentence may follow). */
const questionPart = (text: string) => text.slice(0, text.indexOf("?") + 1) || text;

const manifest = (task: string) => JSON.parse(readFileSync(path.join(datasetsRoot, task, "manifest.json"), "utf8"));

/** Recomputes every `a op b = c` line and checks that `#### N` is the last step's result. */
function checkRationale(answer: string): string | undefined {
  const lines = answer.split("\n");
  const final = /^#### (\d+)$/.exec(lines.pop() ?? "");
  if (!final) return "no final `#### N` line";
  if (lines.length === 0) return "no steps";
  let last: number | undefined;
  for (const line of lines) {
    const step = /^(\d+) ([-+*]) (\d+) = (\d+)$/.exec(line);
    if (!step) return `not an \`a op b = c\` step: ${line}`;
    const [a, b, c] = [Number(step[1]), Number(step[3]), Number(step[4])];
    const value = step[2] === "+" ? a + b : step[2] === "-" ? a - b : a * b;
    if (value !== c) return `wrong step: ${line}`;
    last = c;
  }
  return last === Number(final[1]) ? undefined : `final ${final[1]} is not the last step's ${last}`;
}

describe("toy datasets generator", () => {
  const outDir = mkdtempSync(path.join(tmpdir(), "llm2llm-toy-datasets-"));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("regenerates the committed files byte for byte", () => {
    const written = writeToyDatasets(outDir);
    expect(written).toHaveLength(TASKS.length * FILES.length);
    for (const task of TASKS) {
      for (const file of FILES) {
        const fresh = readFileSync(path.join(outDir, task, file));
        const committed = readFileSync(path.join(datasetsRoot, task, file));
        expect(fresh.equals(committed), `${task}/${file} differs from a fresh build: run npm run build:datasets`).toBe(true);
      }
    }
  });

  it("keeps the committed files small", () => {
    const bytes = TASKS.flatMap((task) => FILES.map((file) => statSync(path.join(datasetsRoot, task, file)).size));
    expect(bytes.reduce((a, b) => a + b, 0)).toBeLessThan(3 * 1024 * 1024);
  });
});

describe("toy-math", () => {
  const m = manifest("toy-math");

  it("seed and test load as the gsm8k task, and every gold answer is correct by the task's own scoring", async () => {
    const task = resolveTask("gsm8k");
    for (const file of ["seed.jsonl", "test.jsonl"]) {
      const dataset = await loadDataset(path.join(datasetsRoot, "toy-math", file));
      expect(dataset.kind).toBe("math");
      for (const example of dataset.examples) {
        expect(task.invalidReason(example), example.question).toBeUndefined();
        expect(task.isCorrect(task.formatCompletion(example), example)).toBe(true);
      }
    }
  });

  it("every step of every answer recomputes (seed, test, both sides of each teacher pair)", () => {
    const answers = [
      ...rows("toy-math", "seed.jsonl").map((r) => r.answer),
      ...rows("toy-math", "test.jsonl").map((r) => r.answer),
      ...rows("toy-math", "teacher.jsonl").flatMap((r) => [r.source.answer, r.similar.answer]),
    ];
    for (const answer of answers) expect(checkRationale(answer), answer).toBeUndefined();
  });

  it("rows hold exactly the task fields, and the manifest counts match the files", () => {
    for (const r of [...rows("toy-math", "seed.jsonl"), ...rows("toy-math", "test.jsonl")]) expect(Object.keys(r)).toEqual(["question", "answer"]);
    expect(rows("toy-math", "seed.jsonl")).toHaveLength(m.seedSet.rows);
    expect(m.seedSet.rowPhrasings).toHaveLength(m.seedSet.rows);
    expect(rows("toy-math", "test.jsonl")).toHaveLength(m.test.rows);
    // Two-step skills are exactly the rows with two steps.
    const seed = rows("toy-math", "seed.jsonl");
    seed.forEach((r, i) => {
      const twoStep = /^(buy_then_give|groups_plus_extra)\//.test(m.seedSet.rowPhrasings[i]);
      expect(r.answer.split("\n").length, r.question).toBe(twoStep ? 3 : 2);
    });
  });

  it("the seed set is skewed (two-step skills and rare phrasings barely present); the test set is uniform over skills", () => {
    expect(m.seedSet.perKind).toEqual(Object.fromEntries(Object.entries(MATH_SEED_COUNTS).sort()));
    expect(m.seedSet.perKind.buy_then_give).toBeLessThanOrEqual(3);
    expect(m.seedSet.perKind.groups_plus_extra).toBeLessThanOrEqual(3);
    const rare = MATH_SKILLS.flatMap((k) => k.phrasings.filter((p) => p.rareInSeed).map((p) => p.id));
    const rareInSeed = rare.reduce((sum, id) => sum + (m.seedSet.perPhrasing[id] ?? 0), 0);
    expect(rareInSeed).toBeLessThanOrEqual(5);
    for (const skill of MATH_SKILLS) expect(m.test.perKind[skill.name]).toBe(50);
    for (const id of rare) expect(m.test.perPhrasing[id], id).toBeGreaterThan(0);
  });

  it("test, seed, teacher pairs and pool share no question", () => {
    const test = new Set(rows("toy-math", "test.jsonl").map((r) => r.question));
    const seed = rows("toy-math", "seed.jsonl").map((r) => r.question);
    expect(new Set(seed).size).toBe(seed.length);
    for (const q of seed) expect(test.has(q)).toBe(false);
    const heldOut = new Set([...test, ...seed]);
    for (const r of rows("toy-math", "teacher.jsonl")) {
      expect(heldOut.has(r.source.question) || heldOut.has(r.similar.question)).toBe(false);
      expect(r.source.question).not.toBe(r.similar.question);
    }
    for (const r of rows("toy-math", "pool.jsonl")) expect(heldOut.has(questionPart(r.text))).toBe(false);
  });

  it("a teacher pair's similar question is its source with new numbers: same phrasing, names and objects", () => {
    const withoutNumbers = (q: string) => q.replace(/\d+/g, "N");
    for (const r of rows("toy-math", "teacher.jsonl")) expect(withoutNumbers(r.similar.question)).toBe(withoutNumbers(r.source.question));
  });

  it("the pool holds questions without solutions and correct arithmetic facts, never the answer format", () => {
    const pool = rows("toy-math", "pool.jsonl");
    let facts = 0;
    let readBacks = 0;
    for (const r of pool) {
      expect(Object.keys(r)).toEqual(["text"]);
      expect(r.text).not.toContain("####");
      if (/^\d/.test(r.text)) {
        for (const line of r.text.split("\n")) expect(checkRationale(`${line}\n#### ${line.split(" = ")[1]}`), line).toBeUndefined();
        facts++;
      } else {
        // A question, optionally followed by its numbers read back in order — and nothing computed.
        const question = questionPart(r.text);
        expect(question).toMatch(/\?$/);
        const readBack = r.text.slice(question.length);
        if (readBack !== "") {
          readBacks++;
          expect(readBack).toBe(` ${numbersSentence(question)}`);
          expect(readBack).not.toMatch(/[-+*=]/);
        }
      }
    }
    expect(facts).toBe(m.pool.factRows);
    expect(readBacks).toBe(m.pool.readBack);
    expect(pool.length - facts).toBe(m.pool.questions);
  });
});

describe("toy-intents", () => {
  const m = manifest("toy-intents");
  const labels = INTENTS.map((k) => k.name);

  it("seed and test load as classification with the seven intents", async () => {
    for (const file of ["seed.jsonl", "test.jsonl"]) {
      const dataset = await loadDataset(path.join(datasetsRoot, "toy-intents", file));
      expect(dataset.kind).toBe("classification");
      expect(dataset.labels).toEqual([...labels].sort());
      const task = resolveTask("classification", { labels });
      for (const example of dataset.examples) {
        expect(task.invalidReason(example)).toBeUndefined();
        expect(task.isCorrect(task.formatCompletion(example), example)).toBe(true);
      }
    }
  });

  it("the seed set is skewed (two intents and the rare phrasings barely present); the test set is uniform over intents", () => {
    expect(m.seedSet.perKind).toEqual(Object.fromEntries(Object.entries(INTENT_SEED_COUNTS).sort()));
    const seed = rows("toy-intents", "seed.jsonl");
    for (const r of seed) expect(Object.keys(r)).toEqual(["text", "label"]);
    seed.forEach((r, i) => expect(m.seedSet.rowPhrasings[i].startsWith(`${r.label}/`)).toBe(true));
    const rare = INTENTS.flatMap((k) => k.phrasings.filter((p) => p.rareInSeed).map((p) => p.id));
    expect(rare.reduce((sum, id) => sum + (m.seedSet.perPhrasing[id] ?? 0), 0)).toBeLessThanOrEqual(4);
    for (const label of labels) expect(m.test.perKind[label]).toBe(50);
    for (const id of rare) expect(m.test.perPhrasing[id], id).toBeGreaterThan(0);
  });

  it("test, seed, teacher pairs and pool share no utterance; teacher pairs keep their label; the pool has no labels", () => {
    const test = new Set(rows("toy-intents", "test.jsonl").map((r) => r.text));
    const seed = rows("toy-intents", "seed.jsonl").map((r) => r.text);
    for (const t of seed) expect(test.has(t)).toBe(false);
    const heldOut = new Set([...test, ...seed]);
    for (const r of rows("toy-intents", "teacher.jsonl")) {
      expect(heldOut.has(r.source.text) || heldOut.has(r.similar.text)).toBe(false);
      expect([r.source.label, r.similar.label]).toEqual([r.label, r.label]);
      expect(r.source.text).not.toBe(r.similar.text);
    }
    for (const r of rows("toy-intents", "pool.jsonl")) {
      expect(Object.keys(r)).toEqual(["text"]);
      expect(heldOut.has(r.text)).toBe(false);
    }
  });
});
