import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, UsageError } from "../src/errors.js";
import { ClassificationTask } from "../src/tasks/classificationTask.js";
import { MathTask } from "../src/tasks/mathTask.js";
import { choiceLetter, MultipleChoiceTask } from "../src/tasks/multipleChoiceTask.js";
import { compareAnswersOfficially, extractHashAnswer, normaliseFinalAnswer } from "../src/tasks/numericAnswer.js";
import { resolveTask } from "../src/tasks/resolveTask.js";

const gsmExample = {
  id: "train-1",
  question: "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
  answer: "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
};

describe("GSM8K answers compared as the official code does", () => {
  it("reads the text after the first `#### `", () => {
    expect(extractHashAnswer("so 5.\n#### 1,200\nQuestion 2: ...\n#### 7")).toBe("1,200");
    expect(extractHashAnswer("no marker here")).toBeUndefined();
  });
  it("compares digits and dots as floats, else lowercased strings without commas", () => {
    expect(compareAnswersOfficially("1,200", "$1200.00")).toBe(true);
    expect(compareAnswersOfficially("72", "72 clips")).toBe(true);
    expect(compareAnswersOfficially("72", "73")).toBe(false);
    expect(compareAnswersOfficially("0.5", ".5")).toBe(true);
    // The official quirk: the sign is dropped before comparing.
    expect(compareAnswersOfficially("-12", "12")).toBe(true);
    // float() fails on "1.2.3", so the strings are compared.
    expect(compareAnswersOfficially("1.2.3", "1.2.3")).toBe(true);
    expect(compareAnswersOfficially("seven", "Seven")).toBe(true);
  });
  it("normalises a final answer to a plain number", () => {
    expect(normaliseFinalAnswer("$1,200.")).toBe("1200");
    expect(normaliseFinalAnswer("40 dollars")).toBe("40");
    expect(normaliseFinalAnswer("-7")).toBe("-7");
    expect(normaliseFinalAnswer("1/2")).toBeUndefined();
  });
});

describe("math task", () => {
  const task = new MathTask();
  it("formats the official prompt and completion", () => {
    expect(task.formatPrompt(gsmExample)).toBe(`Solve the below question step by step.\n\n${gsmExample.question}\n\nAnswer:`);
    expect(task.formatCompletion(gsmExample)).toBe(` ${gsmExample.answer}`);
  });
  it("scores completions by their final answer", () => {
    expect(task.isCorrect(" She sold 72 in all.\n#### 72", gsmExample)).toBe(true);
    expect(task.isCorrect(" #### 72.0", gsmExample)).toBe(true);
    expect(task.isCorrect(" She sold 71.\n#### 71", gsmExample)).toBe(false);
    expect(task.isCorrect(" She sold 72 clips.", gsmExample)).toBe(false);
    expect(task.extractAnswer("... #### $1,200")).toBe("1200");
  });
  it("says why an example is malformed", () => {
    expect(task.invalidReason(gsmExample)).toBeUndefined();
    expect(task.invalidReason({ ...gsmExample, answer: "72" })).toMatch(/^malformed-answer: /);
    expect(task.invalidReason({ ...gsmExample, answer: "so\n#### seventy" })).toMatch(/^malformed-answer: .*not a number/);
    expect(task.invalidReason({ ...gsmExample, answer: "#### 72" })).toMatch(/no rationale/);
  });
});

describe("classification task", () => {
  const task = resolveTask("snips");
  it("uses the official `Intent:` template and reads labels from completions", () => {
    expect(task.formatPrompt({ id: "x", question: "play some jazz", answer: "PlayMusic" })).toBe("play some jazz\nIntent:");
    expect(task.extractAnswer(" PlayMusic\nplay more")).toBe("PlayMusic");
    expect(task.extractAnswer(" playmusic.")).toBe("PlayMusic");
    expect(task.extractAnswer(" GetWeather for tomorrow")).toBe("GetWeather");
    expect(task.extractAnswer(" OrderPizza")).toBeUndefined();
    expect(task.isCorrect(" PlayMusic", { id: "x", question: "q", answer: "PlayMusic" })).toBe(true);
    expect(task.isCorrect(" RateBook", { id: "x", question: "q", answer: "PlayMusic" })).toBe(false);
  });
  it("rejects labels outside the set", () => {
    expect(task.invalidReason({ id: "x", question: "order a pizza", answer: "OrderPizza" })).toMatch(/^label-not-in-set: /);
  });
  it("prefers the longest label a completion starts with", () => {
    const t = new ClassificationTask({ labels: ["Play", "PlayMusic"] });
    expect(t.extractAnswer("PlayMusic now")).toBe("PlayMusic");
    expect(t.extractAnswer("Play it")).toBe("Play");
  });
});

