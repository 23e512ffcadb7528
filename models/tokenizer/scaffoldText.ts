/**
 * Text the toy models read besides the datasets: the task prompts (src/tasks presets, after the official
 * LLM2LLM code) and the words of the paper's teacher prompt and of its JSON output. Part of the tokenizer's
 * training text so these words are whole tokens too. A literal copy on purpose: editing a prompt in src/
 * must not silently change the committed vocabulary; add new prompt words here and rebuild.
 */
export const SCAFFOLD_TEXTS: readonly string[] = [
  // math (GSM8K preset) and classification presets
  "Solve the below question step by step.\n\nQuestion\n\nAnswer:",
  "Intent: Label: Class: Sentiment: Question: Answer: Text:",
  // the paper's teacher prompt, math and classification
  "You are a helpful teacher. The student was given the following question:",
  "The answer key has this as the rationale and answer:",
  "The student answered:",
  "Please generate 1 similar question, along with the correct calculations and rationale.",
  "Please generate 2 similar questions, along with the correct calculations and rationale.",
  "The student was given the following text: The correct label is: Please generate 1 similar example with the same label.",
  "Here is an example of a similar question of the same skill:",
  "Similar question: Similar example: Similar text: Example:",
  // structured (JSON-schema) teacher output
  '{"question": "", "answer": ""}',
  '{"text": "", "label": ""}',
  '{"examples": [{"question": "", "answer": ""}]}',
];

/** How many times the scaffold counts, relative to one dataset line, when learning merges. */
export const SCAFFOLD_WEIGHT = 200;
