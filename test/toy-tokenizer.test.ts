/**
 * The toy models' tokenizer (models/toy-vocab.gguf): llama.cpp loads it as a vocabulary, every text of the
 * toy datasets round-trips through it, token counts stay short, digits are one token each, and the
 * committed file is exactly what the builder writes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { readGgufFileInfo, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { preTokens } from "../models/tokenizer/trainBpe.js";
import { toyDatasetDirs, toyDatasetTexts, toyVocabPath, writeToyVocab } from "../models/tokenizer/buildToyVocab.js";

let model: LlamaModel;
const outDir = mkdtempSync(path.join(tmpdir(), "llm2llm-toy-vocab-"));

beforeAll(async () => {
  const llama = await getLlamaCpp();
  model = await llama.loadModel({ modelPath: toyVocabPath, vocabOnly: true });
});
afterAll(async () => {
  await model?.dispose();
  rmSync(outDir, { recursive: true, force: true });
});

/** Mean token and pre-token counts of a JSONL file's rows, `fields` tokenized one by one (no BOS). */
function meanTokens(file: string, fields: string[]) {
  const rows = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line));
  const sum = (count: (text: string) => number) => rows.reduce((total, row) => total + fields.reduce((n, f) => n + count(row[f]), 0), 0);
  const value = sum((text) => model.tokenize(text, false).length) / rows.length;
  const pre = sum((text) => preTokens(text).length) / rows.length;
  return { value, pre };
}

describe("toy vocabulary", () => {
  it("is what the builder writes, byte for byte", async () => {
    const rebuilt = path.join(outDir, "toy-vocab.gguf");
    await writeToyVocab(rebuilt);
    expect(readFileSync(rebuilt).equals(readFileSync(toyVocabPath)), "models/toy-vocab.gguf is stale: rebuild it").toBe(true);
  });

  it("is a llama (SentencePiece) vocabulary with byte fallback and LLaMA's special ids", async () => {
    const info = await readGgufFileInfo(toyVocabPath, { readTensorInfo: true, logWarnings: false });
    const tokenizer = info.metadata.tokenizer.ggml;
    expect(tokenizer.model).toBe("llama");
    const tokens = tokenizer.tokens as string[];
    expect(tokens.length).toBeGreaterThan(300);
    expect(tokens.length).toBeLessThanOrEqual(2048);
    expect(tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(tokens[258]).toBe("<0xFF>");
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(info.tensorInfo ?? []).toHaveLength(0);
    expect([model.tokens.bos, model.tokens.eos]).toEqual([1, 2]);
  });

  it("round-trips every text of the toy datasets", () => {
    const texts = toyDatasetTexts(toyDatasetDirs);
    expect(texts.length).toBeGreaterThan(20_000);
    const broken = texts.filter((text) => model.detokenize(model.tokenize(text, false)) !== text);
    expect(broken.slice(0, 5)).toEqual([]);
  });

  it("round-trips text outside the datasets through byte fallback", () => {
    for (const text of ["Café crème, 3½ € 🍕", "tabs\tand\nnew lines", "  two leading spaces", "UPPER lower MiXeD 0123"]) {
      expect(model.detokenize(model.tokenize(text, false))).toBe(text);
    }
  });

  it("gives every digit its own token, in every number", () => {
    const digitTokens = Array.from({ length: 10 }, (_, d) => model.tokenize(String(d), false, "trimLeadingSpace"));
    for (const ids of digitTokens) expect(ids).toHaveLength(1);
    const idOfDigit = new Map(digitTokens.map((ids, d) => [ids[0]!, String(d)]));
    for (const text of ["7 + 5 = 12", "#### 1089", "rate dune 4 out of 5", "9 * 9 = 81\n81 + 20 = 101"]) {
      const pieces = model.tokenize(text, false).map((id) => ({ id, text: model.detokenize([id]) }));
      const digits = text.replace(/\D/g, "");
      const digitPieces = pieces.filter((p) => /\d/.test(p.text));
      expect(digitPieces.map((p) => p.text).join("")).toBe(digits);
      for (const p of digitPieces) expect(idOfDigit.get(p.id)).toBe(p.text);
    }
  });

  it("keeps examples short: nearly every word, sign and digit is one token", () => {
    const math = meanTokens(path.join(toyDatasetDirs[0]!, "test.jsonl"), ["question", "answer"]);
    const intents = meanTokens(path.join(toyDatasetDirs[1]!, "test.jsonl"), ["text", "label"]);
    console.log(
      `toy vocabulary: mean tokens per test example: toy-math ${math.value.toFixed(1)} (question + answer, ${math.pre.toFixed(1)} pre-tokens), ` +
        `toy-intents ${intents.value.toFixed(1)} (text + label, ${intents.pre.toFixed(1)} pre-tokens)`,
    );
    // Pre-tokens (a word with its leading space, a sign, a digit) are the fewest tokens possible here.
    expect(math.value).toBeLessThanOrEqual(1.05 * math.pre);
    expect(intents.value).toBeLessThanOrEqual(1.05 * intents.pre);
  });
});
