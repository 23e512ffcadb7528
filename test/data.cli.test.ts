import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { datasetsDir, repoRoot, skipWithout } from "./fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-data-cli-"));
function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [path.join(repoRoot, "bin/llm2llm.js"), ...args], { encoding: "utf8", cwd: repoRoot });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}
function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe("llm2llm data on bad input: a clear message and a non-zero exit", () => {
  it("malformed JSONL names the file and the line", () => {
    const f = file("bad.jsonl", '{"text": "fine", "label": "a"}\n{"text": "fine", "label": "b"}\n{"text": broken}\n');
    const run = cli("data", "inspect", f);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`${f}:3: not valid JSON`);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
  it("unknown fields without a mapping, then with one", () => {
    const f = file("odd.jsonl", '{"body": "refund please", "queue": "billing"}\n{"body": "it crashes", "queue": "bug"}\n');
    const run = cli("data", "inspect", f);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown fields "body", "queue"/);
    const mapped = cli("data", "inspect", f, "--input-field", "body", "--label-field", "queue", "--json");
    expect(mapped.code).toBe(0);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ kind: "classification", n: 2, labels: { billing: 1, bug: 1 } });
  });
  it("empty file", () => {
    const run = cli("data", "inspect", file("empty.jsonl", ""));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/empty\.jsonl: empty file/);
  });
  it("label column missing", () => {
    const run = cli("data", "inspect", file("nolabel.csv", "text,notes\nhello,x\n"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/nolabel\.csv: label column missing/);
  });
  it("a missing file and a sample without a size", () => {
    expect(cli("data", "inspect", path.join(dir, "nope.jsonl")).stderr).toMatch(/data file not found/);
    const f = file("ok.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n');
    const run = cli("data", "sample", f, "--out", path.join(dir, "o.jsonl"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--n or --fraction/);
  });
});

describe.skipIf(skipWithout("datasets"))("llm2llm data on the shared datasets", () => {
  it("inspect --json prints one JSON object with kind, n and labels", () => {
    const run = cli("data", "inspect", path.join(datasetsDir, "trec/test.jsonl"), "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kind: "classification", n: 500, labels: { ABBR: 9, DESC: 138, ENTY: 94, HUM: 65, LOC: 81, NUM: 113 } });
  });
  it("sample --n is stratified and reproducible", () => {
    const outA = path.join(dir, "a.jsonl");
    const outB = path.join(dir, "b.jsonl");
    const a = cli("data", "sample", path.join(datasetsDir, "snips/test.jsonl"), "--n", "14", "--seed", "5", "--out", outA, "--task", "snips", "--json");
    cli("data", "sample", path.join(datasetsDir, "snips/test.jsonl"), "--n", "14", "--seed", "5", "--out", outB, "--task", "snips");
    expect(a.code).toBe(0);
    const summary = JSON.parse(a.stdout);
    expect(summary).toMatchObject({ n: 14, stratified: true });
    expect(Object.values(summary.labels)).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(readFileSync(outA, "utf8")).toBe(readFileSync(outB, "utf8"));
    const back = cli("data", "inspect", outA, "--json");
    expect(JSON.parse(back.stdout)).toMatchObject({ kind: "classification", n: 14 });
  });
});
