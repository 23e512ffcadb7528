import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError } from "../src/errors.js";
import { loadDataset } from "../src/data/loadDataset.js";
import { stratumQuotas, subsample } from "../src/data/subsample.js";
import { writeExamplesJsonl } from "../src/data/writeExamples.js";
import { loadTaskData } from "../src/tasks/loadTaskData.js";
import { datasetsDir, skipWithout } from "./fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-data-"));
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

describe("reading files and detecting shapes", () => {
  it("JSONL {question, answer} with #### answers is math; ids are file stem + line", async () => {
    const f = file("gsm.jsonl", jsonl([{ question: "What is 2+3 here?", answer: "2+3=<<2+3=5>>5\n#### 5" }, { question: "q2?", answer: "1+1=2\n#### 2" }]));
    const d = await loadDataset(f);
    expect(d).toMatchObject({ kind: "math", shape: "question-answer", format: "jsonl" });
    expect(d.examples.map((e) => e.id)).toEqual(["gsm-1", "gsm-2"]);
  });
  it("alpaca JSON arrays join instruction and input", async () => {
    const f = file("alpaca.json", JSON.stringify([{ instruction: "Add the numbers.", input: "2 and 3", output: "2+3=5\n#### 5" }, { instruction: "Double 4.", input: "", output: "4*2=8\n#### 8" }]));
    const d = await loadDataset(f);
    expect(d).toMatchObject({ kind: "math", shape: "alpaca" });
    expect(d.examples[0]!.question).toBe("Add the numbers.\n\n2 and 3");
    expect(d.examples[1]!.question).toBe("Double 4.");
  });
  it("CSV {text, label} is classification with a label set read from the data", async () => {
    const f = file("s.csv", 'text,label\n"great, really",positive\nawful,negative\n"multi\nline",positive\n');
    const d = await loadDataset(f);
    expect(d).toMatchObject({ kind: "classification", shape: "text-label", labels: ["negative", "positive"], labelCounts: { negative: 1, positive: 2 } });
    expect(d.examples[2]!.question).toBe("multi\nline");
  });
  it("label words map raw labels (GLUE 0/1) through a preset", async () => {
    const f = file("glue.csv", "sentence,label,idx\nnice,1,0\nbad,0,1\n");
    const { task, dataset } = await loadTaskData(f, "sst2");
    expect(task.name).toBe("sst2");
    expect(dataset.examples.map((e) => e.answer)).toEqual(["positive", "negative"]);
  });
  it("multiple choice {prompt, choices, label} maps an index to a letter", async () => {
    const f = file("mc.jsonl", jsonl([{ prompt: "The court held", choices: ["a", "b", "c", "d", "e"], label: 3 }]));
    const d = await loadDataset(f);
    expect(d).toMatchObject({ kind: "multiple-choice", shape: "multiple-choice", choiceCount: 5 });
    expect(d.examples[0]!.answer).toBe("D");
  });
  it("chat {messages} takes the last user turn and the assistant reply", async () => {
    const f = file("chat.jsonl", jsonl([
      { messages: [{ role: "system", content: "be nice" }, { role: "user", content: "book a table" }, { role: "assistant", content: "BookRestaurant" }] },
      { messages: [{ role: "user", content: "rain tomorrow?" }, { role: "assistant", content: "GetWeather" }] },
      { messages: [{ role: "user", content: "rain today?" }, { role: "assistant", content: "GetWeather" }] },
      { messages: [{ role: "user", content: "a table for two" }, { role: "assistant", content: "BookRestaurant" }] },
    ]));
    const d = await loadDataset(f);
    expect(d).toMatchObject({ kind: "classification", shape: "chat", labels: ["BookRestaurant", "GetWeather"] });
    expect(d.examples[0]).toMatchObject({ question: "book a table", answer: "BookRestaurant" });
  });
  it("explicit field mapping settles unknown fields", async () => {
    const f = file("odd.jsonl", jsonl([{ body: "refund please", queue: "billing" }, { body: "it crashes", queue: "bug" }]));
    await expect(loadDataset(f)).rejects.toThrow(/unknown fields "body", "queue".*--input-field/);
    const d = await loadDataset(f, { fields: { input: "body", label: "queue" } });
    expect(d).toMatchObject({ kind: "classification", shape: "mapped", labels: ["billing", "bug"] });
    await expect(loadDataset(f, { fields: { input: "nope" } })).rejects.toThrow(/--input-field "nope": no such field/);
  });
  it("keeps an id field and provenance", async () => {
    const f = file("ids.jsonl", jsonl([{ id: "a7", question: "q?", answer: "1+1=2\n#### 2", provenance: { sourceId: "s", iteration: 1 } }]));
    const d = await loadDataset(f);
    expect(d.examples[0]).toMatchObject({ id: "a7", provenance: { sourceId: "s", iteration: 1 } });
  });
});

