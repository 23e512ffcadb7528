import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Prints any test that kept its worker off the event loop for long (the cause of "Timeout calling onTaskUpdate").
    setupFiles: ["test/setup/eventLoopWatch.ts"],
    // Two cores: llama.cpp and tfjs each want a whole one, so files run two at a time at most.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // With two files at once, a llama.cpp thread per core would put 4 spinning threads on 2 cores.
    env: { LLM2LLM_LLAMA_THREADS: process.env.LLM2LLM_LLAMA_THREADS ?? "1" },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
