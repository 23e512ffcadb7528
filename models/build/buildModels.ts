/**
 * `npm run build:models [-- --out DIR] [--only student|teacher] [--scale F]`: trains the toy student from
 * scratch, then the toy teacher grown from it (two more blocks, toyModelSpecs.ts), with the project's
 * full-parameter trainer (native kernels) and writes them with the project's GGUF writer into DIR (default:
 * models/; `--only teacher` grows from the student already in DIR). Deterministic on one machine: fixed seeds, a fixed
 * backend and thread count, nothing time-dependent in the files; it prints each file's sha256.
 * `--scale` multiplies the epochs (fractions train on a prefix of the data): for quick experiments only.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlamaCpp } from "../../src/backend/llamaCpp.js";
import { setNativeThreads } from "../../src/backend/nativeKernels.js";
import { initBackend } from "../../src/backend/tfjsBackend.js";
import { UsageError } from "../../src/errors.js";
import { initialWeights } from "../../src/student/pretrain/initialWeights.js";
import { parameterCount } from "../../src/student/pretrain/modelShape.js";
import { TrainableStudent } from "../../src/student/pretrain/TrainableStudent.js";
import { trainFull } from "../../src/student/pretrain/trainFull.js";
import type { TokenizedExample } from "../../src/student/train/trainingData.js";
import { GENERAL_CHAT_TEMPLATE, toyTeacherChatWrapper } from "./chatTemplate.js";
import { grownWeights } from "./growInit.js";
import { pretrainingExamples, teacherCorpus } from "./corpora.js";
import { toyStudent, toyTeacher, type ToyModelSpec } from "./toyModelSpecs.js";
import { writeToyModel, type ToyModelFile } from "./writeToyModel.js";

const modelsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const datasetsDir = path.resolve(modelsDir, "../datasets");
const vocabPath = path.join(modelsDir, "toy-vocab.gguf");

/** Native kernels with a fixed thread count: the same bits on every run of this machine. */
const buildThreads = 2;

export interface BuiltModel {
  file: string;
  spec: ToyModelSpec;
  parameters: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  seconds: number;
  tokensPerSecond: number;
  sha256: string;
}

/**
 * Written into the teacher GGUF: the prompt layout it was trained on (teacherPrompt.ts), for the loop to pick
 * the same one. llama.cpp ignores keys it does not know.
 */
export const teacherPromptKey = { key: "llm2llm.teacher.prompt_style", type: "string" as const, value: "compact" };

async function buildOne(spec: ToyModelSpec, examples: TokenizedExample[], outDir: string, scale: number, fileExtras: Pick<ToyModelFile, "chatTemplate" | "extra"> = {}): Promise<BuiltModel> {
  const epochs = Math.max(1, Math.round(spec.training.epochs * scale));
  const data = scale < 1 ? examples.slice(0, Math.ceil(examples.length * scale * spec.training.epochs)) : examples;
  const parameters = parameterCount(spec.shape);
  process.stderr.write(`${spec.file}: ${parameters.toLocaleString("en")} parameters, ${data.length} examples, ${epochs} epochs\n`);
  const init = spec.grownFrom ? await grownWeights(path.join(outDir, spec.grownFrom), spec.shape, spec.initSeed) : initialWeights(spec.shape, spec.initSeed);
  const student = await TrainableStudent.create(spec.shape, init);
  try {
    let window = 0;
    const result = trainFull(student, data, { ...spec.training, epochs }, (point, total) => {
      window += point.loss;
      if (point.step % 50 === 0 || point.step === total) {
        const mean = window / (point.step % 50 || 50);
        window = 0;
        process.stderr.write(`  step ${point.step}/${total}  epoch ${point.epoch}  loss ${mean.toFixed(4)}  lr ${point.learningRate.toExponential(2)}  ${(point.elapsedMs / 1000).toFixed(0)} s\n`);
      }
    });
    const file = path.join(outDir, spec.file);
    await writeToyModel(student, { path: file, name: spec.name, vocabPath, matrixType: spec.matrixType, ...fileExtras });
    const curve = result.lossCurve;
    return {
      file,
      spec: { ...spec, training: { ...spec.training, epochs } },
      parameters,
      steps: result.totalSteps,
      firstLoss: curve[0]!.loss,
      finalLoss: mean(curve.slice(-20).map((p) => p.loss)),
      seconds: result.seconds,
      tokensPerSecond: result.tokensPerSecond,
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    };
  } finally {
    student.dispose();
  }
}