describe("multiple-choice task", () => {
  const task = resolveTask("casehold");
  const example = { id: "c", question: "The court held", choices: ["a", "b", "c", "d", "e"], answer: "C" };
  it("lists the choices and reads the letter", () => {
    expect(task.formatPrompt(example)).toBe("The court held\n(A) a\n(B) b\n(C) c\n(D) d\n(E) e\nAnswer:");
    expect(task.extractAnswer(" (C) because")).toBe("C");
    expect(task.extractAnswer(" C")).toBe("C");
    expect(task.extractAnswer(" a holding")).toBeUndefined();
    expect(task.isCorrect(" C", example)).toBe(true);
    expect(task.invalidReason(example)).toBeUndefined();
    expect(task.invalidReason({ ...example, choices: ["a", "b"] })).toMatch(/^bad-choices: expected 5/);
  });
  it("maps index, letter and text answers to a letter", () => {
    expect(choiceLetter(2, ["x", "y", "z"])).toBe("C");
    expect(choiceLetter("(b)", ["x", "y", "z"])).toBe("B");
    expect(choiceLetter("is moot", ["x", "y", "is moot"])).toBe("C");
    expect(choiceLetter("D", ["x", "y", "z"])).toBeUndefined();
    expect(new MultipleChoiceTask().choiceCount).toBeUndefined();
  });
});

describe("resolveTask", () => {
  it("knows the kinds and the presets", () => {
    expect(resolveTask("gsm8k").kind).toBe("math");
    expect(resolveTask("sst2").labels).toEqual(["negative", "positive"]);
    expect(resolveTask("trec").describe()).toMatchObject({ answerWord: "Class", promptTemplate: "{question}\nClass:" });
    expect(resolveTask("casehold").describe()).toMatchObject({ kind: "multiple-choice", choiceCount: 5 });
    expect(resolveTask("classification", { labels: ["a", "b"] }).labels).toEqual(["a", "b"]);
    expect(() => resolveTask("classification")).toThrow(UsageError);
    expect(() => resolveTask("nonsense")).toThrow(/unknown task "nonsense"/);
  });
  it("reads a custom task config, naming the bad key on error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-task-"));
    const good = path.join(dir, "tickets.json");
    writeFileSync(good, JSON.stringify({ name: "tickets", kind: "classification", answerWord: "Queue", labels: ["billing", "bug"] }));
    const task = resolveTask(good);
    expect(task.describe()).toMatchObject({ name: "tickets", promptTemplate: "{question}\nQueue:", labels: ["billing", "bug"] });
    const extended = path.join(dir, "trec-fine.json");
    writeFileSync(extended, JSON.stringify({ name: "trec2", extends: "trec", answerWord: "Type", promptTemplate: "Q: {question}\nType:" }));
    expect(resolveTask(extended).describe()).toMatchObject({ kind: "classification", answerWord: "Type", labels: ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"] });

    const cases: [object, RegExp][] = [
      [{ name: "t", kind: "regression" }, /key "kind"/],
      [{ name: "t", kind: "classification", labels: ["only"] }, /key "labels"/],
      [{ name: "t", kind: "math", promptTemplate: "no placeholder" }, /key "promptTemplate": must contain \{question\}/],
      [{ name: "t", kind: "math", colour: "red" }, /"colour"/],
      [{ name: "t" }, /key "kind"/],
      [{ name: "t", kind: "math", fields: { input: 3 } }, /key "fields.input"/],
    ];
    for (const [config, message] of cases) {
      const file = path.join(dir, "bad.json");
      writeFileSync(file, JSON.stringify(config));
      expect(() => resolveTask(file)).toThrow(DataFormatError);
      expect(() => resolveTask(file)).toThrow(message);
    }
  });
});
