/**
 * The toy teacher's training examples: each teacher pair becomes the exact token sequence the teacher sees
 * and should write at run time — the compact request for the pair's source example, rendered by the chat
 * wrapper node-llama-cpp resolves for the teacher GGUF (GeneralChatWrapper, see chatTemplate.ts), then the
 * structured answer holding the similar example, then EOS. The loss covers the answer and EOS only.
 * A third of the requests also show a (made-up) wrong student answer, as the loop may include the student's.
 */
import { type ChatWrapper, type Tokenizer } from "node-llama-cpp";
import { UsageError } from "../../src/errors.js";
import type { Example, Task } from "../../src/seams.js";
import type { TokenizedExample } from "../../src/student/train/trainingData.js";
import { SeededRandom } from "../../src/student/train/seededRandom.js";
import { chatHistory } from "../../src/teacher/LocalTeacher.js";
import { compactTeacherRequest, structuredAnswer } from "./teacherPrompt.js";
import type { TeacherPair } from "./toyCorpora.js";

export interface RenderedTeacherExample {
  prompt: number[];
  completion: number[];
}

/** Prompt tokens (as LlamaChat tokenizes the context) and answer tokens, split exactly at the answer. */
export function renderTeacherExample(wrapper: ChatWrapper, tokenizer: Tokenizer, task: Task, seed: Example, answerJson: string, studentAnswer?: string): RenderedTeacherExample {
  const request = compactTeacherRequest(task, seed, 1, studentAnswer);
  const history = chatHistory(request);
  const prompt = wrapper.generateContextState({ chatHistory: history }).contextText.tokenize(tokenizer);
  const answered = [...history.slice(0, -1), { type: "model" as const, response: [answerJson] }];
  const full = wrapper.generateContextState({ chatHistory: answered }).contextText.tokenize(tokenizer);
  // The answer's tokens are what follows the prompt's: check that the prompt is really their prefix.
  if (full.length <= prompt.length || prompt.some((t, i) => full[i] !== t)) {
    throw new UsageError(`teacher example ${seed.id}: the rendered prompt is not a token prefix of prompt + answer; cannot split the loss mask`);
  }
  return { prompt: prompt.map(Number), completion: full.slice(prompt.length).map(Number) };
}

/** A wrong answer a student could have given: another final number (math) or another label. */
export function madeUpWrongAnswer(task: Task, gold: string, random: SeededRandom): string {
  if (task.kind !== "math") {
    const others = (task.labels ?? []).filter((l) => l !== gold);
    return others[random.int(others.length)] ?? gold;
  }
  const final = /#### (\d+)\s*$/.exec(gold);
  if (!final) return gold;
  const right = Number(final[1]);
  const wrong = right + (random.int(2) === 0 ? -1 : 1) * (1 + random.int(5));
  // Every place the right result appears (the last step and the #### line), as a whole number.
  return gold.replace(new RegExp(`\\b${right}\\b`, "g"), String(Math.abs(wrong)));
}

export function teacherTrainingExamples(
  pairs: readonly TeacherPair[],
  task: Task,
  wrapper: ChatWrapper,
  tokenizer: Tokenizer,
  eos: number,
  seed: number,
): TokenizedExample[] {
  const random = new SeededRandom(seed);
  return pairs.map((pair) => {
    const source: Example = { id: `${pair.task}:${pair.line}`, question: pair.source.question, answer: pair.source.answer };
    const studentAnswer = random.int(3) === 0 ? madeUpWrongAnswer(task, pair.source.answer, random) : undefined;
    const { prompt, completion } = renderTeacherExample(wrapper, tokenizer, task, source, structuredAnswer([pair.similar]), studentAnswer);
    return { ids: [...prompt, ...completion, eos], promptLength: prompt.length, line: pair.line };
  });
}
