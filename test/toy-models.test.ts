/**
 * The committed toy models (models/toy-student.gguf, models/toy-teacher.gguf, built by `npm run build:models`):
 * they are the files the build recorded (models/toy-models.json), llama.cpp and the tfjs student load them and
 * agree, the student knows the toy domains' language but not the task, and the teacher answers the compact
 * request with JSON that parses under the augmentation schema's grammar.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { augmentationJsonSchema, parseStructured } from "../src/augment/index.js";
import { initBackend } from "../src/backend/tfjsBackend.js";
import type { Example } from "../src/seams.js";
import type { StudentModel } from "../src/student/StudentModel.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { toyTaskDefinition } from "../models/build/corpora.js";
import { compactTeacherRequest } from "../models/build/teacherPrompt.js";
import { toyStudent, toyTeacher } from "../models/build/toyModelSpecs.js";
import { repoRoot } from "./fixtures.js";
import { checkParity, llamaCppGreedy, llamaCppLogits, loadLlamaCppModel, loadStudent, parityBounds } from "./helpers/parity.js";

const modelsDir = path.join(repoRoot, "models");
const studentPath = path.join(modelsDir, toyStudent.file);
const teacherPath = path.join(modelsDir, toyTeacher.file);

function jsonl<T>(file: string): T[] {
  return readFileSync(path.join(repoRoot, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as T);
}

describe("the committed toy models", () => {
  it("are the files `npm run build:models` recorded, together under 30 MB", () => {
    const manifest = JSON.parse(readFileSync(path.join(modelsDir, "toy-models.json"), "utf8")) as { models: { file: string; sha256: string }[] };
    let bytes = 0;
    for (const file of [toyStudent.file, toyTeacher.file]) {
      const data = readFileSync(path.join(modelsDir, file));
      bytes += data.length;
      const recorded = manifest.models.find((m) => m.file === file);
      expect(recorded, `${file} in models/toy-models.json`).toBeDefined();
      expect(createHash("sha256").update(data).digest("hex")).toBe(recorded!.sha256);
    }
    expect(bytes).toBeLessThan(30 * 1024 * 1024);
  });

  describe("student", () => {
    let model: LlamaModel;
    let student: StudentModel;
    beforeAll(async () => {
      await initBackend();
      model = await loadLlamaCppModel(studentPath);
      student = await loadStudent(studentPath);
    });
    afterAll(async () => {
      student?.dispose();
      await model?.dispose();
    });

    it("llama.cpp and the tfjs student agree on it", async () => {
      expect(student.config).toMatchObject({ architecture: "llama", nEmbd: toyStudent.shape.nEmbd, nLayer: toyStudent.shape.nLayer, nVocab: toyStudent.shape.nVocab });
      const text = jsonl<{ question: string }>("datasets/toy-math/test.jsonl").slice(0, 3).map((r) => r.question).join(" ");
      const tokens = [...model.tokenize(text), ...model.tokenize(" wake me up at 8 am tomorrow", false, "trimLeadingSpace")].map(Number);
      const result = await checkParity(model, student, [1, ...tokens].slice(0, parityBounds.minPositions + 4));
      expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
      expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
      expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
    });

    it("knows the domains' language: test questions and utterances it never read cost far less than a uniform guess", async () => {
      const texts = [
        ...jsonl<{ question: string }>("datasets/toy-math/test.jsonl").slice(0, 10).map((r) => r.question),
        ...jsonl<{ text: string }>("datasets/toy-intents/test.jsonl").slice(0, 10).map((r) => r.text),
      ];
      let nll = 0;
      let count = 0;
      for (const text of texts) {
        const ids = [1, ...model.tokenize(text).map(Number)];
        const logits = await llamaCppLogits(model, ids);
        for (let i = 0; i + 1 < ids.length; i++) {
          const row = logits[i]!;
          const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
          const logSum = Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max;
          nll += logSum - row[ids[i + 1]!]!;
          count++;
        }
      }
      // Uniform over the ~1,265 tokens is ln 1265 = 7.14 nats per token.
      expect(nll / count).toBeLessThan(1.5);
    });

    it("does not know the task: the base model does not answer test problems with their `#### N`", async () => {
      const task = toyTaskDefinition("toy-math", []);
      const rows = jsonl<{ question: string; answer: string }>("datasets/toy-math/test.jsonl").slice(0, 10);
      let correct = 0;
      for (const [i, row] of rows.entries()) {
        const example: Example = { id: `t${i}`, ...row };
        const prompt = [1, ...model.tokenize(task.formatPrompt(example), false, "trimLeadingSpace").map(Number)];
        const out = await llamaCppGreedy(model, prompt, 24);
        if (task.isCorrect(model.detokenize(out as Token[]), example)) correct++;
      }
      expect(correct).toBeLessThanOrEqual(2);
    });
  });

  describe("teacher", () => {
    let teacher: LocalTeacher;
    beforeAll(async () => {
      teacher = await LocalTeacher.load({ modelPath: teacherPath, parallel: 4, threads: 1, contextSize: 512 });
    });
    afterAll(async () => {
      await teacher?.dispose();
    });

    it("uses the General chat wrapper and answers compact requests with JSON that parses under the schema's grammar", async () => {
      expect(teacher.chatWrapperName).toBe("General");
      const math = toyTaskDefinition("toy-math", []);
      const seeds = jsonl<{ question: string; answer: string }>("datasets/toy-math/seed.jsonl").slice(0, 4);
      const schema = augmentationJsonSchema("math", { count: 1 });
      const requests = seeds.map((s, i) => ({ ...compactTeacherRequest(math, { id: `s${i}`, ...s }, 1), jsonSchema: schema, sampling: { temperature: 0, maxTokens: 200 } }));
      const completions = await teacher.complete(requests);
      for (const c of completions) {
        expect(c.error).toBeUndefined();
        const parsed = parseStructured(c.text);
        expect(parsed.ok, c.text).toBe(true);
        if (!parsed.ok) continue;
        expect(parsed.candidates).toHaveLength(1);
        expect(math.invalidReason({ id: "x", ...parsed.candidates[0]! }), c.text).toBeUndefined();
      }
    });
  });
});
