/**
 * The one llama.cpp instance of the process (node-llama-cpp). Prebuilt binaries only (`build: "never"`):
 * offline, a source build can only fail late. Set LLM2LLM_LLAMA_GPU=false to force the CPU build, or
 * LLM2LLM_LLAMA_BUILD=auto to let node-llama-cpp build from source when no prebuilt binary fits.
 * LLM2LLM_LLAMA_THREADS sets llama.cpp's thread count.
 */
import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { nativeOutputWanted } from "./nativeOutput.js";

let instance: Promise<Llama> | undefined;

export function getLlamaCpp(): Promise<Llama> {
  instance ??= getLlama({
    gpu: process.env.LLM2LLM_LLAMA_GPU === "false" ? false : "auto",
    build: process.env.LLM2LLM_LLAMA_BUILD === "auto" ? "auto" : "never",
    logLevel: logLevel(),
    progressLogs: false,
    logger: logLlamaCpp,
    ...maxThreads(),
  });
  return instance;
}

/**
 * Errors only (they come with a failure the project reports), warnings too when native output is asked for
 * (`--verbose`, LLM2LLM_LOG=native); LLM2LLM_LLAMA_LOG names a level of its own. node-llama-cpp's own
 * messages about binaries stay off (`progressLogs: false`).
 */
function logLevel(): LlamaLogLevel {
  const named = process.env.LLM2LLM_LLAMA_LOG as LlamaLogLevel | undefined;
  return named ?? (nativeOutputWanted() ? LlamaLogLevel.warn : LlamaLogLevel.error);
}

/**
 * node-llama-cpp's CPU default is max(math cores, 4): on a 2-core machine that is 4 spinning threads on 2
 * cores, and every token waits on a descheduled thread (measured here: 540 ms a token instead of 0.6 ms).
 * So on 4 cores or fewer, one thread per core (2 threads on 2 cores: prompt processing 2.0x and a decode step
 * 1.4-2x faster than 1 thread, measured on a quiet machine); elsewhere node-llama-cpp's own default. The test
 * suite, which runs two files at once, sets LLM2LLM_LLAMA_THREADS=1 (vitest.config.ts).
 */
function maxThreads(): { maxThreads?: number } {
  const fromEnv = Number(process.env.LLM2LLM_LLAMA_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return { maxThreads: fromEnv };
  const cores = os.availableParallelism();
  return cores <= 4 ? { maxThreads: cores } : {};
}

/**
 * llama.cpp's log, minus the two lines every vocabulary-only load prints (it looks for weights it was told not
 * to load): a real failure still throws, and the error names the file.
 */
function logLlamaCpp(level: LlamaLogLevel, message: string): void {
  if (/missing tensor 'token_embd\.weight'|llama_model_load_from_file_impl: failed to load model/.test(message)) return;
  process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`);
}
