/**
 * Text outside a vocabulary without byte fallback (a small SentencePiece model with no <0xNN> tokens): llama.cpp's
 * tokenizer throws std::out_of_range on it and Node aborts (exit 134). Here: the check that predicts it, against
 * llama.cpp itself; the student tokenizer, training data, generate on both engines, the teacher and the augment
 * filter turning it into a clear error or a counted drop; never a native abort.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { augmentFilter } from "../src/augment/augmentFilter.js";
import { UnsupportedModelError } from "../src/errors.js";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { openGguf, tokenizerMetadataFrom } from "../src/gguf/index.js";
import { UntokenizableTextError, vocabularyCoverage, vocabularyCoverageFromMetadata } from "../src/gguf/vocabularyCoverage.js";
import { evaluateStudent } from "../src/pipeline/evaluate.js";
import type { Example, Task } from "../src/seams.js";
import { loadStudentGenerator } from "../src/student/evaluate/loadStudentGenerator.js";
import { generateText } from "../src/student/generateText.js";
import { StudentTokenizer } from "../src/student/tokenizer.js";
import { tokenizeExamples } from "../src/student/train/trainingData.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { repoRoot, skipWithout, vocabDir } from "./fixtures.js";
import { charactersOutsideVocabulary, noByteFallbackTokens, writeNoByteFallbackModel } from "./helpers/noByteFallbackModel.js";
import { runCli } from "./helpers/runCli.js";
import { mulberry32 } from "../src/util/mulberry32.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "llm2llm-vocab-"));
const model = path.join(dir, "no-byte-fallback.gguf");
beforeAll(() => writeNoByteFallbackModel(model));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("which vocabularies have byte fallback, and which text fits one that has not", () => {
  const coverage = vocabularyCoverage("llama", noByteFallbackTokens);

  it("classifies vocabularies: SentencePiece with and without byte tokens, byte-level BPE", async () => {
    expect(coverage.kind).toBe("no-byte-fallback");
    expect(vocabularyCoverageFromMetadata((await openGguf(model)).metadata).kind).toBe("no-byte-fallback");
    const kinds: Record<string, string> = {};
    for (const name of ["ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"]) {
      const entries = await tokenizerMetadataFrom(path.join(vocabDir, name));
      const get = (key: string) => entries.find((e) => e.key === key)?.value;
      kinds[name] = vocabularyCoverage(get("tokenizer.ggml.model") as string, get("tokenizer.ggml.tokens") as string[]).kind;
    }
    expect(kinds).toEqual({ "ggml-vocab-llama-spm.gguf": "byte-fallback", "ggml-vocab-gpt-2.gguf": "byte-level-or-unk" });
  });

  it("names the first character outside the vocabulary, with its index", () => {
    expect(coverage.firstUntokenizable("Once upon a time there was a little cat.")).toBeUndefined();
    expect(coverage.firstUntokenizable("What is 12 + 7?")).toEqual({ character: "1", codePoint: 0x31, index: 8 });
    expect(coverage.firstUntokenizable("the dog\nran")).toBeUndefined();
    expect(coverage.firstUntokenizable("the dog\nran #1")).toEqual({ character: "#", codePoint: 0x23, index: 12 });
    expect(coverage.firstUntokenizable("a \ud800 b")?.codePoint).toBe(0xd800); // a lone surrogate (U+FFFD for llama.cpp)
    expect(coverage.firstUntokenizable("café")).toEqual({ character: "é", codePoint: 0xe9, index: 3 });
    // Some byte tokens: a character is fine when each of its UTF-8 bytes has one.
    const partial = vocabularyCoverage("llama", [...noByteFallbackTokens, "<0xC3>", "<0xA9>"]);
    expect(partial.firstUntokenizable("café")).toBeUndefined();
    expect(partial.firstUntokenizable("naïve")?.character).toBe("ï");
  });

  it.skipIf(skipWithout("fixtures"))("what the check passes, llama.cpp tokenizes (random texts, in this process)", async () => {
    const llama = await getLlamaCpp();
    const vocabOnly = await llama.loadModel({ modelPath: model, vocabOnly: true });
    try {
      const alphabet = ["a", "b", "T", " ", ".", "!", "the", " cat", ...charactersOutsideVocabulary, "é", "😀"];
      const next = mulberry32(3);
      let passed = 0;
      for (let i = 0; i < 400; i++) {
        const text = Array.from({ length: 1 + Math.floor(next() * 8) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
        if (coverage.firstUntokenizable(text)) continue;
        passed += 1;
        expect(vocabOnly.tokenize(text).length).toBeGreaterThan(0);
      }
      expect(passed).toBeGreaterThan(20);
    } finally {
      await vocabOnly.dispose();
    }
  });

  it.skipIf(skipWithout("fixtures"))("what the check refuses, llama.cpp aborts on (a child process, as the issue saw)", async () => {
    const llamaCppModule = pathToFileURL(path.join(repoRoot, "node_modules/node-llama-cpp/dist/index.js")).href;
    const script = path.join(dir, "tokenize.mjs");
    writeFileSync(script, `import { getLlama } from ${JSON.stringify(llamaCppModule)};
      const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
      const m = await llama.loadModel({ modelPath: process.argv[2], vocabOnly: true });
      m.tokenize("Once upon a time"); process.stdout.write("ok;");
      m.tokenize(process.argv[3]); process.stdout.write("survived");`);
    const run = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [script, model, "What is 12 + 7?"], { cwd: repoRoot });
      setTimeout(() => child.kill("SIGKILL"), 60_000).unref();
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.on("close", (code, signal) => resolve({ code, signal, stdout }));
    });
    expect(run.stdout).toBe("ok;");
    expect(run.code === 134 || run.signal === "SIGABRT").toBe(true);
  });
});

describe.skipIf(skipWithout("fixtures"))("the student's tokenizer refuses it with a typed error", () => {
  it("a vocabulary without a newline token is refused before llama.cpp loads it (llama.cpp would abort at load)", async () => {
    const noNewline = path.join(dir, "no-newline.gguf");
    await writeNoByteFallbackModel(noNewline, { newline: false });
    const error = await StudentTokenizer.load(noNewline).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(/no-newline\.gguf: its vocabulary has no byte-fallback tokens and no token for a newline \(U\+000A\)/);
  });

  it("StudentTokenizer.tokenize: names the character and the model; text inside the vocabulary still tokenizes", async () => {
    const tokenizer = await StudentTokenizer.load(model);
    try {
      expect(tokenizer.coverage.kind).toBe("no-byte-fallback");
      expect(tokenizer.tokenize("Once upon a time").length).toBeGreaterThan(1);
      const error = (() => {
        try {
          tokenizer.tokenize("What is 12 + 7?");
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UntokenizableTextError);
      expect((error as Error).message).toMatch(/the character "1" \(U\+0031\) at index 8 cannot be tokenized by the model .*no-byte-fallback\.gguf/);

      const examples = [
        { prompt: "Once upon a time", completion: " there was a cat.", line: 1 },
        { prompt: "The answer is", completion: " #", line: 2 },
      ];
      expect(() => tokenizeExamples(examples, tokenizer, 64, "train.jsonl")).toThrow(/^train\.jsonl:2 \(field "completion"\): the character "#"/);
    } finally {
      await tokenizer.dispose();
    }
  });

  it("a teacher whose vocabulary cannot hold a request: a counted error for that request, the others run", async () => {
    const teacher = await LocalTeacher.load({ modelPath: model, parallel: 1, contextSize: 64 });
    try {
      const sampling = { temperature: 0, maxTokens: 3 };
      const [bad, good] = await teacher.complete([
        { id: "r1", messages: [{ role: "user", content: "Write #### 5" }], sampling },
        { id: "r2", messages: [{ role: "user", content: "Once upon a time" }], sampling },
      ]);
      expect(bad!.error).toMatch(/teacher request r1: the character "#"/);
      expect(good!.error).toBeUndefined();
    } finally {
      await teacher.dispose();
    }
  });
});

describe("the augment filter drops teacher examples the student cannot tokenize, counted", () => {
  it("validate:outside-student-vocabulary", () => {
    const snips = resolveTask("snips");
    const seed: Example = { id: "train-9", question: "play the new album by adele", answer: "PlayMusic" };
    const provenance = { iteration: 1, teacherId: "sha256:abc", promptHash: "sha256:def", sampling: { temperature: 0.7, maxTokens: 512, seed: 1 } };
    const text = '{"examples":[{"question":"will it rain in paris tomorrow","answer":"GetWeather"},{"question":"play track #5 by adele","answer":"PlayMusic"}]}';
    const result = augmentFilter([{ seed, format: "json", provenance, text }], {
      task: snips,
      existingQuestions: [seed.question],
      untokenizable: (t) => (t.includes("#") ? 'the character "#" is outside the vocabulary' : undefined),
    });
    expect(result.kept.map((e) => e.question)).toEqual(["will it rain in paris tomorrow"]);
    expect(result.dropped).toEqual({ "validate:outside-student-vocabulary": 1 });
    expect(result.notes[0]!.detail).toMatch(/"#" is outside the vocabulary — play track #5/);
  });
});

describe.skipIf(skipWithout("fixtures"))("generate and train: a clear error and exit 1, never a native abort (exit 134)", () => {
  for (const engine of ["tfjs", "llama.cpp"] as const) {
    it(`generateText on the ${engine} engine names the prompt, the character and the model`, async () => {
      const error = await generateText({ engine, modelPath: model, prompt: "What is 12 + 7?", sampling: { maxTokens: 4, temperature: 0 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UntokenizableTextError);
      expect((error as Error).message).toMatch(/^--prompt "What is 12 \+ 7\?": the character "1" \(U\+0031\) at index 8 cannot be tokenized by the model .*no-byte-fallback\.gguf/);
    });
  }

  it("evaluation (llama.cpp engine): the error names the example before any generation", async () => {
    const student = await loadStudentGenerator({ engine: "llama.cpp", modelPath: model, parallel: 1, contextSize: 64 });
    try {
      const task = { formatPrompt: (e: Example) => e.question, isCorrect: () => false } as unknown as Task;
      const examples: Example[] = [
        { id: "test-1", question: "Once upon a time", answer: "x" },
        { id: "test-2", question: "What is 12", answer: "x" },
      ];
      const error = await evaluateStudent(student, task, examples, { mode: "greedy", seed: 0, maxTokens: 4 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UntokenizableTextError);
      expect((error as Error).message).toMatch(/^example "test-2" \(evaluation prompt 2 of 2\): the character "1" \(U\+0031\) at index 8/);
    } finally {
      await student.dispose();
    }
  });

  // The CLI runs are slow (a process each): the two crashes, as a user met them.
  it('llm2llm generate --engine llama.cpp --prompt "What is 12 + 7?"', async () => {
    const run = await runCli(["generate", "--model", model, "--prompt", "What is 12 + 7?", "--engine", "llama.cpp", "--max-tokens", "4"]);
    expect(run.stderr).toMatch(/--prompt "What is 12 \+ 7\?": the character "1" \(U\+0031\) at index 8 cannot be tokenized by the model .*no-byte-fallback\.gguf/);
    expect([run.code, run.signal]).toEqual([1, null]);
  });

  it("llm2llm train on data holding '#': names the file, line and field", async () => {
    const data = path.join(dir, "train.jsonl");
    writeFileSync(data, '{"prompt":"Once upon a time","completion":" there was a cat."}\n{"prompt":"The answer","completion":" is #"}\n');
    const run = await runCli(["train", "--model", model, "--data", data, "--out", path.join(dir, "adapter.gguf"), "--epochs", "1"]);
    expect(run.stderr).toMatch(/train\.jsonl:2 \(field "completion"\): the character "#" \(U\+0023\) at index 4 cannot be tokenized/);
    expect([run.code, run.signal]).toEqual([1, null]);
  });
});