describe("bad input is a DataFormatError naming file and line", () => {
  const cases: [string, string, RegExp][] = [
    ["broken.jsonl", '{"text": "ok", "label": "a"}\n{"text": "oops", "label": \n', /broken\.jsonl:2: not valid JSON/],
    ["empty.jsonl", "\n\n", /empty\.jsonl: empty file/],
    ["header-only.csv", "text,label\n", /header-only\.csv: empty file/],
    ["nolabel.csv", "text,comment\nhello,x\n", /nolabel\.csv: label column missing/],
    ["missing.jsonl", jsonl([{ text: "a", label: "x" }, { text: "b", label: "y" }, { text: "c" }]), /missing\.jsonl:3: missing field "label"/],
    ["unknown.jsonl", jsonl([{ foo: 1, bar: 2 }]), /unknown\.jsonl: unknown fields "foo", "bar"/],
    ["array.jsonl", "[1,2]\n", /array\.jsonl:1: expected a JSON object/],
    ["dup.jsonl", jsonl([{ id: 1, text: "a", label: "x" }, { id: 1, text: "b", label: "y" }]), /dup\.jsonl:2: duplicate id "1"/],
    ["nohash.jsonl", jsonl([{ question: "a", answer: "1\n#### 1" }, { question: "b", answer: "2\n#### 2" }, { question: "c", answer: "just three" }]), /nohash\.jsonl:3: math answer has no final/],
    ["notes.txt", "hello", /unknown file type ".txt"/],
  ];
  for (const [name, content, message] of cases) {
    it(name, async () => {
      const f = file(name, content);
      const error = await loadDataset(f).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toMatch(message);
    });
  }
  it("a label outside the task's set names the line", async () => {
    const f = file("sst-bad.jsonl", jsonl([{ text: "a", label: "positive" }, { text: "b", label: "neutral" }]));
    await expect(loadTaskData(f, "sst2")).rejects.toThrow(/sst-bad\.jsonl:2: label "neutral" is not in the label set/);
  });
});

