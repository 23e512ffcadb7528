/**
 * The train / export / eval commands (and generate --adapter), spawned as a user runs them: --json prints exactly one JSON object on
 * stdout; the merged GGUF answers as base + adapter; both engines give the same greedy answers; and bad input
 * (adapter for another base, missing model, empty data, a line that is not JSON) is one clear error line
 * and a non-zero exit.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CliRun, runCli } from "./helpers/runCli.js";
import { eightExamples, tempDir, writeTrainableModel } from "./loraModels.js";

const dir = tempDir("train-cli");
const modelPath = path.join(dir, "base.gguf");
const otherModelPath = path.join(dir, "other.gguf");
const dataPath = path.join(dir, "train.jsonl");
const adapterPath = path.join(dir, "adapter.gguf");

// Spawned, not spawnSync: six runs of this file's first test held the worker off its event loop for 37 s, and at
// 60 s vitest fails the whole run ("Timeout calling onTaskUpdate").
const cli = (...args: string[]) => runCli(args, { cwd: dir, killAfterMs: 300_000 });

/** stdout of a --json run: exactly one JSON object. */
function json(run: CliRun): Record<string, unknown> {
  expect(run.code, run.stderr).toBe(0);
  const lines = run.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

beforeAll(async () => {
  await writeTrainableModel(modelPath);
  await writeTrainableModel(otherModelPath, { nEmbd: 32, nFf: 64 });
  writeFileSync(dataPath, eightExamples.map(({ prompt, completion }) => JSON.stringify({ prompt, completion })).join("\n") + "\n");
});

describe("llm2llm train → export --merge → eval", () => {
  it("trains, merges and evaluates; the merged model and both engines agree", async () => {
    const train = json(await cli("train", "--model", modelPath, "--data", dataPath, "--out", adapterPath, "--epochs", "24", "--lr", "1e-2", "--warmup", "0.05", "--json"));
    expect(train).toMatchObject({ adapter: adapterPath, examples: 8, steps: 24, rank: 8, alpha: 16 });
    expect(train.finalLoss as number).toBeLessThan(train.firstLoss as number);
    const curve = JSON.parse(readFileSync(path.join(dir, "adapter.loss.json"), "utf8"));
    expect(curve.lossCurve).toHaveLength(24);

    const mergedPath = path.join(dir, "merged.gguf");
    const exported = json(await cli("export", "--adapter", adapterPath, "--model", modelPath, "--merge", "--out", mergedPath, "--json"));
    expect(exported.mergedTensors).toBe(14); // 7 projections × 2 layers
    expect(existsSync(mergedPath)).toBe(true);

    const predictionsPath = path.join(dir, "predictions.jsonl");
    const evalArgs = ["--data", dataPath, "--max-tokens", "8", "--json"];
    const llamaCpp = json(await cli("eval", "--model", modelPath, "--adapter", adapterPath, "--parallel", "4", "--out", predictionsPath, ...evalArgs));
    expect(llamaCpp).toMatchObject({ engine: "llama.cpp", n: 8 });
    expect(typeof llamaCpp.accuracy).toBe("number");
    const predictions = readFileSync(predictionsPath, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(predictions).toHaveLength(8);
    expect(predictions.filter((p) => p.correct).length).toBe(llamaCpp.correct);

    const tfjsOut = path.join(dir, "predictions-tfjs.jsonl");
    const tfjs = json(await cli("eval", "--engine", "tfjs", "--model", modelPath, "--adapter", adapterPath, "--out", tfjsOut, ...evalArgs));
    const mergedOut = path.join(dir, "predictions-merged.jsonl");
    json(await cli("eval", "--model", mergedPath, "--out", mergedOut, ...evalArgs));
    const outputs = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l).output);
    expect(outputs(tfjsOut)).toEqual(outputs(predictionsPath));
    expect(outputs(mergedOut)).toEqual(outputs(predictionsPath));
    expect(tfjs.accuracy).toBe(llamaCpp.accuracy);

    // generate --adapter on both engines: the same tokens, and the same text as eval wrote.
    const generated: Record<string, unknown>[] = [];
    for (const engine of ["tfjs", "llama.cpp"]) {
      generated.push(json(await cli("generate", "--engine", engine, "--model", modelPath, "--adapter", adapterPath, "--prompt", eightExamples[0]!.prompt, "--max-tokens", "8", "--json")));
    }
    expect(generated[0]!.tokens).toEqual(generated[1]!.tokens);
    expect(generated[0]!.text).toBe(predictions[0].output);
  });
});

describe("bad input: one clear error, non-zero exit", () => {
  it("refuses an adapter trained for another base", async () => {
    const run = await cli("eval", "--model", otherModelPath, "--adapter", adapterPath, "--data", dataPath);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/llm2llm: error: .*adapter\.gguf: this adapter does not fit the model .*other\.gguf: "blk\.0\.attn_q\.weight" is \[32,32\]/);
  });

  it("names a missing model", async () => {
    const run = await cli("train", "--model", path.join(dir, "missing.gguf"), "--data", dataPath, "--out", path.join(dir, "x.gguf"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/llm2llm: error: .*not found: .*missing\.gguf/);
  });

  it("refuses empty data", async () => {
    const empty = path.join(dir, "empty.jsonl");
    writeFileSync(empty, "\n");
    const run = await cli("train", "--model", modelPath, "--data", empty, "--out", path.join(dir, "x.gguf"));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`llm2llm: error: ${empty}: no examples`);
  });

  it("names the file and line of a line that is not JSON", async () => {
    const bad = path.join(dir, "bad.jsonl");
    writeFileSync(bad, '{"prompt": "a", "completion": "b"}\n{"prompt": "a", completion}\n');
    for (const command of ["train", "eval"]) {
      const run = await cli(command, "--model", modelPath, "--data", bad, ...(command === "train" ? ["--out", path.join(dir, "x.gguf")] : []));
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(`llm2llm: error: ${bad}:2: not valid JSON`);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
