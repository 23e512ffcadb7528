/**
 * `npx tsx models/build/checkToyModels.ts [--models DIR] [--extra N] [--only teacher|student]`: measures
 * what the toy models are for (models/README.md), on toy-math:
 * - teacher: for every seed example, the compact request (k = 1, structured, npm start's sampling), then
 *   parse → validate → verify (src/augment) — the verifier's acceptance rate — and whether the new example has the seed's skill (its steps' operators) and uses its own question's numbers;
 * - student: a fresh LoRA (npm start's toy-math training options) on the seed set alone, and on the seed set
 *   plus N teacher-corpus examples of each rare skill; test accuracy per skill for both.
 * An experiment for the report, not a test: its numbers depend on the models.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { augmentationJsonSchema, parseStructured, verifyMathAnswer } from "../../src/augment/index.js";
import { embeddedDefaultConfig } from "../../src/pipeline/embeddedDefault.js";
import { evaluateStudent } from "../../src/pipeline/evaluate.js";
import { trainOptionsSchema } from "../../src/pipeline/runConfig.js";
import type { Example, Task } from "../../src/seams.js";
import { LlamaCppStudentGenerator } from "../../src/student/evaluate/LlamaCppStudentGenerator.js";
import { trainAdapterFile } from "../../src/student/train/trainAdapterFile.js";
import type { TrainLoraOptions } from "../../src/student/train/trainLora.js";
import { LocalTeacher } from "../../src/teacher/LocalTeacher.js";
import { toyTaskDefinition } from "./corpora.js";
import { compactTeacherRequest } from "./teacherPrompt.js";
import { readTeacherPairs } from "./toyCorpora.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const datasetsDir = path.resolve(here, "../../datasets");
const rareSkills = ["buy_then_give", "groups_plus_extra"];

function readExamples(file: string, prefix: string): Example[] {
  return readFileSync(file, "utf8").trim().split("\n").map((line, i) => {
    const o = JSON.parse(line) as { question: string; answer: string };
    return { id: `${prefix}${i + 1}`, question: o.question, answer: o.answer };
  });
}

/** The skill of each row, from the manifest's `skill/phrasing` list. */
function skillsOf(split: "seedSet" | "test"): string[] {
  const manifest = JSON.parse(readFileSync(path.join(datasetsDir, "toy-math/manifest.json"), "utf8"));
  return (manifest[split].rowPhrasings as string[]).map((p) => p.split("/")[0]!);
}

/** The operators of an answer's steps ("+-" for buy_then_give): its skill's shape. */
function stepShape(answer: string): string {
  return [...answer.matchAll(/\d+ ([-+*/]) \d+ =/g)].map((m) => m[1]).join("");
}

/**
 * Whether every operand of the rationale is a number of the question or an earlier step's result: a verified
 * answer can still solve another question than the one written (the verifier checks only the arithmetic).
 */
function grounded(question: string, answer: string): boolean {
  const known = new Set(question.match(/\d+/g) ?? []);
  for (const m of answer.matchAll(/(\d+) [-+*/] (\d+) = (\d+)/g)) {
    if (!known.has(m[1]!) || !known.has(m[2]!)) return false;
    known.add(m[3]!);
  }
  return true;
}

async function checkTeacher(modelPath: string, task: Task, seeds: Example[]) {
  const teacher = await LocalTeacher.load({ modelPath, parallel: 4, threads: 1, contextSize: 512 });
  const schema = augmentationJsonSchema("math", { count: 1 });
  const requests = seeds.map((seed, i) => ({ ...compactTeacherRequest(task, seed, 1), jsonSchema: schema, sampling: { maxTokens: 160, ...embeddedDefaultConfig("toy-math").teacherSampling!, seed: 1000 + i } }));
  const started = performance.now();
  const completions = await teacher.complete(requests);
  const seconds = (performance.now() - started) / 1000;
  await teacher.dispose();
  const counts = { requests: seeds.length, errors: 0, parsed: 0, valid: 0, verified: 0, sameShape: 0, verifiedAndSameShape: 0, verifiedAndGrounded: 0 };
  const samples: string[] = [];
  completions.forEach((c, i) => {
    if (c.error) return void counts.errors++;
    const parsed = parseStructured(c.text);
    if (!parsed.ok || parsed.candidates.length === 0) return;
    counts.parsed++;
    const candidate = parsed.candidates[0]!;
    if (task.invalidReason({ id: "x", question: candidate.question, answer: candidate.answer }) !== undefined) return;
    counts.valid++;
    const verified = verifyMathAnswer(candidate.answer).failure === undefined;
    const same = stepShape(candidate.answer) === stepShape(seeds[i]!.answer);
    if (verified) counts.verified++;
    if (same) counts.sameShape++;
    if (verified && same) counts.verifiedAndSameShape++;
    if (verified && grounded(candidate.question, candidate.answer)) counts.verifiedAndGrounded++;
    if (samples.length < 6) samples.push(`${seeds[i]!.question}\n  → ${candidate.question} | ${candidate.answer.replaceAll("\n", "; ")} [${verified ? "ok" : "WRONG"}]`);
  });
  return { ...counts, seconds: Math.round(seconds), samples };
}

