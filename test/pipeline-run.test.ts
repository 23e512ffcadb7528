/**
 * `llm2llm run` end to end, as a user runs it: the real CLI process, the real tfjs student trained on the
 * fixture GGUF, llama.cpp evaluating it with each iteration's adapter, and a teacher over the OpenAI protocol
 * (a scripted server that writes correct examples) or the gibberish fixture teacher in llama.cpp.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openGguf } from "../src/gguf/index.js";
import { repoRoot, skipWithout, tinyRandomLlama } from "./fixtures.js";
import { runCli } from "./helpers/runCli.js";
import { startScriptedTeacher, type ScriptedTeacherServer } from "./helpers/scriptedTeacherServer.js";

const skip = skipWithout("fixtures");
const toyStudent = path.join(repoRoot, "models/toy-student.gguf");
let dir: string;
let teacher: ScriptedTeacherServer;

const lines = async (file: string, n: number) => (await readFile(path.join(repoRoot, file), "utf8")).split("\n").filter(Boolean).slice(0, n).join("\n") + "\n";

const mcExamples = (offset: number) =>
  Array.from({ length: 4 }, (_, i) => JSON.stringify({ prompt: `In case ${offset + i} the court considered a contract dispute over delivery dates.`, choices: ["holding one", "holding two", "holding three"], label: i % 3 })).join("\n") + "\n";

const cli = (args: string[], killAfterMs?: number) =>
  runCli(args, { cwd: dir, env: { ...process.env, LLM2LLM_TEACHER_API_KEY: "test" }, ...(killAfterMs === undefined ? {} : { killAfterMs }) });

async function writeConfig(name: string, overrides: Record<string, unknown>): Promise<string> {
  const config = {
    student: tinyRandomLlama,
    teacherUrl: teacher.url,
    teacherModel: "scripted",
    iterations: 2,
    k: 1,
    seed: 7,
    train: { epochs: 1, batchSize: 4, rank: 4, alpha: 8 },
    teacherParallel: 2,
    evalMaxTokens: 8,
    ...overrides,
  };
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-run-"));
  teacher = await startScriptedTeacher();
  await writeFile(path.join(dir, "math-seed.jsonl"), await lines("datasets/toy-math/seed.jsonl", 5));
  await writeFile(path.join(dir, "math-test.jsonl"), await lines("datasets/toy-math/test.jsonl", 5));
  await writeFile(path.join(dir, "intent-seed.jsonl"), await lines("datasets/toy-intents/seed.jsonl", 6));
  await writeFile(path.join(dir, "intent-test.jsonl"), await lines("datasets/toy-intents/test.jsonl", 5));
  await writeFile(path.join(dir, "toy-seed.jsonl"), await lines("datasets/toy-math/seed.jsonl", 8));
  await writeFile(path.join(dir, "toy-test.jsonl"), await lines("datasets/toy-math/test.jsonl", 6));
  await writeFile(path.join(dir, "mc-seed.jsonl"), mcExamples(0));
  await writeFile(path.join(dir, "mc-test.jsonl"), mcExamples(100));
});

afterAll(async () => {
  if (skip) return;
  await teacher.close();
  await rm(dir, { recursive: true, force: true });
});

const iterationFiles = ["train.jsonl", "adapter.gguf", "eval-seed.jsonl", "eval-test.jsonl", "metrics.json"];

describe.skipIf(skip)("llm2llm run (real student, llama.cpp evaluation)", () => {
  for (const [kind, task, data] of [["math", "gsm8k", "math"], ["classification", "classification", "intent"], ["multiple-choice", "multiple-choice", "mc"]] as const) {
    it(`completes a ${kind} run, writes every file, and keeps the test set away from training and the teacher`, async () => {
      const out = path.join(dir, `run-${kind}`);
      const config = await writeConfig(kind, { task, seedData: `${data}-seed.jsonl`, testData: `${data}-test.jsonl` });
      const promptsBefore = teacher.prompts.length;
      const result = await cli(["run", "--config", config, "--out", out, "--json"]);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      expect(summary.iterations).toHaveLength(2);

      for (const file of ["config.json", "events.jsonl", "metrics.json", "report.html", "report.md"]) expect(existsSync(path.join(out, file)), file).toBe(true);
      for (const t of [0, 1]) for (const file of iterationFiles) expect(existsSync(path.join(out, "iterations", String(t), file)), `${t}/${file}`).toBe(true);
      expect(existsSync(path.join(out, "iterations/0/augmented.jsonl"))).toBe(true);

      const metrics = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8"));
      expect(metrics.iterations[0]).toMatchObject({ t: 0, train_size: expect.any(Number), kept: expect.any(Number) });
      const seed = (await readFile(path.join(out, "iterations/0/train.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const augmented = (await readFile(path.join(out, "iterations/0/augmented.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      // The fixture student answers gibberish, so every seed example is wrong and goes to the teacher.
      expect(metrics.iterations[0].sources).toBe(seed.length);
      expect(augmented.length).toBe(metrics.iterations[0].kept);
      expect(augmented.length).toBeGreaterThan(0);
      const seedIds = new Set(seed.map((e) => e.id));
      for (const a of augmented) {
        expect(seedIds.has(a.provenance.sourceId)).toBe(true);
        expect(a.provenance).toMatchObject({ iteration: 0, promptHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      }
      const train1 = await readFile(path.join(out, "iterations/1/train.jsonl"), "utf8");
      expect(train1.split("\n").filter(Boolean)).toHaveLength(seed.length + augmented.length);

      // The test set never reaches training data or teacher prompts.
      const testQuestions = (await readFile(path.join(out, "iterations/0/eval-test.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l).id as string);
      const testRows = (await readFile(path.join(dir, `${data}-test.jsonl`), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      const testTexts = testRows.map((r) => String(r.question ?? r.text ?? r.prompt));
      expect(testQuestions.length).toBe(testRows.length);
      const prompts = teacher.prompts.slice(promptsBefore);
      expect(prompts.length).toBe(seed.length);
      for (const text of testTexts) {
        expect(train1.includes(JSON.stringify(text).slice(1, -1))).toBe(false);
        for (const p of prompts) expect(p.includes(text)).toBe(false);
      }
      // Only seed examples are sources: every prompt quotes a seed question, none an augmented one.
      for (const p of prompts) expect(seed.some((e) => p.includes(e.question.trim()))).toBe(true);
    });
  }

  it("with the gibberish teacher in llama.cpp, completes with no augmentation and says so", async () => {
    const out = path.join(dir, "run-gibberish");
    const config = await writeConfig("gibberish", { teacherUrl: undefined, teacherModel: undefined, teacher: tinyRandomLlama, task: "gsm8k", seedData: "math-seed.jsonl", testData: "math-test.jsonl", teacherSampling: { temperature: 0.7, topP: 0.9, maxTokens: 48 } });
    const result = await cli(["run", "--config", config, "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/no augmentation happened/);
    const metrics = JSON.parse(await readFile(path.join(out, "metrics.json"), "utf8"));
    expect(metrics.iterations.map((m: { kept: number }) => m.kept)).toEqual([0, 0]);
    const drops = JSON.parse(await readFile(path.join(out, "iterations/0/augment-drops.json"), "utf8"));
    expect(Object.values(drops).reduce((a: number, b) => a + (b as number), 0)).toBeGreaterThan(0);
  });

  it("killed with SIGKILL at random moments and resumed, ends with the same files as a run that never stopped", async () => {
    const config = await writeConfig("crash", { task: "gsm8k", seedData: "math-seed.jsonl", testData: "math-test.jsonl", iterations: 3 });
    const reference = path.join(dir, "run-reference");
    const started = Date.now();
    expect((await cli(["run", "--config", config, "--out", reference, "--json"])).code).toBe(0);
    const duration = Date.now() - started;

    const resumed = path.join(dir, "run-killed");
    let kills = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      // Early kills land in start-up, data and training; later ones in evaluation and augmentation.
      const result = await cli(["run", "--config", config, "--out", resumed, "--json"], 1000 + Math.random() * duration * 0.6);
      if (result.signal !== "SIGKILL") {
        expect(result.code, result.stderr).toBe(0);
        break;
      }
      kills++;
      await expectNoHalfFiles(resumed);
    }
    if (!existsSync(path.join(resumed, "report.html"))) expect((await cli(["run", "--config", config, "--out", resumed, "--json"])).code).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(3);

    for (const t of [0, 1, 2]) {
      for (const file of await readdir(path.join(reference, "iterations", String(t)))) {
        const [a, b] = await Promise.all([readFile(path.join(reference, "iterations", String(t), file)), readFile(path.join(resumed, "iterations", String(t), file))]);
        expect(sha256(b), `iterations/${t}/${file} after ${kills} kills`).toBe(sha256(a));
      }
    }
    expect(await readFile(path.join(resumed, "metrics.json"), "utf8")).toBe(await readFile(path.join(reference, "metrics.json"), "utf8"));
  }, 600_000);

  // On a trained student (the committed toy student), whose answers are real text, so evaluation decides which
  // seed examples reach the teacher: two uninterrupted runs are identical file for file, and a run killed
  // mid-way and resumed is identical to them; greedy and with the paper's seeded sampling. Small sets, 2 iterations.
  for (const evalSampling of ["greedy", "paper"] as const) {
    it(`trained toy student, --eval-sampling ${evalSampling}: two runs identical, killed-and-resumed identical to them`, async () => {
      const config = await writeConfig(`toy-${evalSampling}`, {
        student: toyStudent, task: "gsm8k", seedData: "toy-seed.jsonl", testData: "toy-test.jsonl", evalSampling, evalMaxTokens: 32,
        train: { epochs: 1, batchSize: 4, rank: 4, alpha: 8, maxLength: 160 },
      });
      const [first, second, resumed] = ["a", "b", "killed"].map((name) => path.join(dir, `run-toy-${evalSampling}-${name}`));
      const timed = async (out: string) => {
        const started = Date.now();
        expect((await cli(["run", "--config", config, "--out", out, "--json"])).code).toBe(0);
        return Date.now() - started;
      };
      // The kill lands inside the shorter (warm) run's time; a run that still ends first is started over, sooner.
      const duration = Math.min(await timed(first), await timed(second));
      let kills = 0;
      for (let attempt = 0; attempt < 6; attempt++) {
        const result = await cli(["run", "--config", config, "--out", resumed, "--json"], duration * (0.2 + 0.5 * Math.random()) * 0.7 ** attempt);
        if (result.signal === "SIGKILL") {
          kills++;
          continue;
        }
        expect(result.code, result.stderr).toBe(0);
        if (kills > 0) break;
        await rm(resumed, { recursive: true, force: true });
      }
      if (!existsSync(path.join(resumed, "report.html"))) expect((await cli(["run", "--config", config, "--out", resumed, "--json"])).code).toBe(0);
      expect(kills).toBeGreaterThanOrEqual(1);

      const seedEval = (await readFile(path.join(first, "iterations/0/eval-seed.jsonl"), "utf8")).split("\n").filter(Boolean).map((l) => JSON.parse(l));
      // A trained student: real answers (arithmetic lines), not the random fixture's gibberish.
      expect(seedEval.some((r) => /\d+ [-+*\/] \d+ = \d+/.test(r.prediction))).toBe(true);
      for (const other of [second, resumed]) {
        for (const t of [0, 1]) {
          for (const file of await readdir(path.join(first, "iterations", String(t)))) {
            const [a, b] = await Promise.all([readFile(path.join(first, "iterations", String(t), file)), readFile(path.join(other, "iterations", String(t), file))]);
            expect(sha256(b), `${path.basename(other)}: iterations/${t}/${file} (${kills} kills)`).toBe(sha256(a));
          }
        }
        expect(await readFile(path.join(other, "metrics.json"), "utf8")).toBe(await readFile(path.join(first, "metrics.json"), "utf8"));
      }
    }, 600_000);
  }
});

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every visible file of a run directory is whole: JSON parses, JSONL parses line by line, adapters open. */
async function expectNoHalfFiles(root: string): Promise<void> {
  const walk = async (d: string): Promise<string[]> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : Promise.resolve([path.join(d, e.name)]))));
    return nested.flat();
  };
  for (const file of await walk(root)) {
    if (path.basename(file).startsWith(".")) continue; // temporaries: hidden, never read
    const name = path.basename(file);
    if (name.endsWith(".json")) JSON.parse(await readFile(file, "utf8"));
    else if (name.endsWith(".jsonl") && name !== "events.jsonl") for (const line of (await readFile(file, "utf8")).split("\n").filter(Boolean)) JSON.parse(line);
    else if (name.endsWith(".gguf")) await openGguf(file);
  }
}
