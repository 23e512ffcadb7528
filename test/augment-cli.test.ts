/**
 * `llm2llm augment` end to end, as a user runs it. The teacher is real llama.cpp on the random fixture
 * model, which writes gibberish: the command must end with exit 0, zero kept examples and the drop reasons
 * counted; in structured mode the grammar makes every completion parse (no parse drops). The same run through
 * an OpenAI-compatible endpoint on loopback gives the same result; a failing endpoint is counted, not fatal.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { runCli } from "./helpers/runCli.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import { startChatServer } from "./teacherServer.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-augment-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WRONG = [
  { question: "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did she sell in all?", answer: "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72", prediction: "#### 96" },
  { question: "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?", answer: "Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nWorking 50 minutes, she earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10", prediction: "#### 600" },
  { question: "James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?", answer: "He writes each friend 3*2=<<3*2=6>>6 pages a week.\nSo he writes 6*2=<<6*2=12>>12 pages every week.\nThat means he writes 12*52=<<12*52=624>>624 pages a year.\n#### 624", prediction: "#### 12" },
];
const wrongFile = path.join(dir, "wrong.jsonl");
writeFileSync(wrongFile, WRONG.map((r) => JSON.stringify(r)).join("\n") + "\n");

/** Bounded by a kill, so a hung teacher fails the test instead of hanging it. */
const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { killAfterMs: timeoutMs });

// One round: these tests count the requests of a single pass (retry rounds: augment-retry.test.ts).
const common = ["augment", "--task", "gsm8k", "--wrong", wrongFile, "--k", "2", "--seed", "11", "--rounds", "1", "--json"];
const local = ["--teacher", tinyRandomLlama, "--threads", "1", "--parallel", "3"];
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe.skipIf(skipWithout("fixtures"))("llm2llm augment with the random fixture model as teacher", () => {
  let freeText: Record<string, any>;

  beforeAll(async () => {
    const out = path.join(dir, "free.jsonl");
    const run = await cli([...common, ...local, "--out", out, "--max-tokens", "48", "--include-student-answer"]);
    expect(run.code, run.stderr).toBe(0);
    freeText = JSON.parse(run.stdout);
  });

  it("free text: exit 0, one JSON object on stdout, zero kept, every prompt's drop counted, an empty output file", () => {
    expect(freeText).toMatchObject({ task: "gsm8k", kind: "math", structured: false, wrong: 3, prompts: 3, kept: 0, chatWrapper: "General", parallel: 3 });
    expect(freeText.teacher).toMatch(/^[0-9a-f]{64}$/);
    // Gibberish: every completion is a drop at the parse stage (completion-level reasons count completions).
    expect(sum(freeText.dropped)).toBeGreaterThanOrEqual(3);
    expect(Object.keys(freeText.dropped).every((reason) => /^(parse|validate|verify|dedup):/.test(reason))).toBe(true);
    expect(freeText.teacherTokens).toBe(3 * 48);
    expect(readFileSync(path.join(dir, "free.jsonl"), "utf8")).toBe("");
  });

  it("structured: the grammar makes every completion parse — no parse drops, k candidates per prompt", async () => {
    const out = path.join(dir, "structured.jsonl");
    const run = await cli([...common, ...local, "--out", out, "--structured", "--max-question-chars", "40", "--max-answer-chars", "40", "--max-tokens", "600"]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ structured: true, prompts: 3, candidates: 6 });
    expect(Object.keys(summary.dropped).filter((reason) => reason.startsWith("parse:"))).toEqual([]);
    expect(sum(summary.dropped) + summary.kept).toBe(6);
    expect(existsSync(out)).toBe(true);
    // The drop table goes to stderr when stdout carries the JSON.
    expect(run.stderr).toMatch(/dropped\s+count/);
  });

  it("the same run through an OpenAI-compatible endpoint (streamed, with a dropped connection and a 500 on the way) ends the same", async () => {
    const teacher = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel: 3, threads: 1, contextSize: 2048 });
    const server = await startChatServer({ teacher, faults: ["drop", "500"] });
    try {
      const run = await cli([...common, "--teacher-url", server.url, "--teacher-model", "tiny", "--stream", "--parallel", "2", "--out", path.join(dir, "endpoint.jsonl"), "--max-tokens", "48"]);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary.teacher).toBe(`endpoint:tiny@${server.url}`);
      expect(summary.endpoint).toMatchObject({ requests: 3, failures: 0 });
      expect(summary.endpoint.retries).toBeGreaterThanOrEqual(2);
      expect({ kept: summary.kept, dropped: summary.dropped, candidates: summary.candidates, teacherTokens: summary.teacherTokens }).toEqual({
        kept: freeText.kept,
        dropped: freeText.dropped,
        candidates: freeText.candidates,
        teacherTokens: freeText.teacherTokens,
      });
    } finally {
      await server.close();
      await teacher.dispose();
    }
  });

  it("an endpoint that always fails: exit 0, zero kept, every prompt counted as teacher:error", async () => {
    const teacher = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel: 1, threads: 1, contextSize: 512 });
    const server = await startChatServer({ teacher, always: "500" });
    try {
      const run = await cli([...common, "--teacher-url", server.url, "--teacher-model", "tiny", "--retries", "1", "--out", path.join(dir, "failing.jsonl")]);
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout);
      expect(summary).toMatchObject({ kept: 0, dropped: { "teacher:error": 3 }, endpoint: { requests: 3, attempts: 6, failures: 3 } });
    } finally {
      await server.close();
      await teacher.dispose();
    }
  });
});

describe("llm2llm augment on bad input: a clear message and a non-zero exit", () => {
  it("a missing --wrong file is named", async () => {
    const run = await cli(["augment", "--teacher", "t.gguf", "--task", "gsm8k", "--wrong", path.join(dir, "nope.jsonl"), "--out", path.join(dir, "x.jsonl")]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("nope.jsonl");
    expect(run.stderr).not.toMatch(/internal error/);
  });

  it("no teacher, or two teachers, or an endpoint without a model name", async () => {
    const base = ["augment", "--task", "gsm8k", "--wrong", wrongFile, "--out", path.join(dir, "x.jsonl")];
    const none = await cli(base);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no teacher/);
    const both = await cli([...base, "--teacher", "t.gguf", "--teacher-url", "http://127.0.0.1:9/v1"]);
    expect(both.stderr).toMatch(/not both/);
    const noModel = await cli([...base, "--teacher-url", "http://127.0.0.1:9/v1"]);
    expect(noModel.stderr).toMatch(/--teacher-model/);
    const missingModel = await cli([...base, "--teacher", path.join(dir, "missing.gguf")]);
    expect(missingModel.code).not.toBe(0);
    expect(missingModel.stderr).toMatch(/teacher model not found: .*missing\.gguf/);
  });

  it("--include-student-answer on a file without the student's answers says which fields it has", async () => {
    const plain = path.join(dir, "plain.jsonl");
    writeFileSync(plain, WRONG.map(({ question, answer }) => JSON.stringify({ question, answer })).join("\n"));
    const run = await cli(["augment", "--teacher", "t.gguf", "--task", "gsm8k", "--wrong", plain, "--out", path.join(dir, "x.jsonl"), "--include-student-answer"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/no field prediction \/ student_answer \/ ai_answer \(fields: question, answer\)/);
  });
});