async function trainAndTest(modelPath: string, task: Task, train: Example[], test: Example[], testSkills: string[], dir: string, name: string, training: Partial<TrainLoraOptions>) {
  const adapter = path.join(dir, `${name}.gguf`);
  const examples = train.map((e, i) => ({ prompt: task.formatPrompt(e), completion: task.formatCompletion(e), line: i + 1 }));
  const { summary } = await trainAdapterFile({ modelPath, examples, dataFile: name, outPath: adapter, maxLength: 256, training: { seed: 0, ...training } });
  const student = await LlamaCppStudentGenerator.load({ modelPath, adapterPath: adapter, parallel: 8 });
  const evaluated = await evaluateStudent(student, task, test, { mode: "greedy", seed: 0, maxTokens: 64 });
  await student.dispose();
  const perSkill: Record<string, string> = {};
  for (const skill of [...new Set(testSkills)].sort()) {
    const rows = evaluated.filter((_, i) => testSkills[i] === skill);
    perSkill[skill] = `${rows.filter((r) => r.correct).length}/${rows.length}`;
  }
  const accuracy = evaluated.filter((e) => e.correct).length / evaluated.length;
  return { train: train.length, finalLoss: Number(summary.finalLoss.toFixed(4)), seconds: Math.round(summary.seconds), accuracy: Number(accuracy.toFixed(3)), perSkill, wrongSample: evaluated.filter((e) => !e.correct).slice(0, 3).map((e) => `${e.example.question} → ${JSON.stringify(e.prediction)}`) };
}

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const modelsDir = path.resolve(arg("--models") ?? path.resolve(here, ".."));
const only = arg("--only");
const extraPerSkill = Number(arg("--extra") ?? 10);
/** LoRA options (default: what `npm start` trains toy-math with, src/pipeline/embeddedDefault.ts). */
const loopDefaults = trainOptionsSchema.parse(embeddedDefaultConfig("toy-math").train);
const training: Partial<TrainLoraOptions> = {
  lora: { rank: loopDefaults.rank, alpha: loopDefaults.alpha, dropout: loopDefaults.dropout, targets: loopDefaults.targets },
  learningRate: loopDefaults.learningRate,
  epochs: loopDefaults.epochs,
  batchSize: loopDefaults.batchSize,
  ...(arg("--epochs") ? { epochs: Number(arg("--epochs")) } : {}),
  ...(arg("--lr") ? { learningRate: Number(arg("--lr")) } : {}),
};
const task = toyTaskDefinition("toy-math", []);
const seeds = readExamples(path.join(datasetsDir, "toy-math/seed.jsonl"), "seed-");
const test = readExamples(path.join(datasetsDir, "toy-math/test.jsonl"), "test-");
const result: Record<string, unknown> = {};
if (only !== "student") result.teacher = await checkTeacher(path.join(modelsDir, "toy-teacher.gguf"), task, seeds);
if (only !== "teacher") {
  const dir = mkdtempSync(path.join(tmpdir(), "toy-check-"));
  try {
    const student = path.join(modelsDir, "toy-student.gguf");
    const testSkills = skillsOf("test");
    result.seedOnly = await trainAndTest(student, task, seeds, test, testSkills, dir, "seed-only", training);
    const pairs = readTeacherPairs(datasetsDir, "toy-math");
    const extraSkills = arg("--extra-skills") === "all" ? ["add", "subtract", "multiply", "compare", ...rareSkills] : rareSkills;
    const extra = extraSkills.flatMap((skill) => pairs.filter((p) => p.kind === skill).slice(0, extraPerSkill))
      .map((p, i): Example => ({ id: `extra-${i + 1}`, question: p.similar.question, answer: p.similar.answer }));
    result.seedPlusExtra = await trainAndTest(student, task, [...seeds, ...extra], test, testSkills, dir, "seed-plus-extra", training);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
