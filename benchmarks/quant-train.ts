/**
 * `npm run bench -- quant-train [--models 1b-q4_k,7b-q4_0] [--examples 8] [--max-len 256] [--epochs 3] [--rounds 2]
 *  [--model-dir DIR] [--peer-threads 1,2] [--no-peer]`: LoRA training on 4-bit GGUFs of real sizes, as a user runs
 * it — `llm2llm train` in a child process, its peak RSS from /usr/bin/time — with the base matrices kept in their
 * blocks (`--base-weights stored`) and dequantized to float32 (`--base-weights f32`, where that fits; where it does
 * not, the memory plan's refusal is the result), then the adapter loaded by llama.cpp on the same file
 * (`generate --engine llama.cpp --adapter`), and PyTorch's float32 LoRA step on the same shape where it fits.
 * Models: random weights quantized by llama.cpp's own quantizer (quantTrain/randomQuantizedModel.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UsageError } from "../src/errors.js";
import { mulberry32 } from "../src/util/mulberry32.js";
import type { Benchmark } from "./main.js";
import { describeMachine } from "./machine.js";
import { ensurePythonModule, medianOf, PeerTimeoutError, runPeer } from "./peers.js";
import { ensureQuantModel, quantModelShapes } from "./quantTrain/randomQuantizedModel.js";

interface Row {
  model: string;
  file_bytes: number;
  side: "stored" | "f32" | "pytorch f32";
  round?: number;
  exit: number;
  /** Real tokens per second over the steps after the first (the first pays page faults and buffer growth). */
  tokens_per_s: number | null;
  peak_rss_bytes: number | null;
  seconds: number | null;
  /** For ours: whether llama.cpp loaded the adapter on the same file and generated with it. */
  adapter_in_llama_cpp?: boolean;
  note?: string;
}

interface QuantTrainResult {
  [field: string]: unknown;
  results: Row[];
  machine: object;
  settings: Record<string, unknown>;
  /** Per model: medians over the rounds, the ratios, and the stored side's largest peak RSS (minus the file's size). */
  summary: Record<string, Record<string, number | null>>;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
}

const words = "the a farmer sold apples at market each morning and counted coins before noon while her brother carried baskets of pears to town".split(" ");

/** n examples of about `tokens` tokens each (Llama's tokenizer: ~1.3 tokens a word), half prompt, half completion. */
function trainingData(n: number, tokens: number): string {
  const next = mulberry32(7);
  const text = (count: number) => Array.from({ length: count }, () => words[Math.floor(next() * words.length)]).join(" ");
  const perHalf = Math.floor(tokens / 2 / 1.35);
  return Array.from({ length: n }, () => JSON.stringify({ prompt: text(perHalf), completion: text(perHalf) })).join("\n") + "\n";
}

const cli = path.resolve("bin/llm2llm.js");