describe("seeded subsampling", () => {
  const examples = Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}`, question: `q${i}`, answer: i % 10 === 0 ? "rare" : i % 3 === 0 ? "b" : "a" }));
  const byLabel = (xs: { answer: string }[]) => xs.reduce<Record<string, number>>((m, e) => ({ ...m, [e.answer]: (m[e.answer] ?? 0) + 1 }), {});
  it("is reproducible for the same seed and differs for another", () => {
    const a = subsample(examples, { n: 50, seed: 7 }).map((e) => e.id);
    expect(subsample(examples, { n: 50, seed: 7 }).map((e) => e.id)).toEqual(a);
    expect(subsample(examples, { n: 50, seed: 8 }).map((e) => e.id)).not.toEqual(a);
    expect(new Set(a).size).toBe(50);
  });
  it("stratifies by label in proportion (largest remainder)", () => {
    const counts = byLabel(examples); // a 600, b 300, rare 100
    expect(counts).toEqual({ a: 600, b: 300, rare: 100 });
    const sample = subsample(examples, { n: 45, seed: 1, stratifyBy: (e) => e.answer });
    // Shares 27, 13.5, 4.5: floors 27 + 13 + 4 = 44; the one left goes to the larger remainder, ties by
    // label name: b.
    expect(byLabel(sample)).toEqual({ a: 27, b: 14, rare: 4 });
    expect(sample.map((e) => Number(e.id.slice(1)))).toEqual([...sample.map((e) => Number(e.id.slice(1)))].sort((x, y) => x - y));
  });
  it("gives every label one example when n allows", () => {
    expect(Object.fromEntries(stratumQuotas(3, new Map([["a", 98], ["b", 1], ["c", 1]])))).toEqual({ a: 1, b: 1, c: 1 });
  });
  it("rounds a fraction down as the official seed script does", () => {
    expect(subsample(examples.slice(0, 749), { fraction: 0.1, seed: 0 })).toHaveLength(74);
    expect(() => subsample(examples, { fraction: 0.0001, seed: 0 })).toThrow(/sample size 0/);
    expect(() => subsample(examples, { n: 2000, seed: 0 })).toThrow(/only 1000/);
  });
});

describe("JSONL writer", () => {
  it("writes atomically in a shape that loads back the same", async () => {
    const out = path.join(dir, "sub/out.jsonl");
    const examples = [
      { id: "s-1", question: "nice film", answer: "positive" },
      { id: "s-2", question: "dull film", answer: "negative", provenance: { sourceId: "s-1", iteration: 2, teacherId: "t", promptHash: "p", sampling: { maxTokens: 8 } } },
    ];
    expect(await writeExamplesJsonl(out, examples, "classification")).toBe(2);
    expect(readFileSync(out, "utf8").split("\n")[0]).toBe('{"id":"s-1","text":"nice film","label":"positive"}');
    const back = await loadDataset(out, { kind: "classification" });
    expect(back.examples).toEqual(examples);
  });
});

describe.skipIf(skipWithout("datasets"))("every shared dataset loads with the right kind and label set", () => {
  const expected: [string, string, number, Record<string, number> | undefined][] = [
    ["gsm8k/train.jsonl", "math", 7473, undefined],
    ["gsm8k/test.jsonl", "math", 1319, undefined],
    ["sst2/train.jsonl", "classification", 6920, { negative: 3310, positive: 3610 }],
    ["sst2/validation.jsonl", "classification", 872, { negative: 428, positive: 444 }],
    ["sst2/test.jsonl", "classification", 1821, { negative: 912, positive: 909 }],
    ["trec/train.jsonl", "classification", 5452, { ABBR: 86, DESC: 1162, ENTY: 1250, HUM: 1223, LOC: 835, NUM: 896 }],
    ["trec/test.jsonl", "classification", 500, { ABBR: 9, DESC: 138, ENTY: 94, HUM: 65, LOC: 81, NUM: 113 }],
    ["snips/train.jsonl", "classification", 13784, { AddToPlaylist: 1942, BookRestaurant: 1973, GetWeather: 2000, PlayMusic: 2000, RateBook: 1956, SearchCreativeWork: 1954, SearchScreeningEvent: 1959 }],
    ["snips/test.jsonl", "classification", 700, { AddToPlaylist: 100, BookRestaurant: 100, GetWeather: 100, PlayMusic: 100, RateBook: 100, SearchCreativeWork: 100, SearchScreeningEvent: 100 }],
  ];
  for (const [name, kind, n, labels] of expected) {
    it(`${name}: detected, and with its preset`, async () => {
      const detected = await loadDataset(path.join(datasetsDir, name));
      expect(detected.kind).toBe(kind);
      expect(detected.examples).toHaveLength(n);
      expect(detected.labelCounts).toEqual(labels);
      const preset = name.split("/")[0]!;
      const { task, dataset } = await loadTaskData(path.join(datasetsDir, name), preset);
      expect(task.kind).toBe(kind);
      if (labels) expect([...task.labels!].sort()).toEqual(Object.keys(labels).sort());
      expect(dataset.examples.every((e) => task.invalidReason(e) === undefined)).toBe(true);
    });
  }
  it("1% of GSM8K train is 74 examples, the same for the same seed", async () => {
    const d = await loadDataset(path.join(datasetsDir, "gsm8k/train.jsonl"));
    const a = subsample(d.examples, { fraction: 0.01, seed: 42 });
    expect(a).toHaveLength(74);
    expect(subsample(d.examples, { fraction: 0.01, seed: 42 })).toEqual(a);
  });
  it("a stratified SST-2 sample keeps the label proportions", async () => {
    const d = await loadDataset(path.join(datasetsDir, "sst2/train.jsonl"));
    const sample = subsample(d.examples, { n: 100, seed: 3, stratifyBy: (e) => e.answer });
    // 3310/6920·100 = 47.8 → 48 negative, 52.2 → 52 positive.
    expect(sample.filter((e) => e.answer === "negative")).toHaveLength(48);
  });
});
