/**
 * Classification (SST-2, TREC, SNIPS): the paper's layout with the label in place of the rationale —
 * "generate N similar sentences with the label X". The worked example is fixed and labelled with a label
 * of its own (it shows the format, not the task); the system prompt lists the task's label set.
 */
import type { Task } from "../../seams.js";
import { more, outputInstruction, plural, studentAnswerPart, type KindPrompts } from "./types.js";

const FREE_TEXT_FORM = "1. Sentence: [SENTENCE]\nLabel: [LABEL]";
const JSON_FORM = '{"examples": [{"question": "[SENTENCE]", "answer": "[LABEL]"}]}';

function requirements(task: Task): string {
  const labels = task.labels?.length ? task.labels.join(", ") : "(the labels of the examples)";
  return `You are an educational A.I. whose purpose is to take sentences that a student labelled wrongly and generate new labelled sentences to help them practice. Your goal is to generate new sentences that test the same distinction as the example sentence, each with its correct label.

Here are the requirements:
1. The sentences should be in English and read like the example: the same kind of text, a similar length and style.
2. Every sentence must clearly belong to the label you give it.
3. The label must be exactly one of: ${labels}.
4. Vary the wording, names and details: don't copy the original sentence.
`;
}

export const classificationPrompts: KindPrompts = {
  system: (task, structured) => `${requirements(task)}\n${outputInstruction(structured, FREE_TEXT_FORM, JSON_FORM)}`,
  workedExample: () => ({
    user: request("will it be sunny in Lisbon on Saturday", "Weather", 1),
    freeText: "Sure! Here is a similar sentence with the label Weather:\n\n1. Sentence: is there any chance of snow in Denver tomorrow morning\nLabel: Weather",
    examples: [{ question: "is there any chance of snow in Denver tomorrow morning", answer: "Weather" }],
  }),
  request: (_task, seed, k, studentAnswer) => request(seed.question, seed.answer, k, studentAnswer),
  freeTextList: (examples) =>
    `Here are ${plural(examples.length, "sentence")}:\n\n` + examples.map((e, i) => `${i + 1}. Sentence: ${e.question.trim()}\nLabel: ${e.answer.trim()}`).join("\n\n"),
  askForMore: (_task, seed, k) => `Now generate ${more(k, "sentence")} with the label ${seed.answer.trim()}, different from the ones you just generated.`,
};

function request(sentence: string, label: string, k: number, studentAnswer?: string): string {
  return (
    `The student was given the following sentence:\n\n${sentence.trim()}\n\n` +
    `The answer key has this as the label:\n\n${label.trim()}\n\n` +
    studentAnswerPart(studentAnswer) +
    `Please generate ${plural(k, "sentence")} with the label ${label.trim()}.`
  );
}
