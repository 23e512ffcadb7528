/**
 * Full-parameter training (src/student/pretrain) and the toy-model build pieces (models/build), on models
 * small enough to train in seconds: the linear-time segment sum equals the definition, training lowers the
 * loss and moves every weight, a seeded run writes byte-identical GGUF files (what makes `npm run
 * build:models` reproducible), llama.cpp runs what the writer wrote exactly as the tfjs student does, and the
 * teacher's chat template resolves to the wrapper whose rendering the teacher is trained on.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { initBackend } from "../src/backend/tfjsBackend.js";
import { GgmlType, openGguf } from "../src/gguf/index.js";
import { initialWeights } from "../src/student/pretrain/initialWeights.js";
import { parameterCount, type LlamaShape } from "../src/student/pretrain/modelShape.js";
import { registerFastSegmentSum } from "../src/student/pretrain/segmentSumKernel.js";
import { TrainableStudent } from "../src/student/pretrain/TrainableStudent.js";
import { trainFull } from "../src/student/pretrain/trainFull.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import type { TokenizedExample } from "../src/student/train/trainingData.js";
import { chatWrapperFor } from "../src/teacher/chatWrapper.js";
import { GENERAL_CHAT_TEMPLATE, toyTeacherChatWrapper } from "../models/build/chatTemplate.js";
import { renderTeacherExample } from "../models/build/teacherExamples.js";
import { toyTaskDefinition } from "../models/build/corpora.js";
import { toyStudent } from "../models/build/toyModelSpecs.js";
import { writeToyModel } from "../models/build/writeToyModel.js";
import { repoRoot } from "./fixtures.js";
import { checkParity, parityBounds } from "./helpers/parity.js";

const vocabPath = path.join(repoRoot, "models/toy-vocab.gguf");
const tiny: LlamaShape = { nEmbd: 32, nLayer: 2, nHead: 2, nHeadKv: 2, nFf: 64, nCtx: 128, nVocab: toyStudent.shape.nVocab };
const texts = [
  "Jack had 8 marbles. Jack lost 2 of them. How many marbles does Jack have now?",
  "6 + 17 = 23\n11 - 2 = 9\n21 - 11 = 10",
  "wake me up at 8 am tomorrow",
  "Noah has 15 oranges and Ruby has 20 oranges. How many more oranges does Ruby have than Noah?",
];

let tokenizer: StudentTokenizer;
let examples: TokenizedExample[];
let dir: string;

beforeAll(async () => {
  await initBackend();
  tokenizer = await StudentTokenizer.load(vocabPath);
  examples = texts.map((t, i) => ({ ids: [...tokenizer.tokenize(t, { addBos: true }), tokenizer.eos!], promptLength: 1, line: i + 1 }));
  dir = mkdtempSync(path.join(tmpdir(), "toy-models-"));
});

afterAll(async () => {
  await tokenizer?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The first seeded run, shared by the tests that need a trained file. */
let firstRun: ReturnType<typeof trainAndWrite> | undefined;
const trainedOnce = () => (firstRun ??= trainAndWrite(path.join(dir, "a.gguf"), 12));

/** Trains a tiny model for a few steps and writes it; returns the file's sha256 and the loss curve. */
async function trainAndWrite(file: string, steps: number) {
  const student = await TrainableStudent.create(tiny, initialWeights(tiny, 7));
  try {
    const before = student.variables.map((v) => v.dataSync().slice());
    const result = trainFull(student, examples, { epochs: steps, batchSize: 4, learningRate: 1e-2, warmupRatio: 0, seed: 3 });
    const moved = student.variables.map((v, i) => v.dataSync().some((x, j) => x !== before[i]![j]));
    await writeToyModel(student, { path: file, name: "tiny", vocabPath, matrixType: GgmlType.F32, chatTemplate: GENERAL_CHAT_TEMPLATE });
    return { sha: createHash("sha256").update(readFileSync(file)).digest("hex"), losses: result.lossCurve.map((p) => p.loss), moved };
  } finally {
    student.dispose();
  }
}

