/**
 * Seeded fuzzing of what users hand us: GGUF files (header, metadata, tensor table, data) and dataset files
 * (JSONL, JSON, CSV), randomly mutated, through the readers in this process and a few times through the CLI.
 * Each input either reads or fails with a typed Llm2llmError that has a message; nothing hangs, nothing aborts,
 * and reading never allocates far beyond what the file's size allows.
 *
 * About 40 s of mutations by default; LLM2LLM_FUZZ_SECONDS=600 for a longer run, LLM2LLM_FUZZ_SEED to vary it.
 * A failure names the seed and case number, and keeps the input under the test's temp folder for replay.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRecords } from "../src/data/readRecords.js";
import { Llm2llmError } from "../src/errors.js";
import { checkGgufFile, codecFor, GgmlType, ggufMetadataEntry, openGguf, writeGguf } from "../src/gguf/index.js";
import { summarizeGguf } from "../src/gguf/modelSummary.js";
import { readPromptCompletionJsonl } from "../src/student/train/trainingData.js";
import { loadTaskData } from "../src/tasks/loadTaskData.js";
import { mulberry32 } from "../src/util/mulberry32.js";
import { runCli } from "./helpers/runCli.js";

const seconds = Number(process.env.LLM2LLM_FUZZ_SECONDS ?? 40);
const seed = Number(process.env.LLM2LLM_FUZZ_SEED ?? 20261130);
const dir = mkdtempSync(path.join(os.tmpdir(), "llm2llm-fuzz-"));
let keep = false;
afterAll(() => {
  if (!keep) rmSync(dir, { recursive: true, force: true });
});

/** Runs `read`; a non-typed error, an error without message, or growth of ArrayBuffer memory beyond `limit` bytes fails. */
async function expectTypedOutcome(what: string, input: string, limit: number, read: () => Promise<unknown>): Promise<void> {
  const before = process.memoryUsage().arrayBuffers;
  let failure: unknown;
  let held: unknown;
  try {
    held = await read();
  } catch (error) {
    failure = error;
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  held = undefined;
  if (failure !== undefined && !(failure instanceof Llm2llmError && failure.message.length > 0)) {
    keep = true;
    copyFileSync(input, `${input}.failed`);
    const detail = failure instanceof Error ? `${failure.name}: ${failure.message}\n${failure.stack}` : String(failure);
    expect.fail(`${what}: not a typed error (input kept at ${input}.failed):\n${detail}`);
  }
  if (grown > limit) {
    keep = true;
    copyFileSync(input, `${input}.failed`);
    expect.fail(`${what}: ArrayBuffer memory grew by ${grown} bytes for a ${limit}-byte budget (input kept at ${input}.failed)`);
  }
  void held;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const hostileU64 = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 1n << 40n, 255n];

// ---------------------------------------------------------------- GGUF

async function writeBaseGguf(file: string): Promise<{ headerBytes: number }> {
  const random = mulberry32(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => random() * 2 - 1);
  await writeGguf(file, {
    metadata: [
      ggufMetadataEntry("general.architecture", "llama"),
      ggufMetadataEntry("general.name", "fuzz base"),
      ggufMetadataEntry("llama.context_length", 64),
      ggufMetadataEntry("llama.embedding_length", 256),
      ggufMetadataEntry("llama.block_count", 1),
      ggufMetadataEntry("llama.attention.head_count", 4),
      ggufMetadataEntry("tokenizer.ggml.model", "llama"),
      ggufMetadataEntry("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "\u2581a", "b"]),
      ggufMetadataEntry("tokenizer.ggml.scores", Float32Array.of(0, 0, 0, -1, -2)),
      ggufMetadataEntry("tokenizer.ggml.token_type", Int32Array.of(2, 3, 3, 1, 1)),
    ],
    tensors: [
      { name: "token_embd.weight", shape: [256, 5], type: GgmlType.Q8_0, data: values(1280) },
      { name: "blk.0.attn_q.weight", shape: [256, 2], type: GgmlType.Q4_K, data: values(512) },
      { name: "blk.0.ffn_up.weight", shape: [256, 1], type: GgmlType.Q5_K, data: values(256), blocks: Uint8Array.from({ length: 176 }, () => Math.floor(random() * 256)) },
      { name: "output_norm.weight", shape: [256], type: GgmlType.F32, data: values(256) },
      { name: "blk.0.attn_k.weight", shape: [32, 2], type: GgmlType.F16, data: values(64) },
    ],
  });
  // The data section starts after the header, aligned to 32: mutations aim mostly before it.
  const bytes = readFileSync(file);
  const blocks = codecFor(GgmlType.Q8_0)!.typeSize * 5 * 8 + 144 * 2 + 176 + 1024 + 128;
  return { headerBytes: bytes.length - blocks };
}

function mutateGguf(base: Buffer, headerBytes: number, random: () => number): Buffer {
  const bytes = Buffer.from(base);
  const at = () => Math.floor(random() * (random() < 0.85 ? headerBytes : bytes.length));
  switch (Math.floor(random() * 6)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + Math.floor(random() * 4); i < n; i++) bytes[at()] = Math.floor(random() * 256);
      return bytes;
    case 1: { // a hostile count, length, dimension or offset at a random 8-byte window
      const p = Math.min(at(), bytes.length - 8);
      bytes.writeBigUInt64LE(pick(random, hostileU64), p);
      return bytes;
    }
    case 2: { // a hostile 32-bit field (a type, a version, an alignment)
      const p = Math.min(at(), bytes.length - 4);
      bytes.writeUInt32LE(pick(random, [0, 3, 13, 23, 31, 40, 41, 64, 99, 0xffffffff]), p);
      return bytes;
    }
    case 3: // truncated
      return bytes.subarray(0, Math.floor(random() * bytes.length));
    case 4: // garbage appended
      return Buffer.concat([bytes, Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)))]);
    default: { // a slice of the header repeated (shifts every later field)
      const p = at();
      return Buffer.concat([bytes.subarray(0, p), bytes.subarray(p, p + 1 + Math.floor(random() * 16)), bytes.subarray(p)]);
    }
  }
}

