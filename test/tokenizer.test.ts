/**
 * The student's tokens are llama.cpp's tokens: every vocabulary GGUF of llama.cpp's tokenizer tests reproduces
 * its `.out` vectors (written by llama.cpp's test-tokenizer-0 with add_special=false, parse_special=false).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { MissingFileError } from "../src/errors.js";
import { skipWithout, tinyRandomLlama, vocabDir } from "./fixtures.js";

const separator = "\n__ggml_vocab_test__\n";
const vocabFiles = existsSync(vocabDir) ? readdirSync(vocabDir).filter((f) => f.endsWith(".gguf")) : [];

describe.skipIf(skipWithout("fixtures"))("StudentTokenizer on llama.cpp's vocab test files", () => {
  it("finds the vocab files", () => {
    expect(vocabFiles.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of vocabFiles) {
    it(`reproduces ${file}.out`, async () => {
      const gguf = path.join(vocabDir, file);
      const inputs = readFileSync(`${gguf}.inp`, "utf8").split(separator);
      expect(inputs.pop()).toBe(""); // the file ends with a separator
      const expected = readFileSync(`${gguf}.out`, "utf8").split("\n");
      if (expected.at(-1) === "") expected.pop();
      expect(expected.length).toBe(inputs.length);
      const tokenizer = await StudentTokenizer.load(gguf);
      try {
        inputs.forEach((text, i) => {
          const want = expected[i]!.trim() === "" ? [] : expected[i]!.trim().split(/\s+/).map(Number);
          expect(tokenizer.tokenize(text, { addBos: false }), `line ${i + 1}: ${JSON.stringify(text)}`).toEqual(want);
        });
      } finally {
        await tokenizer.dispose();
      }
    });
  }

  it("adds BOS when the model asks for it (llama SentencePiece) and round-trips text", async () => {
    const tokenizer = await StudentTokenizer.load(tinyRandomLlama);
    try {
      expect(tokenizer.bos).toBe(1);
      expect(tokenizer.eos).toBe(2);
      expect(tokenizer.addsBos).toBe(true);
      // The fixture README's vector: "Once upon a time" without BOS is 9038 2501 263 931.
      expect(tokenizer.tokenize("Once upon a time", { addBos: false })).toEqual([9038, 2501, 263, 931]);
      expect(tokenizer.tokenize("Once upon a time")).toEqual([1, 9038, 2501, 263, 931]);
      expect(tokenizer.detokenize([9038, 2501, 263, 931])).toBe("Once upon a time");
      // A continuation keeps its leading space only when it follows something.
      expect(tokenizer.detokenize([2501, 263, 931], [1, 9038])).toBe(" upon a time");
      expect(tokenizer.detokenize([9038, 2501], [1])).toBe("Once upon");
      expect(tokenizer.isEndOfGeneration(2)).toBe(true);
      expect(tokenizer.isEndOfGeneration(931)).toBe(false);
    } finally {
      await tokenizer.dispose();
    }
  });

  it("refuses a missing file with a typed error", async () => {
    await expect(StudentTokenizer.load(path.join(vocabDir, "no-such.gguf"))).rejects.toBeInstanceOf(MissingFileError);
  });
});