describe("full-parameter training (pretraining from scratch)", () => {
  it("the linear-time UnsortedSegmentSum (the embedding gradient) equals the definition, ids out of range dropped", () => {
    registerFastSegmentSum();
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]);
    const ids = tf.tensor1d([2, 0, 2, -1, 5], "int32");
    const out = tf.unsortedSegmentSum(x, ids, 4);
    expect(out.shape).toEqual([4, 2]);
    expect(Array.from(out.dataSync())).toEqual([3, 4, 0, 0, 6, 8, 0, 0]);
    // The gradient of tf.gather goes through it: d/dE sum(gather(E, ids)) counts each row's uses.
    const table = tf.variable(tf.zeros([5, 3]));
    const { grads } = tf.variableGrads(() => tf.gather(table, tf.tensor1d([1, 3, 1, 1], "int32")).sum() as tf.Scalar, [table]);
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([0, 0, 0, 3, 3, 3, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
    tf.dispose([x, ids, out, table, ...Object.values(grads)]);
  });

  it("lowers the loss, updates every weight, and a seeded run writes byte-identical GGUF files", async () => {
    expect(parameterCount(tiny)).toBe(tiny.nVocab * 32 * 2 + 2 * (4 * 32 * 32 + 3 * 32 * 64 + 2 * 32) + 32);
    const first = await trainedOnce();
    const second = await trainAndWrite(path.join(dir, "b.gguf"), 12);
    expect(first.losses[0]).toBeGreaterThan(6.5); // ≈ ln(vocabulary size) ≈ 7.14 from a random start
    expect(first.losses.at(-1)!).toBeLessThan(first.losses[0]! - 2);
    expect(first.moved.every(Boolean)).toBe(true);
    expect(second.losses).toEqual(first.losses);
    expect(second.sha).toBe(first.sha);
  });

  describe("the written GGUF", () => {
    let model: LlamaModel;
    let student: StudentModel;
    beforeAll(async () => {
      await trainedOnce();
      const file = path.join(dir, "a.gguf");
      model = await (await getLlamaCpp()).loadModel({ modelPath: file });
      student = await StudentModel.fromGguf(await openGguf(file));
    });
    afterAll(async () => {
      student?.dispose();
      await model?.dispose();
    });

    it("llama.cpp and the tfjs student compute the same next-token distributions", async () => {
      expect(student.config).toMatchObject({ nEmbd: 32, nLayer: 2, nHead: 2, nFf: 64, nVocab: tiny.nVocab, nCtxTrain: 128, tiedOutput: false });
      const tokens = examples.flatMap((e) => e.ids).slice(0, parityBounds.minPositions + 8);
      const result = await checkParity(model, student, tokens);
      expect(result.positions).toBeGreaterThanOrEqual(parityBounds.minPositions);
      expect(result.meanKl).toBeLessThan(parityBounds.maxMeanKl);
      expect(result.argmaxAgreement).toBeGreaterThanOrEqual(parityBounds.minArgmaxAgreement);
    });

    it("its chat template resolves to node-llama-cpp's General wrapper, rendered exactly as the build renders the teacher's data", async () => {
      const runtime = chatWrapperFor(model); // what LocalTeacher uses
      expect(runtime.wrapperName).toBe("General");
      const vocab = await (await getLlamaCpp()).loadModel({ modelPath: vocabPath, vocabOnly: true });
      try {
        const task = toyTaskDefinition("toy-math", []);
        const seed = { id: "s1", question: texts[0]!, answer: "8 - 2 = 6\n#### 6" };
        const answer = '{"examples": [{"question": "Ava had 9 cups. Ava lost 4 of them. How many cups does Ava have now?", "answer": "9 - 4 = 5\\n#### 5"}]}';
        const atRunTime = renderTeacherExample(runtime, model.tokenizer, task, seed, answer, "8 - 2 = 7\n#### 7");
        const atBuild = renderTeacherExample(toyTeacherChatWrapper(vocab), vocab.tokenizer, task, seed, answer, "8 - 2 = 7\n#### 7");
        expect(atBuild).toEqual(atRunTime);
        const promptText = model.detokenize(atRunTime.prompt as never, true);
        expect(promptText).toContain("### Human\nThe student was given the following question:\n\nJack had 8 marbles.");
        expect(promptText).toContain("The student answered:\n\n8 - 2 = 7\n#### 7\n\nwhich is wrong.");
        expect(promptText.trimStart().startsWith("<s>")).toBe(true);
        expect(promptText.endsWith("### Assistant\n")).toBe(true);
        expect(model.detokenize(atRunTime.completion as never, false)).toBe(answer);
      } finally {
        await vocab.dispose();
      }
    });
  });
});