async function readWholeGguf(file: string): Promise<unknown> {
  await checkGgufFile(file);
  const opened = await openGguf(file);
  summarizeGguf(opened);
  const tensors: Float32Array[] = [];
  for (const tensor of opened.tensors) tensors.push(await opened.readTensor(tensor.name));
  return tensors;
}

// ---------------------------------------------------------------- datasets

const goodRows = [
  { question: "Tom has 3 apples and buys 2 more. How many apples?", answer: "3 + 2 = <<3+2=5>>5\n#### 5" },
  { question: "A box holds 4 pens. How many pens in 3 boxes?", answer: "4 * 3 = <<4*3=12>>12\n#### 12" },
  { question: "Sara reads 10 pages a day. How many in 7 days?", answer: "10 * 7 = <<10*7=70>>70\n#### 70" },
];

function baseDataset(format: "jsonl" | "json" | "csv"): string {
  if (format === "jsonl") return goodRows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  if (format === "json") return JSON.stringify(goodRows, null, 1);
  return "question,answer\n" + goodRows.map((r) => `"${r.question}","${r.answer.replace(/"/g, '""')}"`).join("\n") + "\n";
}

const wrongValues: unknown[] = [null, 5, -1.5e308, true, [], [1, [2, [3]]], {}, { a: { b: {} } }, "", "\u0000", "x".repeat(5000)];

function mutateDataset(text: string, format: string, random: () => number): Buffer {
  let bytes = Buffer.from(text, "utf8");
  const at = () => Math.floor(random() * bytes.length);
  const insert = (extra: Buffer | string) => {
    const p = at();
    bytes = Buffer.concat([bytes.subarray(0, p), Buffer.from(extra), bytes.subarray(p)]);
  };
  switch (Math.floor(random() * 7)) {
    case 0: insert(Buffer.from(pick(random, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xff]]))); break; // invalid UTF-8
    case 1: insert(Buffer.alloc(1 + Math.floor(random() * 3))); break; // NUL bytes
    case 2: { // deeply nested JSON as a whole line or as a field value
      const depth = pick(random, [100, 10_000, 200_000]);
      const nested = "[".repeat(depth) + "]".repeat(depth);
      if (format === "jsonl") insert(`\n${random() < 0.5 ? nested : `{"question":${nested},"answer":"#### 1"}`}\n`);
      else insert(nested);
      break;
    }
    case 3: { // a field of the wrong type
      const row = { ...goodRows[0]!, [pick(random, ["question", "answer"])]: pick(random, wrongValues) };
      if (format === "jsonl") insert(`\n${JSON.stringify(row)}\n`);
      else if (format === "json") bytes = Buffer.from(JSON.stringify([row, ...goodRows]));
      else insert(`\n"${String(JSON.stringify(row.question))}",\n`);
      break;
    }
    case 4: for (let i = 0, n = 1 + Math.floor(random() * 5); i < n; i++) bytes[at()] = Math.floor(random() * 256); break;
    case 5: bytes = bytes.subarray(0, at()); break;
    default: insert(pick(random, ['"', "{", "}", "\n\n", ",", "\r", "\t", "\\", '\\u12', "\ufeff"]));
  }
  return bytes;
}

async function readDataset(file: string): Promise<unknown> {
  await readRecords(file);
  return loadTaskData(file, "gsm8k");
}

// ---------------------------------------------------------------- tests

