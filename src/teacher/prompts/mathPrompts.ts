/**
 * Math word problems (GSM8K). Follows the official LLM2LLM `GSM8K/generate_data.py` + `prompt_gsm.txt`:
 * the requirements, the worked example (a GSM8K train problem about Betty's wallet), then "The student was
 * given the following question: … The answer key has this as the rationale and answer: … Please generate
 * N similar questions, along with the correct calculations and rationale."
 */
import { more, outputInstruction, plural, studentAnswerPart, type KindPrompts } from "./types.js";

const REQUIREMENTS = `You are an educational A.I. whose purpose is to take math problems that students get wrong and generate new problems to help them practice their mathematical skills. Your goal is to generate a set of new math problems that reflect the different skills and techniques found in the example problem.

Here are the requirements:
1. A language model should be able to solve the problem: do not ask for pictures, audio or any action.
2. The math problem should be in English.
3. The answer should be an appropriate response to the question, less than 100 words.
4. The answer to the problem should be a number, not a fraction: if the answer is one-half, write 0.5, not 1/2 or "one half".
5. The answer should not have units: if the answer is 6 cups, write 6.
6. Always show the calculations that lead to the answer, each as "a op b = c".
7. Don't make any mathematical mistakes of your own!
8. Don't copy too much of the original problem: replace names and numbers, so that we test the student's understanding rather than their memory of earlier questions.
`;

const FREE_TEXT_FORM = "1. Question: [QUESTION]\nAnswer: [CALCULATION]\n#### [ANSWER]";
const JSON_FORM = '{"examples": [{"question": "[QUESTION]", "answer": "[CALCULATION]\\n#### [ANSWER]"}]}';

const EXAMPLE_QUESTION =
  "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?";
const EXAMPLE_ANSWER =
  "In the beginning, Betty has only 100 / 2 = $<<100/2=50>>50.\nBetty's grandparents gave her 15 * 2 = $<<15*2=30>>30.\nThis means, Betty needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5";
const NEW_QUESTION =
  "Betty is saving money for a new wallet which costs $150. Betty has already saved $30. Her parents decided to give her $20 for that purpose, and her grandparents gave her three times as much as her parents. How much more money does Betty need to buy the wallet?";
const NEW_ANSWER =
  "Betty's grandparents gave her 3 * 20 = 60 dollars. In total Betty has 30 + 20 + 60 = 110 dollars. She still needs 150 - 110 = 40 dollars.\n#### 40";

export const mathPrompts: KindPrompts = {
  system: (_task, structured) => `${REQUIREMENTS}\n${outputInstruction(structured, FREE_TEXT_FORM, JSON_FORM)}`,
  workedExample: () => ({
    user: request(EXAMPLE_QUESTION, EXAMPLE_ANSWER, 1),
    freeText: `Sure! Here is a new math question based on the same skills, with the correct calculations and rationale:\n\n1. Question: ${NEW_QUESTION}\nAnswer: ${NEW_ANSWER}`,
    examples: [{ question: NEW_QUESTION, answer: NEW_ANSWER }],
  }),
  request: (_task, seed, k, studentAnswer) => request(seed.question, seed.answer, k, studentAnswer),
  freeTextList: (examples) =>
    `Here are ${plural(examples.length, "math question")}, along with the correct calculations and rationale:\n\n` +
    examples.map((e, i) => `${i + 1}. Question: ${e.question.trim()}\nAnswer: ${e.answer.trim()}`).join("\n\n"),
  askForMore: (_task, _seed, k) => `Now generate ${more(k, "question")} different from the ones you just generated, along with the correct calculations and rationale.`,
};

function request(question: string, answer: string, k: number, studentAnswer?: string): string {
  return (
    `The student was given the following question:\n\n${question.trim()}\n\n` +
    `The answer key has this as the rationale and answer:\n\n${answer.trim()}\n\n` +
    studentAnswerPart(studentAnswer) +
    `Please generate ${plural(k, "question")}, along with the correct calculations and rationale.`
  );
}
