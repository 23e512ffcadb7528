/**
 * The one llama.cpp instance of the process (node-llama-cpp). Prebuilt binaries only (`build: "never"`):
 * offline, a source build can only fail late. Set LLM2LLM_LLAMA_GPU=false to force the CPU build, or
 * LLM2LLM_LLAMA_BUILD=auto to let node-llama-cpp build from source when no prebuilt binary fits.
 */
import { getLlama, type Llama, type LlamaLogLevel } from "node-llama-cpp";

let instance: Promise<Llama> | undefined;

export function getLlamaCpp(): Promise<Llama> {
  instance ??= getLlama({
    gpu: process.env.LLM2LLM_LLAMA_GPU === "false" ? false : "auto",
    build: process.env.LLM2LLM_LLAMA_BUILD === "auto" ? "auto" : "never",
    logLevel: (process.env.LLM2LLM_LLAMA_LOG as LlamaLogLevel | undefined) ?? ("error" as LlamaLogLevel),
    progressLogs: false,
  });
  return instance;
}
