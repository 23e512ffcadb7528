/**
 * The one llama.cpp instance of the process (node-llama-cpp). Prebuilt binaries only (`build: "never"`):
 * offline, a source build can only fail late. Set LLM2LLM_LLAMA_GPU=false to force the CPU build, or
 * LLM2LLM_LLAMA_BUILD=auto to let node-llama-cpp build from source when no prebuilt binary fits.
 * LLM2LLM_LLAMA_THREADS sets llama.cpp's thread count.
 */
import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";

let instance: Promise<Llama> | undefined;

export function getLlamaCpp(): Promise<Llama> {
  instance ??= getLlama({
    gpu: process.env.LLM2LLM_LLAMA_GPU === "false" ? false : "auto",
    build: process.env.LLM2LLM_LLAMA_BUILD === "auto" ? "auto" : "never",
    logLevel: (process.env.LLM2LLM_LLAMA_LOG as LlamaLogLevel | undefined) ?? LlamaLogLevel.error,
    progressLogs: false,
    logger: logLlamaCpp,
    ...maxThreads(),
  });
  return instance;
}

/**
 * node-llama-cpp's CPU default is max(math cores, 4): on a 2-core machine that is 4 spinning threads on 2
 * cores, and every token waits on a descheduled thread (measured here: 540 ms a token instead of 0.6 ms).
 * So on 2 cores or fewer, one thread; elsewhere node-llama-cpp's own default.
 */
function maxThreads(): { maxThreads?: number } {
  const fromEnv = Number(process.env.LLM2LLM_LLAMA_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return { maxThreads: fromEnv };
  return os.availableParallelism() <= 2 ? { maxThreads: 1 } : {};
}

/**
 * llama.cpp's log, minus the two lines every vocabulary-only load prints (it looks for weights it was told not
 * to load): a real failure still throws, and the error names the file.
 */
function logLlamaCpp(level: LlamaLogLevel, message: string): void {
  if (/missing tensor 'token_embd\.weight'|llama_model_load_from_file_impl: failed to load model/.test(message)) return;
  process.stderr.write(`[llama.cpp ${level}] ${message.trimEnd()}\n`);
}
