/** `llm2llm inspect`, run as a user runs it: a child process, one JSON object on stdout with --json. */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { GgmlType } from "../src/gguf/index.js";
import { repoRoot, skipWithout, tinyRandomLlama, vocabDir } from "./fixtures.js";
import { ggufString, rawGguf } from "./ggufRawFile.js";
import { paritySpec, writeRandomModel } from "./helpers/randomModel.js";
import { toyVocab } from "./loraModels.js";

const dir = mkdtempSync(path.join(tmpdir(), "llm2llm-inspect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inspect(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(repoRoot, "bin/llm2llm.js"), "inspect", ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe.skipIf(skipWithout("fixtures"))("llm2llm inspect on the shared GGUF files", () => {
  it("llama-2-tiny-random.gguf --json: architecture, parameters, tensor types, tokenizer, context", async () => {
    const run = await inspect(tinyRandomLlama, "--json");
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      architecture: "llama",
      ggufVersion: 3,
      vocabOnly: false,
      parameters: 513048,
      tensorCount: 12,
      tensorTypes: { F16: 9, F32: 3 },
      unreadableTensorTypes: [],
      fileType: "MOSTLY_F16",
      hyperparameters: { contextLength: 4096, embeddingLength: 8, blockCount: 1, headCount: 2, headCountKv: 2, feedForwardLength: 32, ropeDimensionCount: 4 },
      tokenizer: { model: "llama", vocabSize: 32000, bosTokenId: 1, eosTokenId: 2, hasChatTemplate: false },
    });
  });

  it("a vocabulary-only GGUF says so", async () => {
    const run = await inspect(path.join(vocabDir, "ggml-vocab-gpt-2.gguf"), "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      architecture: "gpt2", vocabOnly: true, parameters: 0, tensorCount: 0,
      tokenizer: { model: "gpt2", pre: "gpt-2", vocabSize: 50257, mergesCount: 50000, bosTokenId: 50256, eosTokenId: 50256 },
    });
  });

  it("prints a readable summary without --json", async () => {
    const run = await inspect(tinyRandomLlama);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/architecture: +llama/);
    expect(run.stdout).toMatch(/tensors: +12: F16 ×9, F32 ×3/);
    expect(run.stdout).toMatch(/tokenizer: +llama, 32000 tokens, bos 1, eos 2/);
  });
});

describe("llm2llm inspect: which architectures the student runs", () => {
  for (const architecture of ["gemma3", "phi3"] as const) {
    it(`${architecture}: the student runs it`, async () => {
      const file = path.join(dir, `${architecture}.gguf`);
      await writeRandomModel(file, { ...paritySpec(architecture, GgmlType.F32, vocabDir), vocabPath: toyVocab });
      const text = await inspect(file);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`architecture: +${architecture}`));
      expect(text.stdout).toMatch(new RegExp(`student: +the tfjs student runs ${architecture}\n`));
      expect(JSON.parse((await inspect(file, "--json")).stdout)).toMatchObject({ architecture, studentArchitecture: true });
    });
  }

  it("another architecture: teacher only, naming those the student runs", async () => {
    const file = path.join(dir, "mamba.gguf");
    writeFileSync(file, rawGguf({ kvs: [{ key: "general.architecture", type: 8, value: ggufString("mamba") }], tensors: [{ name: "a", dims: [32n, 1n], type: GgmlType.F32, offset: 0n }], data: Buffer.alloc(128) }));
    const text = await inspect(file);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/student: +teacher only: the tfjs student runs llama, qwen2, qwen3, gemma2, gemma3, phi3/);
    expect(JSON.parse((await inspect(file, "--json")).stdout)).toMatchObject({ architecture: "mamba", studentArchitecture: false });
  });
});

describe("llm2llm inspect on files it cannot use", () => {
  it("names every tensor type, and says what runs the ones the student cannot read", async () => {
    const file = path.join(dir, "mixed.gguf");
    const tensors = [
      { name: "a", dims: [256n, 1n], type: GgmlType.Q5_K, offset: 0n },
      { name: "b", dims: [256n, 1n], type: GgmlType.IQ2_XXS, offset: 192n },
      { name: "c", dims: [64n, 1n], type: GgmlType.NVFP4, offset: 288n },
    ];
    writeFileSync(file, rawGguf({ tensors, data: Buffer.alloc(352) }));
    const json = await inspect(file, "--json");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ tensorTypes: { Q5_K: 1, IQ2_XXS: 1, NVFP4: 1 }, unreadableTensorTypes: ["IQ2_XXS", "NVFP4"], parameters: 576 });
    const text = await inspect(file);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/tensors: +3: Q5_K ×1, IQ2_XXS ×1, NVFP4 ×1/);
    expect(text.stdout).toMatch(/the tfjs student cannot read IQ2_XXS, NVFP4: llama\.cpp runs them \(use this file as the teacher/);
  });

  it("a missing file and a non-GGUF file: a clear error, non-zero exit, nothing on stdout", async () => {
    const missing = await inspect(path.join(dir, "no-such-model.gguf"), "--json");
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/GGUF model file not found: .*no-such-model\.gguf/);

    const notGguf = path.join(dir, "notes.gguf");
    writeFileSync(notGguf, "these are my notes, not a model\n");
    const run = await inspect(notGguf, "--json");
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/notes\.gguf: not a readable GGUF file: expected the magic "GGUF"/);
    expect(run.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});
