import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { datasetsDir, skipWithout } from "./fixtures.js";
import { runCli } from "./helpers/runCli.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-data-cli-"));
const cli = (...args: string[]) => runCli(args);
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe("llm2llm data on bad input: a clear message and a non-zero exit", () => {
  it("malformed JSONL names the file and the line", async () => {
    const f = file("bad.jsonl", '{"text": "fine", "label": "a"}\n{"text": "fine", "label": "b"}\n{"text": broken}\n');
    const run = await cli("data", "inspect", f);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${f}:3: not valid JSON`);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
  it("unknown fields without a mapping, then with one", async () => {
    const f = file("odd.jsonl", '{"body": "refund please", "queue": "billing"}\n{"body": "it crashes", "queue": "bug"}\n');
    const run = await cli("data", "inspect", f);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown fields "body", "queue"/);
    const mapped = await cli("data", "inspect", f, "--input-field", "body", "--label-field", "queue", "--json");
    expect(mapped.code).toBe(0);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ kind: "classification", n: 2, labels: { billing: 1, bug: 1 } });
  });
  it("empty file", async () => {
    const run = await cli("data", "inspect", file("empty.jsonl", ""));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/empty\.jsonl: empty file/);
  });
  it("label column missing", async () => {
    const run = await cli("data", "inspect", file("nolabel.csv", "text,notes\nhello,x\n"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/nolabel\.csv: label column missing/);
  });
  it("a missing file and a sample without a size", async () => {
    expect((await cli("data", "inspect", path.join(dir, "nope.jsonl"))).stderr).toMatch(/data file not found/);
    const f = file("ok.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n');
    const run = await cli("data", "sample", f, "--out", path.join(dir, "o.jsonl"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--n or --fraction/);
  });
});

describe.skipIf(skipWithout("datasets"))("llm2llm data on the shared datasets", () => {
  it("inspect --json prints one JSON object with kind, n and labels", async () => {
    const run = await cli("data", "inspect", path.join(datasetsDir, "trec/test.jsonl"), "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: "classification", n: 500, labels: { ABBR: 9, DESC: 138, ENTY: 94, HUM: 65, LOC: 81, NUM: 113 } });
  });
  it("sample --n is stratified and reproducible", async () => {
    const outA = path.join(dir, "a.jsonl");
    const outB = path.join(dir, "b.jsonl");
    const a = await cli("data", "sample", path.join(datasetsDir, "snips/test.jsonl"), "--n", "14", "--seed", "5", "--out", outA, "--task", "snips", "--json");
    await cli("data", "sample", path.join(datasetsDir, "snips/test.jsonl"), "--n", "14", "--seed", "5", "--out", outB, "--task", "snips");
    expect(a.code).toBe(0);
    const summary = JSON.parse(a.stdout);
    expect(summary).toMatchObject({ n: 14, stratified: true });
    expect(Object.values(summary.labels)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(readFileSync(outA, "utf8")).toBe(readFileSync(outB, "utf8"));
    const back = await cli("data", "inspect", outA, "--json");
    expect(JSON.parse(back.stdout)).toMatchObject({ kind: "classification", n: 14 });
  });
});
