/**
 * Regression: a completion tokenized on its own got SentencePiece's space prefix, so the student trained on
 * ids ("▁", "▁7", …) that tokenizing the prompt and completion together never produces. With
 * `continuation`, prompt ids ++ completion ids equal the ids of the whole text.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { repoRoot, skipWithout, vocabDir } from "./fixtures.js";

const cases = [
  { prompt: "Solve the below question step by step.\n\nTom has 3 apples.\n\nAnswer:", completion: " 3 + 4 = 7\n#### 7" },
  { prompt: "Intent:", completion: " play_music" },
];

describe("completion tokenized as a continuation of its prompt", () => {
  const files = [path.join(repoRoot, "models/toy-vocab.gguf"), ...(skipWithout("fixtures") ? [] : [path.join(vocabDir, "ggml-vocab-llama-spm.gguf")])];
  const tokenizers: StudentTokenizer[] = [];
  beforeAll(async () => {
    for (const file of files) tokenizers.push(await StudentTokenizer.load(file));
  });
  afterAll(async () => {
    for (const t of tokenizers) await t.dispose();
  });

  it("gives the ids of the whole text, for every SentencePiece vocabulary here", () => {
    for (const tokenizer of tokenizers) {
      for (const { prompt, completion } of cases) {
        const whole = tokenizer.tokenize(prompt + completion);
        const joined = [...tokenizer.tokenize(prompt), ...tokenizer.tokenize(completion, { addBos: false, continuation: true })];
        expect(joined).toEqual(whole);
        // Without it the ids differ: the guard would be pointless if they did not.
        expect([...tokenizer.tokenize(prompt), ...tokenizer.tokenize(completion, { addBos: false })]).not.toEqual(whole);
      }
    }
  });
});
