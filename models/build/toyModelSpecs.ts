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

/** The teacher: bigger; reads the arithmetic facts and learns to answer the compact request with a similar example. */
export const toyTeacher: ToyModelSpec = {
  file: "toy-teacher.gguf",
  name: "llm2llm toy teacher",
  shape: { nEmbd: 192, nLayer: 4, nHead: 6, nHeadKv: 6, nFf: 512, nCtx: 512, nVocab },
  initSeed: 8201,
  training: { epochs: 4, batchSize: 32, learningRate: 2e-3, warmupRatio: 0.03, weightDecay: 0.1, seed: 8202 },
  matrixType: GgmlType.F32,
};
