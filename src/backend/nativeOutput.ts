/**
 * What native libraries (Dawn, llama.cpp) print of their own: shown on stderr only when asked, with `--verbose`
 * or LLM2LLM_LOG=native (a comma list; `all` works too). Otherwise a machine without a GPU would see Dawn's
 * "Couldn't load Vulkan" warning before every command's output; `llm2llm doctor` shows what was captured anyway.
 */

/** Whether the user asked for native libraries' own lines. */
export function nativeOutputWanted(): boolean {
  const topics = (process.env.LLM2LLM_LOG ?? "").split(",").map((topic) => topic.trim().toLowerCase());
  return topics.includes("native") || topics.includes("all");
}

/** `--verbose`: sets LLM2LLM_LOG so that child processes (the WebGPU probe, a run's second process) show them too. */
export function askForNativeOutput(): void {
  if (nativeOutputWanted()) return;
  process.env.LLM2LLM_LOG = [process.env.LLM2LLM_LOG, "native"].filter(Boolean).join(",");
}

/** Captured lines, each prefixed with the library that wrote it, when asked. */
export function showNativeOutput(source: string, lines: readonly string[]): void {
  if (!nativeOutputWanted()) return;
  for (const line of lines) process.stderr.write(`[${source}] ${line}\n`);
}
