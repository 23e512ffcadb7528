/**
 * `llm2llm generate`: both engines give the same greedy tokens for the same prompt tokens, --json prints
 * exactly one JSON object on stdout, and bad input is a clear error with a non-zero exit.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { MissingFileError, UnsupportedModelError } from "../src/errors.js";
import { generateText } from "../src/student/generateText.js";
import { repoRoot, skipWithout, tinyRandomLlama, vocabDir } from "./fixtures.js";

const run = promisify(execFile);
const cli = path.join(repoRoot, "bin/llm2llm.js");

async function generateJson(engine: string): Promise<{ promptTokens: number[]; tokens: number[]; text: string; engine: string }> {
  const { stdout } = await run("node", [cli, "generate", "--model", tinyRandomLlama, "--prompt", "Once upon a time", "--max-tokens", "12", "--engine", engine, "--json"]);
  const lines = stdout.trim().split("\n");
  expect(lines).toHaveLength(1); // stdout carries the JSON object and nothing else
  return JSON.parse(lines[0]!);
}

describe.skipIf(skipWithout("fixtures"))("llm2llm generate", () => {
  it("tfjs and llama.cpp engines: same prompt tokens (BOS first), same 12 greedy tokens, same text", async () => {
    const tfjs = await generateJson("tfjs");
    const llamaCpp = await generateJson("llama.cpp");
    expect(tfjs.engine).toBe("tfjs");
    expect(llamaCpp.engine).toBe("llama.cpp");
    expect(tfjs.promptTokens).toEqual([1, 9038, 2501, 263, 931]);
    expect(llamaCpp.promptTokens).toEqual(tfjs.promptTokens);
    expect(tfjs.tokens).toHaveLength(12);
    expect(llamaCpp.tokens).toEqual(tfjs.tokens);
    expect(llamaCpp.text).toBe(tfjs.text);
  });

  it("seeded sampling is reproducible on the tfjs engine", async () => {
    const options = { engine: "tfjs" as const, modelPath: tinyRandomLlama, prompt: "Hello", sampling: { maxTokens: 8, temperature: 1, seed: 7 } };
    const a = await generateText(options);
    const b = await generateText(options);
    expect(b.tokens).toEqual(a.tokens);
    const greedy = await generateText({ ...options, sampling: { maxTokens: 8 } });
    expect(a.tokens).not.toEqual(greedy.tokens); // temperature 1 over 32000 near-uniform tokens: not the greedy path
  });

  it("refuses an architecture the tfjs student does not implement, naming it", async () => {
    const gpt2 = path.join(vocabDir, "ggml-vocab-gpt-2.gguf"); // general.architecture = gpt2
    await expect(generateText({ engine: "tfjs", modelPath: gpt2, prompt: "x", sampling: { maxTokens: 2 } })).rejects.toThrowError(UnsupportedModelError);
    await expect(generateText({ engine: "tfjs", modelPath: gpt2, prompt: "x", sampling: { maxTokens: 2 } })).rejects.toThrowError(/"gpt2".*supported: llama, qwen2, qwen3/);
  });

  it("a missing model file: typed error, and the CLI exits non-zero with the path", async () => {
    await expect(generateText({ engine: "tfjs", modelPath: "no/such.gguf", prompt: "x", sampling: { maxTokens: 2 } })).rejects.toThrowError(MissingFileError);
    const failed = await run("node", [cli, "generate", "--model", "no/such.gguf", "--prompt", "x", "--json"]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect("code" in failed && failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain("model file not found: no/such.gguf");
  });
});
