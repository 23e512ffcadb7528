/**
 * The two toy models, in one flat place: their shapes, what they read, and how they are trained.
 * Sizes are chosen so `npm run build:models` takes minutes on a 2-core CPU with the native kernels.
 */
import { GgmlType } from "../../src/gguf/index.js";
import type { LlamaShape } from "../../src/student/pretrain/modelShape.js";
import type { TrainFullOptions } from "../../src/student/pretrain/trainFull.js";

export interface ToyModelSpec {
  file: string;
  name: string;
  shape: LlamaShape;
  /** Seed of the initial weights. */
  initSeed: number;
  /**
   * Start from this model of the same width (a file built before, in the same folder): its blocks become the
   * first blocks, the rest start as the identity (growInit.ts). Otherwise from scratch.
   */
  grownFrom?: string;
  training: TrainFullOptions;
  matrixType: GgmlType.F32 | GgmlType.F16;
}

const nVocab = 1265; // models/toy-vocab.gguf

/** One student base for both toy tasks: it reads both pools (the domains' language), never a solved example. */
export const toyStudent: ToyModelSpec = {
  file: "toy-student.gguf",
  name: "llm2llm toy student",
  shape: { nEmbd: 128, nLayer: 4, nHead: 4, nHeadKv: 4, nFf: 352, nCtx: 256, nVocab },
  initSeed: 8101,
  training: { epochs: 4, batchSize: 32, learningRate: 3e-3, warmupRatio: 0.03, weightDecay: 0.1, seed: 8102 },
  matrixType: GgmlType.F32,
};

/**
 * The teacher: bigger (two more blocks) and grown from the student base, so it starts out knowing what the
 * student read (the language, copying a question's numbers, the arithmetic facts) — as a real teacher is a
 * bigger model that read at least as much. It then learns to answer the compact request with a similar
 * example. (Trained from scratch at 2.3M parameters, 4 epochs, it learned the phrasings but not to copy names
 * or numbers: 6 of 50 examples verified, 1 of 50 about its own question.)
 */
export const toyTeacher: ToyModelSpec = {
  file: "toy-teacher.gguf",
  name: "llm2llm toy teacher",
  shape: { nEmbd: 128, nLayer: 6, nHead: 4, nHeadKv: 4, nFf: 352, nCtx: 512, nVocab },
  initSeed: 8201,
  grownFrom: toyStudent.file,
  training: { epochs: 3, batchSize: 32, learningRate: 2e-3, warmupRatio: 0.03, weightDecay: 0.1, seed: 8202 },
  matrixType: GgmlType.F32,
};
