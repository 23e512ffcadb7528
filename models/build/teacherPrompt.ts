/**
 * The prompt the toy teacher is trained on and prompted with: the paper's request turn alone (H5's
 * `request` text of src/teacher/prompts: "The student was given the following question: … The answer key
 * has this as the rationale and answer: … Please generate 1 similar question …"), without the system prompt
 * and the worked example. Those two are written for instruction-tuned 7B models: in the toy vocabulary they
 * are ~1,000 tokens of words the toy world never uses, longer than the toy teacher's context. The structured
 * output (the JSON the schema of src/augment asks for) replaces what the system prompt says about the form.
 * This is the "compact" prompt variant proposed for small teachers (see models/README.md).
 */
import type { Example, Task, TeacherRequest } from "../../src/seams.js";
import { augmentationRequest } from "../../src/teacher/prompts/augmentationRequest.js";

export function compactTeacherRequest(task: Task, seed: Example, k: number, studentAnswer?: string): TeacherRequest {
  // The very request the run sends (src/teacher/prompts), so training and use see the same tokens.
  return augmentationRequest(task, seed, { k, structured: true, sampling: { maxTokens: 256 }, iteration: 0, studentAnswer, promptStyle: "compact" }).request;
}

/** The structured answer: what the augmentation JSON schema accepts, with the spacing of its own examples. */
export function structuredAnswer(examples: readonly { question: string; answer: string }[]): string {
  const items = examples.map((e) => `{"question": ${JSON.stringify(e.question)}, "answer": ${JSON.stringify(e.answer)}}`);
  return `{"examples": [${items.join(", ")}]}`;
}
