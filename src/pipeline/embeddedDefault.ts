/**
 * The embedded default (DESIGN.md §7): the toy world the project builds and ships, so `npm start` shows the
 * whole LLM2LLM loop on a laptop CPU in minutes. Models in models/, data in datasets/ (both rebuilt by
 * `npm run build:models` / `npm run build:datasets`).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunConfig } from "./runConfig.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const embeddedTasks = ["toy-math", "toy-intents"] as const;
export type EmbeddedTask = (typeof embeddedTasks)[number];

/**
 * What differs per toy task. toy-math: fewer LoRA epochs, so the seed-only student still gets some of its own
 * seed examples wrong (at 20 epochs the 1M toy student memorises 47 of 50 and the teacher would have almost
 * nothing to work on), and more new examples per wrong one.
 */
const perTask: Record<EmbeddedTask, { k: number; epochs: number }> = {
  "toy-math": { k: 20, epochs: 17 },
  "toy-intents": { k: 2, epochs: 20 },
};

/** The run config of the demo for one toy task; every path inside the repository. */
export function embeddedDefaultConfig(task: EmbeddedTask): Record<string, unknown> & Partial<RunConfig> {
  const data = (file: string) => path.join(repoRoot, "datasets", task, file);
  const { k, epochs } = perTask[task];
  return {
    student: path.join(repoRoot, "models/toy-student.gguf"),
    teacher: path.join(repoRoot, "models/toy-teacher.gguf"),
    task: task === "toy-math" ? "gsm8k" : "classification",
    seedData: data("seed.jsonl"),
    testData: data("test.jsonl"),
    iterations: 4,
    k,
    seed: 0,
    train: { rank: 16, alpha: 32, dropout: 0, learningRate: 5e-3, epochs, batchSize: 8, maxLength: 160, targets: ["q", "k", "v", "o", "gate", "up", "down"] },
    teacherSampling: { temperature: 0.3, topP: 0.9, maxTokens: 160 },
    structured: true,
    teacherParallel: 4,
    evalParallel: 8,
    evalMaxTokens: 48,
  };
}