describe(`fuzzing the readers (seed ${seed}, about ${seconds} s)`, () => {
  let baseGguf: Buffer;
  let headerBytes: number;
  beforeAll(async () => {
    const file = path.join(dir, "base.gguf");
    ({ headerBytes } = await writeBaseGguf(file));
    baseGguf = readFileSync(file);
    await readWholeGguf(file); // the unmutated file reads
  });

  it("mutated GGUF files: read whole, or a typed error; memory within the file's size", async () => {
    const random = mulberry32(seed + 1);
    const file = path.join(dir, "case.gguf");
    const deadline = performance.now() + seconds * 600;
    let cases = 0;
    let failedTyped = 0;
    while (performance.now() < deadline) {
      const bytes = mutateGguf(baseGguf, headerBytes, random);
      writeFileSync(file, bytes);
      // Dequantized values take at most 32× their bytes (Q2_K: 84 bytes → 256 floats); plus reading buffers.
      let threw = false;
      await expectTypedOutcome(`GGUF case ${cases} (seed ${seed})`, file, 32 * bytes.length + (16 << 20), () =>
        readWholeGguf(file).catch((e: unknown) => {
          threw = true;
          throw e;
        }),
      );
      if (threw) failedTyped++;
      cases++;
      if (cases % 20 === 0) await yieldToEventLoop();
    }
    console.log(`GGUF fuzz: ${cases} cases, ${failedTyped} typed errors, ${cases - failedTyped} read whole`);
    expect(cases).toBeGreaterThan(50);
    expect(failedTyped).toBeGreaterThan(cases / 4); // the mutations do reach the checks
  }, (seconds + 60) * 1000);

  it("mutated dataset files (invalid UTF-8, NUL, deep nesting, wrong types, a 10 MB line): loaded, or a typed error", async () => {
    const random = mulberry32(seed + 2);
    let cases = 0;
    const formats = ["jsonl", "json", "csv"] as const;
    // Fixed cases first: a 10 MB line in each format, a training file with one.
    const long = "x".repeat(10 << 20);
    const fixed: [string, string][] = [
      ["long.jsonl", `${baseDataset("jsonl")}{"question":"${long}","answer":"#### 1"}\n`],
      ["long-broken.jsonl", `${baseDataset("jsonl")}${long}\n`],
      ["long.csv", `${baseDataset("csv")}"${long}",x\n`],
      ["long.json", `[${JSON.stringify({ question: long, answer: "#### 1" })}]`],
    ];
    for (const [name, text] of fixed) {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      await expectTypedOutcome(`dataset ${name}`, file, 64 * text.length + (16 << 20), () => readDataset(file));
    }
    const train = path.join(dir, "train.jsonl");
    writeFileSync(train, `{"prompt":"a","completion":"b"}\n{"prompt":"${long}","completion":${"[".repeat(50_000)}\n`);
    await expectTypedOutcome("training data with a 10 MB line", train, 64 << 20, async () => readPromptCompletionJsonl(train));
    const deadline = performance.now() + seconds * 400;
    while (performance.now() < deadline) {
      const format = pick(random, formats);
      const file = path.join(dir, `case.${format}`);
      const bytes = mutateDataset(baseDataset(format), format, random);
      writeFileSync(file, bytes);
      await expectTypedOutcome(`dataset case ${cases} (${format}, seed ${seed})`, file, 64 * bytes.length + (16 << 20), () => readDataset(file));
      cases++;
      if (cases % 10 === 0) await yieldToEventLoop();
    }
    console.log(`dataset fuzz: ${cases} cases`);
    expect(cases).toBeGreaterThan(50);
  }, (seconds + 60) * 1000);

  it("through the CLI (a few processes): a message and a non-zero exit, never a crash or a stack trace", async () => {
    const truncated = path.join(dir, "cli-truncated.gguf");
    writeFileSync(truncated, baseGguf.subarray(0, Math.floor(headerBytes / 2)));
    const hostile = path.join(dir, "cli-hostile.gguf");
    const bytes = Buffer.from(baseGguf);
    bytes.writeBigUInt64LE(0xffffffffffffffffn, 8); // tensor count
    writeFileSync(hostile, bytes);
    const nested = path.join(dir, "cli-nested.jsonl");
    writeFileSync(nested, `${baseDataset("jsonl")}${"[".repeat(200_000)}${"]".repeat(200_000)}\n\u0000\xff\n`);
    const runs = await Promise.all([
      runCli(["inspect", truncated, "--json"]),
      runCli(["inspect", hostile]),
      runCli(["data", "inspect", nested]),
    ]);
    for (const run of runs) {
      expect([run.signal, run.code === 0, run.code === 134]).toEqual([null, false, false]);
      expect(run.stderr.trim().length).toBeGreaterThan(0);
      expect(run.stderr).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
    }
  }, 180_000);
});