/** Runs `llm2llm <args>` under /usr/bin/time: exit, stdout, stderr tail, peak RSS (bytes), wall seconds. */
function timed(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const timeFile = path.join(os.tmpdir(), `llm2llm-time-${process.pid}.txt`);
  const run = spawnSync("/usr/bin/time", ["-f", "%M %e", "-o", timeFile, process.execPath, cli, ...args], { encoding: "utf8", env, maxBuffer: 64 << 20 });
  const [kb, seconds] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  rmSync(timeFile, { force: true });
  return { exit: run.status ?? -1, stdout: run.stdout, stderr: run.stderr, peakRss: kb! * 1024, seconds: seconds! };
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const benchmark: Benchmark<QuantTrainResult> = {
  description: "LoRA training on 4-bit GGUFs of 1B and 7B shape: stored blocks vs float32 vs PyTorch (tokens/s, peak RSS)",
  async run(args, log) {
    if (!existsSync("/usr/bin/time")) throw new UsageError("quant-train measures peak RSS with /usr/bin/time (apt-get install time)");
    const models = option(args, "models", "1b-q4_k,7b-q4_0").split(",");
    const examples = Number(option(args, "examples", "8"));
    const maxLen = Number(option(args, "max-len", "256"));
    const epochs = Number(option(args, "epochs", "3"));
    const rounds = Number(option(args, "rounds", "2"));
    const modelDir = option(args, "model-dir", path.join(os.tmpdir(), "llm2llm-bench-models"));
    const peerThreads = option(args, "peer-threads", "1,2").split(",").map(Number);
    const work = mkdtempSync(path.join(os.tmpdir(), "llm2llm-quant-train-"));
    const data = path.join(work, "train.jsonl");
    writeFileSync(data, trainingData(examples, Math.floor(maxLen * 0.8)));
    const results: Row[] = [];
    const summary: QuantTrainResult["summary"] = {};
    try {
      for (const name of models) {
        const file = await ensureQuantModel(name, modelDir, log);
        const fileBytes = statSync(file).size;
        const rows: Row[] = [];
        // Rounds alternate the two sides, so a host whose speed drifts between minutes weighs on both alike.
        for (let round = 1; round <= rounds; round++) {
          for (const side of ["stored", "f32"] as const) {
            if (round > 1 && rows.some((r) => r.side === side && r.exit !== 0)) continue; // refused once: refused again
            rows.push(trainRow(name, file, fileBytes, side, round, { data, work, examples, maxLen, epochs }, log));
          }
        }
        if (!args.includes("--no-peer")) rows.push(...pytorchRows(name, fileBytes, examples, maxLen, peerThreads, log));
        results.push(...rows);
        const median = (side: Row["side"]) => {
          const values = rows.filter((r) => r.side === side && r.tokens_per_s).map((r) => r.tokens_per_s!);
          return values.length ? medianOf(values) : null;
        };
        const peer = Math.max(0, ...rows.filter((r) => r.side === "pytorch f32" && r.tokens_per_s).map((r) => r.tokens_per_s!)) || null;
        const [stored, f32] = [median("stored"), median("f32")];
        const ratio = (a: number | null, b: number | null) => (a && b ? Math.round((a / b) * 1000) / 1000 : null);
        const storedRss = Math.max(0, ...rows.filter((r) => r.side === "stored" && r.exit === 0).map((r) => r.peak_rss_bytes!)) || null;
        summary[name] = {
          stored_tokens_per_s: stored,
          f32_tokens_per_s: f32,
          pytorch_tokens_per_s: peer,
          stored_vs_f32: ratio(stored, f32),
          stored_vs_pytorch: ratio(stored, peer),
          rss_over_file_bytes: storedRss === null ? null : storedRss - fileBytes,
          peak_rss_bytes: storedRss,
        };
        log(`${name}: ${JSON.stringify(summary[name])}`);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return { results, summary, settings: { examples, max_len: maxLen, epochs, rounds, batch: examples, peer_threads: peerThreads }, machine: describeMachine("native (llm2llm train, child process)") };
  },
  table(result) {
    const gib = (b: number | null) => (b === null ? "-" : (b / 2 ** 30).toFixed(2));
    return {
      header: ["model", "side", "round", "exit", "tokens/s", "peak RSS GiB", "file GiB", "adapter in llama.cpp", "note"],
      rows: result.results.map((r) => [r.model, r.side, r.round ?? "-", r.exit, r.tokens_per_s?.toFixed(1) ?? "-", gib(r.peak_rss_bytes), gib(r.file_bytes), r.adapter_in_llama_cpp === undefined ? "-" : String(r.adapter_in_llama_cpp), (r.note ?? "").slice(0, 80)]),
    };
  },
};

/**
 * One `llm2llm train` run: its exit, peak RSS, steady tokens/s (from the loss curve it writes: steps after the first)
 * and whether llama.cpp then runs the adapter on the same file.
 */
function trainRow(
  name: string, file: string, fileBytes: number, side: "stored" | "f32", round: number,
  o: { data: string; work: string; examples: number; maxLen: number; epochs: number }, log: (line: string) => void,
): Row {
  const adapter = path.join(o.work, `${name}-${side}-${round}.gguf`);
  log(`${name} round ${round}: llm2llm train --base-weights ${side} …`);
  const run = timed(["train", "--model", file, "--data", o.data, "--out", adapter, "--epochs", String(o.epochs), "--batch", String(o.examples), "--max-len", String(o.maxLen), "--base-weights", side, "--json"]);
  const row: Row = { model: name, file_bytes: fileBytes, side, round, exit: run.exit, tokens_per_s: null, peak_rss_bytes: run.peakRss, seconds: run.seconds };
  if (run.exit !== 0) row.note = run.stderr.trim().split("\n").pop()?.slice(0, 600);
  else {
    const curve = (JSON.parse(readFileSync(adapter.replace(/\.gguf$/, ".loss.json"), "utf8")) as { lossCurve: { tokens: number; elapsedMs: number }[] }).lossCurve;
    const steady = curve.slice(1);
    const ms = (curve.at(-1)?.elapsedMs ?? 0) - (curve[0]?.elapsedMs ?? 0);
    row.tokens_per_s = steady.length && ms > 0 ? Math.round((steady.reduce((t, p) => t + p.tokens, 0) / (ms / 1000)) * 10) / 10 : null;
    const generated = timed(["generate", "--engine", "llama.cpp", "--model", file, "--adapter", adapter, "--prompt", "the farmer", "--max-tokens", "4", "--json"]);
    row.adapter_in_llama_cpp = generated.exit === 0 && Array.isArray(lastJson(generated.stdout)?.tokens);
  }
  log(`  exit ${row.exit}, ${row.tokens_per_s?.toFixed(1) ?? "-"} tokens/s, peak RSS ${(run.peakRss / 2 ** 30).toFixed(2)} GiB${row.note ? `: ${row.note}` : ""}`);
  return row;
}

/** PyTorch's float32 LoRA step on the model's shape, at each thread count; skipped where float32 weights cannot fit. */
function pytorchRows(name: string, fileBytes: number, batch: number, seq: number, threads: number[], log: (line: string) => void): Row[] {
  const s = quantModelShapes[name]!;
  const f32Bytes = 4 * (32000 * s.nEmbd * (s.tiedOutput ? 1 : 2) + s.nLayer * (2 * s.nEmbd * s.nEmbd + 2 * s.nEmbd * (s.nEmbd / s.nHead) * s.nHeadKv + 3 * s.nEmbd * s.nFf));
  if (f32Bytes > os.totalmem() * 0.6) {
    return [{ model: name, file_bytes: fileBytes, side: "pytorch f32", exit: -1, tokens_per_s: null, peak_rss_bytes: null, seconds: null, note: `not run: its float32 weights alone are ${(f32Bytes / 2 ** 30).toFixed(1)} GiB` }];
  }
  ensurePythonModule("torch", ["python3-torch", "python3-numpy", "libopenblas0-pthread"], log);
  return threads.map((t) => {
    log(`${name}: PyTorch LoRA step, ${t} thread(s) …`);
    const peerArgs = ["--vocab", "32000", "--dim", String(s.nEmbd), "--layers", String(s.nLayer), "--heads", String(s.nHead), "--kv-heads", String(s.nHeadKv), "--ffn", String(s.nFf), "--seq", String(Math.floor(seq * 0.8)), "--batch", String(batch), "--rank", "8", "--steps", "2", "--warmup", "1", "--threads", String(t)];
    try {
      const r = runPeer("torch_lora_step.py", peerArgs, 3_600_000);
      return { model: name, file_bytes: fileBytes, side: "pytorch f32" as const, exit: 0, tokens_per_s: Number(r.tokens_per_s), peak_rss_bytes: Number(r.peak_rss_mb) * 2 ** 20, seconds: null, note: `${t} thread(s), ${blasOf(r)}` };
    } catch (error) {
      if (!(error instanceof PeerTimeoutError) && !(error instanceof UsageError)) throw error;
      return { model: name, file_bytes: fileBytes, side: "pytorch f32" as const, exit: 1, tokens_per_s: null, peak_rss_bytes: null, seconds: null, note: error.message.slice(0, 300) };
    }
  });
}

/** "openblas (Cooperlake)": the BLAS the peer loaded and OpenBLAS's kernel, from its `blas` field. */
function blasOf(result: Record<string, unknown>): string {
  const blas = result.blas as { libraries?: string[]; openblas_core?: string } | undefined;
  const library = blas?.libraries?.map((l) => path.basename(l)).join(", ") ?? "unknown BLAS";
  return blas?.openblas_core ? `${library} (${blas.openblas_core})` : library;
}

export default benchmark;