function mean(values: number[]): number {
  return values.reduce((s, x) => s + x, 0) / values.length;
}

export async function buildToyModels(options: { outDir: string; only?: "student" | "teacher"; scale?: number }): Promise<BuiltModel[]> {
  process.env.LLM2LLM_BACKEND ??= "native";
  const backend = await initBackend();
  setNativeThreads(buildThreads);
  process.stderr.write(`backend: ${backend.description}\n`);
  const llama = await getLlamaCpp();
  const vocab = await llama.loadModel({ modelPath: vocabPath, vocabOnly: true });
  const scale = options.scale ?? 1;
  const built: BuiltModel[] = [];
  try {
    if (options.only !== "teacher") built.push(await buildOne(toyStudent, pretrainingExamples(datasetsDir, vocab), options.outDir, scale));
    if (options.only !== "student") {
      const corpus = teacherCorpus(datasetsDir, vocab, toyTeacherChatWrapper(vocab), toyTeacher.training.seed);
      built.push(await buildOne(toyTeacher, corpus, options.outDir, scale, { chatTemplate: GENERAL_CHAT_TEMPLATE, extra: [teacherPromptKey] }));
    }
  } finally {
    await vocab.dispose();
  }
  return built;
}

/**
 * models/toy-models.json: what each file is and how it was made — deterministic fields only (no timings), so a
 * rebuild on this machine rewrites it byte for byte; test/toy-models.test.ts checks the files against it.
 */
function writeManifest(outDir: string, built: BuiltModel[]): void {
  const file = path.join(outDir, "toy-models.json");
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { models: Record<string, unknown>[] }).models : [];
  const entries = built.map((b) => ({
    file: b.spec.file,
    name: b.spec.name,
    shape: b.spec.shape,
    parameters: b.parameters,
    initSeed: b.spec.initSeed,
    ...(b.spec.grownFrom ? { grownFrom: b.spec.grownFrom } : {}),
    training: b.spec.training,
    matrixType: b.spec.matrixType === 1 ? "F16" : "F32",
    steps: b.steps,
    firstLoss: Number(b.firstLoss.toFixed(4)),
    finalLoss: Number(b.finalLoss.toFixed(4)),
    sha256: b.sha256,
  }));
  const models = [toyStudent.file, toyTeacher.file]
    .map((name) => entries.find((e) => e.file === name) ?? previous.find((e) => e.file === name))
    .filter((e) => e !== undefined);
  const note = "written by `npm run build:models` (models/build/buildModels.ts); losses are per token (teacher: answer tokens only)";
  writeFileSync(file, `${JSON.stringify({ note, models }, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const only = arg("--only");
  if (only !== undefined && only !== "student" && only !== "teacher") throw new UsageError(`--only: expected student or teacher, got ${only}`);
  const scale = Number(arg("--scale") ?? 1);
  if (!(scale > 0)) throw new UsageError(`--scale: expected a positive number`);
  const outDir = path.resolve(arg("--out") ?? modelsDir);
  const built = await buildToyModels({ outDir, ...(only ? { only } : {}), scale });
  writeManifest(outDir, built);
  for (const b of built) {
    process.stderr.write(`${path.relative(process.cwd(), b.file)}: ${b.parameters.toLocaleString("en")} parameters, ${b.steps} steps, loss ${b.firstLoss.toFixed(3)} → ${b.finalLoss.toFixed(3)}, ${b.seconds.toFixed(0)} s (${b.tokensPerSecond.toFixed(0)} tokens/s)\n  sha256 ${b.sha256}\n`);
  }
}
