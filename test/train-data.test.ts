/** Training data: JSONL errors name file and line; the loss mask covers exactly completion + EOS; batches. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DataFormatError, MissingFileError } from "../src/errors.js";
import { epochBatches, makeBatch } from "../src/student/train/batches.js";
import { readPromptCompletionJsonl, tokenizeExamples, type TrainingTokenizer } from "../src/student/train/trainingData.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-train-data-"));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** One id per character (+100), BOS 1, EOS 2: enough to see exactly where the mask falls. */
const charTokenizer: TrainingTokenizer = {
  eos: 2,
  tokenize: (text, options) => [...(options?.addBos ?? true ? [1] : []), ...[...text].map((c) => c.charCodeAt(0) + 100)],
};

describe("readPromptCompletionJsonl", () => {
  it("reads objects and skips blank lines, keeping line numbers", () => {
    const f = file("ok.jsonl", '{"prompt":"a","completion":"b"}\n\n{"prompt":"c","completion":"d"}\n');
    expect(readPromptCompletionJsonl(f)).toEqual([
      { prompt: "a", completion: "b", line: 1 },
      { prompt: "c", completion: "d", line: 3 },
    ]);
  });

  it("names the file and line of a line that is not JSON", () => {
    const f = file("bad.jsonl", '{"prompt":"a","completion":"b"}\n{"prompt": oops}\n');
    expect(() => readPromptCompletionJsonl(f)).toThrow(DataFormatError);
    expect(() => readPromptCompletionJsonl(f)).toThrow(`${f}:2: not valid JSON`);
  });

  it("names the missing field", () => {
    const f = file("field.jsonl", '{"prompt":"a"}\n');
    expect(() => readPromptCompletionJsonl(f)).toThrow(`${f}:1: field "completion" must be a string`);
  });

  it("refuses an empty file and a missing one", () => {
    expect(() => readPromptCompletionJsonl(file("empty.jsonl", "\n"))).toThrow(/no examples/);
    expect(() => readPromptCompletionJsonl(path.join(dir, "absent.jsonl"))).toThrow(MissingFileError);
  });
});

describe("tokenizeExamples", () => {
  it("concatenates separately tokenized prompt and completion, then EOS", () => {
    const { examples } = tokenizeExamples([{ prompt: "ab", completion: "c", line: 1 }], charTokenizer, 100);
    expect(examples[0]).toEqual({ ids: [1, 197, 198, 199, 2], promptLength: 3, line: 1 });
  });

  it("leaves out and counts examples over max length; all too long is an error", () => {
    const data = [
      { prompt: "ab", completion: "c", line: 1 },
      { prompt: "abcdef", completion: "g", line: 2 },
    ];
    const { examples, tooLong } = tokenizeExamples(data, charTokenizer, 6);
    expect(examples.map((e) => e.line)).toEqual([1]);
    expect(tooLong).toBe(1);
    expect(() => tokenizeExamples(data, charTokenizer, 3, "x.jsonl")).toThrow(/x\.jsonl: every example is longer than --max-len 3/);
  });
});

describe("batches", () => {
  it("shifts targets by one, masks prompt and padding, right-pads", () => {
    const batch = makeBatch(
      [
        { ids: [1, 10, 11, 20, 2], promptLength: 3, line: 1 }, // prompt 1 10 11, completion 20, EOS
        { ids: [1, 12, 21, 2], promptLength: 2, line: 2 },
      ],
      0,
    );
    expect(batch.length).toBe(4);
    expect([...batch.inputs]).toEqual([1, 10, 11, 20, 1, 12, 21, 0]);
    expect([...batch.targets]).toEqual([10, 11, 20, 2, 12, 21, 2, 0]);
    // Position t is in the loss when its target ids[t+1] is a completion token or EOS.
    expect([...batch.mask]).toEqual([0, 0, 1, 1, 0, 1, 1, 0]);
    expect(batch.completionTokens).toBe(4);
    expect(batch.realTokens).toBe(7);
  });

  it("is seeded, covers every example once per epoch, and groups similar lengths", () => {
    const examples = Array.from({ length: 40 }, (_, i) => ({ ids: Array.from({ length: 3 + (i % 13) }, () => 5), promptLength: 1, line: i + 1 }));
    const a = epochBatches(examples, 0, { batchSize: 4, seed: 7 });
    const b = epochBatches(examples, 0, { batchSize: 4, seed: 7 });
    const c = epochBatches(examples, 1, { batchSize: 4, seed: 7 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.reduce((s, x) => s + x.batchSize, 0)).toBe(40);
    const padded = a.reduce((s, x) => s + x.batchSize * x.length, 0);
    const real = a.reduce((s, x) => s + x.realTokens, 0);
    // Unsorted batches of lengths 3..15 would pad ~40%; bucketing keeps it far lower.
    expect(padded / real).toBeLessThan(1.15);
  });
});
