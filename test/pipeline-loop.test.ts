/**
 * The loop's logic with small in-memory parts (the real student and teacher are exercised in
 * pipeline-run.test.ts): which examples reach the teacher, that the test set never does, ablation
 * switches, and that a run interrupted at any stage resumes to the same files.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runLoop, RunDirectory, parseRunConfig, silentObserver, type LoopParts } from "../src/pipeline/index.js";
import type { Example, Task, Teacher } from "../src/seams.js";

const task: Task = {
  name: "echo",
  kind: "classification",
  formatPrompt: (e) => `Q: ${e.question}\nA:`,
  formatCompletion: (e) => ` ${e.answer}`,
  extractAnswer: (c) => c.trim(),
  isCorrect: (c, e) => c.trim() === e.answer,
  invalidReason: () => undefined,
};

const seedSet: Example[] = Array.from({ length: 6 }, (_, i) => ({ id: `seed-${i}`, question: `s${i}`, answer: i % 2 ? "odd" : "even" }));
const testSet: Example[] = Array.from({ length: 4 }, (_, i) => ({ id: `test-${i}`, question: `t${i}`, answer: i % 2 ? "odd" : "even" }));

/** A "student" that answers exactly the questions it was trained on, half of them only after it saw two similar ones. */
function makeParts(log: { teacherPrompts: string[]; trainedOn: string[][] }, crashAt?: { stage: string; t: number }): LoopParts {
  const maybeCrash = (stage: string, t: number) => {
    if (crashAt && crashAt.stage === stage && crashAt.t === t) throw new Error(`simulated crash in ${stage} ${t}`);
  };
  return {
    task,
    lengths: { evalMaxTokens: 8, trainDropped: 0, summary: { train_max_tokens: 16 } },
    async trainStudent(data, { iteration, outAdapter }) {
      maybeCrash("train", iteration);
      log.trainedOn.push(data.map((d) => d.question));
      // Knows a seed question once it saw it and at least one augmentation of it.
      const known = data.filter((d) => d.provenance === undefined && data.some((a) => a.provenance?.sourceId === d.id)).map((d) => d.question);
      await writeFile(outAdapter, JSON.stringify(known));
      return { finalLoss: 0, steps: 1, tokensPerSecond: 1, seconds: 0 };
    },
    async openStudent(adapter) {
      maybeCrash("eval", Number(path.basename(path.dirname(adapter))));
      const known = new Set<string>(JSON.parse(await readFile(adapter, "utf8")));
      return {
        engine: "memory",
        generate: async (prompts) => prompts.map((p) => {
          const q = p.slice(3, p.indexOf("\n"));
          const seed = seedSet.find((s) => s.question === q);
          return known.has(q) && seed ? ` ${seed.answer}` : " ?";
        }),
        dispose: async () => undefined,
      };
    },
    async openTeacher(): Promise<Teacher> {
      return { id: "memory-teacher", complete: async () => [], dispose: async () => undefined };
    },
    async augment(_teacher, sources, { k, iteration }) {
      maybeCrash("augment", iteration);
      for (const s of sources) log.teacherPrompts.push(s.example.question);
      const kept = sources.flatMap(({ example, count }) =>
        Array.from({ length: count ?? k }, (_, i) => ({
          id: `${example.id}-aug-${iteration}-${i}`,
          question: `${example.question} variant ${iteration}.${i}`,
          answer: example.answer,
          provenance: { sourceId: example.id, iteration, teacherId: "memory-teacher", promptHash: "h", sampling: { maxTokens: 1 } },
        })),
      );
      return { kept, dropped: { dedup: 1 }, prompts: sources.length, teacherTokens: 0, seconds: 0, wanted: kept.length, roundsUsed: 1, requestsPerRound: [sources.length], shortSources: 0, missingExamples: 0 };
    },
  };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function freshRun(): Promise<RunDirectory> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "llm2llm-loop-"));
  dirs.push(dir);
  const run = new RunDirectory(dir);
  await run.create();
  return run;
}

const baseConfig = { student: "s.gguf", teacher: "t.gguf", task: "echo", seedData: "seed.jsonl", testData: "test.jsonl", iterations: 3, k: 1 };

