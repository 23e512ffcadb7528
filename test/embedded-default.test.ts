/**
 * `npm start` shortened: the real CLI runs the LLM2LLM loop on the embedded default (the committed toy student,
 * toy teacher and toy-math data) with fewer iterations, and the student's test accuracy must rise from
 * iteration 0 (seed data only) to the last iteration (seed data + the teacher's verified examples).
 * Nothing about the outcome is fixed in advance: the numbers come from training, llama.cpp and the teacher.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers/runCli.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-start-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Metrics {
  iterations: { t: number; test_accuracy: number; seed_accuracy: number; sources: number; kept: number; train_size: number }[];
}

describe("llm2llm start on toy-math (the embedded default, shortened)", () => {
  it("the teacher's verified examples raise the student's test accuracy above seed-only fine-tuning", { timeout: 900_000 }, async () => {
    const out = path.join(dir, "demo");
    const result = await runCli(["start", "--task", "toy-math", "--iterations", "2", "--out", out], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);

    const metrics = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8")) as Metrics;
    expect(metrics.iterations).toHaveLength(2);
    const [first, last] = [metrics.iterations[0]!, metrics.iterations[1]!];
    // The teacher was asked about the wrong seed examples and some of its answers passed every filter.
    expect(first.sources).toBeGreaterThan(0);
    expect(first.kept).toBeGreaterThan(0);
    expect(last.train_size).toBe(first.train_size + first.kept);
    expect(last.test_accuracy).toBeGreaterThan(first.test_accuracy);

    // What npm start prints: the gain and the verifier's acceptance rate.
    expect(result.stdout).toMatch(/Test accuracy: [\d.]+% after iteration 0 \(seed data only\) → [\d.]+% after iteration 1/);
    expect(result.stdout).toMatch(/Teacher examples passing the verifier: \d+\/\d+/);
  });
});
