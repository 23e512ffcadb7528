/**
 * The token sequences each toy model is trained on.
 * - Student: every pool row of both toy tasks, BOS + text + EOS, every token in the loss (plain language
 *   modelling): the domains' language and the arithmetic facts, never a question with its answer.
 * - Teacher: every teacher pair of both tasks as a compact request and its structured answer (loss on the
 *   answer), plus the arithmetic-fact rows of the toy-math pool, so its rationales add up.
 */
import type { ChatWrapper, LlamaModel } from "node-llama-cpp";
import { UsageError } from "../../src/errors.js";
import type { Task } from "../../src/seams.js";
import { StudentTokenizer } from "../../src/student/tokenizer.js";
import type { TokenizedExample } from "../../src/student/train/trainingData.js";
import { resolveTask } from "../../src/tasks/resolveTask.js";
import { teacherTrainingExamples } from "./teacherExamples.js";
import { readPool, readTeacherPairs, toyTasks, type ToyTask } from "./toyCorpora.js";

function eosOf(tokenizer: StudentTokenizer): number {
  if (tokenizer.eos === undefined) throw new UsageError("the toy vocabulary has no EOS token");
  return tokenizer.eos;
}

function languageModelling(texts: readonly string[], tokenizer: StudentTokenizer, firstLine = 1): TokenizedExample[] {
  const eos = eosOf(tokenizer);
  return texts.map((text, i) => ({ ids: [...tokenizer.tokenize(text, { addBos: true }), eos], promptLength: 1, line: firstLine + i }));
}

export function pretrainingExamples(datasetsDir: string, vocab: LlamaModel): TokenizedExample[] {
  const tokenizer = StudentTokenizer.fromModel(vocab);
  return toyTasks.flatMap((task) => languageModelling(readPool(datasetsDir, task), tokenizer));
}

/** The task each toy dataset is run with (src/tasks): gsm8k's prompt for toy-math, classification for intents. */
export function toyTaskDefinition(task: ToyTask, labels: readonly string[]): Task {
  return task === "toy-math" ? resolveTask("gsm8k") : resolveTask("classification", { labels });
}

/** A pool row of arithmetic facts ("6 + 17 = 23\n11 - 2 = 9 …"), as opposed to a question. */
const isFactRow = (text: string) => /^\d+ [-+*] \d+ = \d+/.test(text);

export function teacherCorpus(datasetsDir: string, vocab: LlamaModel, wrapper: ChatWrapper, seed: number): TokenizedExample[] {
  const tokenizer = StudentTokenizer.fromModel(vocab);
  const out: TokenizedExample[] = [];
  for (const task of toyTasks) {
    const pairs = readTeacherPairs(datasetsDir, task);
    const labels = [...new Set(pairs.map((p) => p.source.answer))].sort();
    out.push(...teacherTrainingExamples(pairs, toyTaskDefinition(task, labels), wrapper, vocab.tokenizer, eosOf(tokenizer), seed));
  }
  out.push(...languageModelling(readPool(datasetsDir, "toy-math").filter(isFactRow), tokenizer));
  return out;
}