describe("the LLM2LLM loop", () => {
  it("sends only wrong seed examples to the teacher and never the test set", async () => {
    const log = { teacherPrompts: [] as string[], trainedOn: [] as string[][] };
    const run = await freshRun();
    const metrics = await runLoop(parseRunConfig(baseConfig, "test"), run, makeParts(log), seedSet, testSet, silentObserver);
    expect(metrics.map((m) => m.train_size)).toEqual([6, 12, 12]);
    expect(metrics[0]!.seed_accuracy).toBe(0);
    expect(metrics[1]!.seed_accuracy).toBe(1);
    // Iteration 1 sent nothing to the teacher, so iteration 2 trains on the same data: its student is iteration 1's (reused, not retrained).
    expect(log.trainedOn).toHaveLength(2);
    expect(await readFile(run.file(2, "adapter.gguf"), "utf8")).toBe(await readFile(run.file(1, "adapter.gguf"), "utf8"));
    expect(metrics[2]!.test_accuracy).toBe(metrics[1]!.test_accuracy);
    const seedQuestions = new Set(seedSet.map((s) => s.question));
    expect(log.teacherPrompts.every((q) => seedQuestions.has(q))).toBe(true);
    const testQuestions = testSet.map((t) => t.question);
    for (const data of log.trainedOn) expect(data.some((q) => testQuestions.includes(q))).toBe(false);
    expect(log.teacherPrompts.some((q) => testQuestions.includes(q))).toBe(false);
    const saved = JSON.parse(await readFile(run.metricsPath, "utf8"));
    expect(saved.iterations).toHaveLength(3);
    expect(Object.keys(saved.iterations[0])).toEqual(expect.arrayContaining(["t", "seed_accuracy", "test_accuracy", "train_size", "kept"]));
  });

  it("uses augmented examples as sources only with --augment-all", async () => {
    const log = { teacherPrompts: [] as string[], trainedOn: [] as string[][] };
    const run = await freshRun();
    await runLoop(parseRunConfig({ ...baseConfig, augmentAll: true }, "test"), run, makeParts(log), seedSet, testSet, silentObserver);
    expect(log.teacherPrompts.some((q) => q.includes("variant"))).toBe(true);
  });

  it("one-shot asks for all new examples at once, after iteration 0", async () => {
    const log = { teacherPrompts: [] as string[], trainedOn: [] as string[][] };
    const run = await freshRun();
    const metrics = await runLoop(parseRunConfig({ ...baseConfig, iterations: 4, oneShot: true }, "test"), run, makeParts(log), seedSet, testSet, silentObserver);
    expect(metrics).toHaveLength(2);
    expect(metrics[0]!.kept).toBe(6 * 3);
  });

  it("one-shot with a total spreads exactly that many new examples over the sources, and metrics say what was asked", async () => {
    const log = { teacherPrompts: [] as string[], trainedOn: [] as string[][] };
    const run = await freshRun();
    const metrics = await runLoop(parseRunConfig({ ...baseConfig, iterations: 2, oneShot: true, oneShotExamples: 14 }, "test"), run, makeParts(log), seedSet, testSet, silentObserver);
    expect(metrics[0]!.kept).toBe(14);
    expect(metrics[0]).toMatchObject({ wanted: 14, rounds_used: 1, teacher_requests: 6, short_sources: 0, missing_examples: 0 });
    const perSource = new Map<string, number>();
    for (const e of await run.readJsonl<Example>(run.file(0, "augmented.jsonl"))) perSource.set(e.provenance!.sourceId, (perSource.get(e.provenance!.sourceId) ?? 0) + 1);
    expect([...perSource.values()]).toEqual([3, 3, 2, 2, 2, 2]);
    expect(JSON.parse(await readFile(run.file(0, "augment-rounds.json"), "utf8"))).toMatchObject({ wanted: 14, requests_per_round: [6] });
  });

  it("resumes after a crash at any stage to the same files as an uninterrupted run", async () => {
    const reference = await freshRun();
    await runLoop(parseRunConfig(baseConfig, "test"), reference, makeParts({ teacherPrompts: [], trainedOn: [] }), seedSet, testSet, silentObserver);
    for (const crashAt of [{ stage: "train", t: 1 }, { stage: "augment", t: 0 }, { stage: "eval", t: 1 }]) {
      const run = await freshRun();
      await expect(runLoop(parseRunConfig(baseConfig, "test"), run, makeParts({ teacherPrompts: [], trainedOn: [] }, crashAt), seedSet, testSet, silentObserver)).rejects.toThrow(/simulated crash/);
      await runLoop(parseRunConfig(baseConfig, "test"), run, makeParts({ teacherPrompts: [], trainedOn: [] }), seedSet, testSet, silentObserver);
      for (const t of [0, 1, 2]) {
        for (const file of await readdir(reference.iterationDir(t))) {
          expect(await readFile(run.file(t, file as never), "utf8"), `${crashAt.stage}@${crashAt.t}: iterations/${t}/${file}`).toBe(await readFile(reference.file(t, file as never), "utf8"));
        }
      }
    }
  });
});
