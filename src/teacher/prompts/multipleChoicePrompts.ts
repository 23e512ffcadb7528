/**
 * Multiple choice (CaseHOLD): the paper's layout with the choices and the right letter as the answer key —
 * "generate N similar questions, each with its choices and the correct answer".
 */
import type { Example, Task } from "../../seams.js";
import { LETTERS } from "../../tasks/multipleChoiceTask.js";
import { more, outputInstruction, plural, studentAnswerPart, type KindPrompts } from "./types.js";

const FREE_TEXT_FORM = "1. Question: [QUESTION]\n(A) [CHOICE]\n(B) [CHOICE]\n…\nAnswer: [LETTER]";
const JSON_FORM = '{"examples": [{"question": "[QUESTION]", "choices": ["[CHOICE]", "[CHOICE]", …], "answer": "[LETTER]"}]}';

function requirements(task: Task, choiceCount: string): string {
  return `You are an educational A.I. whose purpose is to take multiple-choice questions that students get wrong and generate new questions to help them practice. Your goal is to generate new questions that test the same knowledge and reasoning as the example question.

Here are the requirements:
1. Each question must have ${choiceCount} choices, exactly one of them correct.
2. The wrong choices should be plausible, not obviously wrong.
3. The answer is the letter of the correct choice.
4. Write in the style of the example (task: ${task.name}), in English.
5. Don't copy the original question: change the facts, names and wording.
`;
}

function listChoices(choices: readonly string[]): string {
  return choices.map((c, i) => `(${LETTERS[i]}) ${c.trim()}`).join("\n");
}

/** Worked example pools; the right choice is second, so any choice count from 2 up keeps it. */
const EXAMPLE_QUESTION = "Which organ pumps blood through the human body?";
const EXAMPLE_CHOICES = ["The lungs", "The heart", "The liver", "The kidneys", "The stomach", "The brain", "The skin", "The spleen"];
const NEW_QUESTION = "Which organ filters waste from the blood and produces urine?";
const NEW_CHOICES = ["The stomach", "The kidneys", "The brain", "The heart", "The lungs", "The liver", "The skin", "The pancreas"];

function choiceCountOf(task: Task, seed: Example): number {
  const count = (task as { choiceCount?: number }).choiceCount ?? seed.choices?.length ?? 4;
  return Math.max(2, Math.min(count, EXAMPLE_CHOICES.length));
}

export const multipleChoicePrompts: KindPrompts = {
  system: (task, structured) => {
    const count = (task as { choiceCount?: number }).choiceCount;
    return `${requirements(task, count ? String(count) : "the same number of")}\n${outputInstruction(structured, FREE_TEXT_FORM, JSON_FORM)}`;
  },
  workedExample: (task, seed) => {
    const n = choiceCountOf(task, seed);
    const example: Example = { id: "worked-example", question: EXAMPLE_QUESTION, choices: EXAMPLE_CHOICES.slice(0, n), answer: "B" };
    const made = { question: NEW_QUESTION, choices: NEW_CHOICES.slice(0, n), answer: "B" };
    return {
      user: request(example, 1),
      freeText: `Sure! Here is a similar question with its choices and the correct answer:\n\n1. Question: ${made.question}\n${listChoices(made.choices)}\nAnswer: ${made.answer}`,
      examples: [made],
    };
  },
  request: (_task, seed, k, studentAnswer) => request(seed, k, studentAnswer),
  freeTextList: (examples) =>
    `Here are ${plural(examples.length, "question")} with their choices and the correct answers:\n\n` +
    examples.map((e, i) => `${i + 1}. Question: ${e.question.trim()}\n${listChoices(e.choices ?? [])}\nAnswer: ${e.answer.trim()}`).join("\n\n"),
  askForMore: (_task, _seed, k) => `Now generate ${more(k, "question")} different from the ones you just generated, each with its choices and the correct answer.`,
};

function request(seed: Example, k: number, studentAnswer?: string): string {
  return (
    `The student was given the following question:\n\n${seed.question.trim()}\n${listChoices(seed.choices ?? [])}\n\n` +
    `The answer key has this as the answer:\n\n${seed.answer.trim()}\n\n` +
    studentAnswerPart(studentAnswer) +
    `Please generate ${plural(k, "question")}, each with its choices and the correct answer.`
  );
}
