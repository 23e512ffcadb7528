/**
 * On a machine with no Vulkan driver, Dawn (npm `webgpu`) warns from native code on fd 2 ("Couldn't load
 * Vulkan: libvulkan.so.1…", or "vkCreateInstance: Found no drivers!" where the loader is installed) — it used
 * to print that before every command's output. Real commands here, with Vulkan's driver search pointed at a
 * file that does not exist: `generate ... 2>err` leaves err empty (issue 24); `doctor` shows what Dawn said, and
 * `--verbose` / LLM2LLM_LOG=native show it on stderr.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "./fixtures.js";
import { runCli } from "./helpers/runCli.js";

const model = path.join(repoRoot, "models/toy-student.gguf");
const generate = ["generate", "--model", model, "--prompt", "Tom has 3 apples", "--max-tokens", "3"];

/** This process's environment with every way to a Vulkan driver closed and no logging asked for. */
function noVulkanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  const nowhere = path.join(repoRoot, "test", "no-such-vulkan-driver.json");
  env.VK_ICD_FILENAMES = nowhere; // the Vulkan loader's driver list (older name)
  env.VK_DRIVER_FILES = nowhere; // the same, loader 1.3.207 and later
  for (const name of ["VK_ADD_DRIVER_FILES", "VK_LOADER_DEBUG", "DAWNNODE_BACKEND", "LLM2LLM_BACKEND", "XDG_RUNTIME_DIR"]) delete env[name];
  if (!("LLM2LLM_LOG" in extra)) delete env.LLM2LLM_LOG;
  return env;
}

/** The summary line `generate` prints after the text, on stdout. */
const summaryLine = (engine: string) => new RegExp(`\\n\\[${engine.replace(".", "\\.")}: \\d+ prompt tokens, 3 generated \\(max tokens\\), [\\d.]+ tokens/s\\]\\n$`);

describe.skipIf(process.platform !== "linux")("quiet native output without Vulkan (Linux)", () => {
  let dawnLines: string[] = [];

  it("`doctor --json` finds no adapter and shows what Dawn printed; its stderr is empty", async () => {
    const run = await runCli(["doctor", "--json"], { env: noVulkanEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    const report = JSON.parse(run.stdout) as { webgpu: { adapter?: unknown; reason?: string; nativeOutput: string[] } };
    expect(report.webgpu.adapter).toBeUndefined(); // Vulkan really could not load a driver
    expect(report.webgpu.reason).toMatch(/no WebGPU adapter/);
    // Dawn did warn (the case this test is about), and doctor kept its lines.
    expect(report.webgpu.nativeOutput.join("\n")).toMatch(/Vulkan|vkCreateInstance/);
    dawnLines = report.webgpu.nativeOutput;
  });

  it("`generate` on tfjs: stderr is empty", async () => {
    const run = await runCli(generate, { env: noVulkanEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^student backend: /);
    expect(run.stdout).toMatch(summaryLine("tfjs"));
  });

  it("`generate` on llama.cpp: stderr is empty", async () => {
    const run = await runCli([...generate, "--engine", "llama.cpp"], { env: noVulkanEnv() });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(summaryLine("llama.cpp"));
  });

  it("`--verbose` and LLM2LLM_LOG=native show Dawn's lines on stderr", async () => {
    expect(dawnLines.length).toBeGreaterThan(0);
    for (const [args, extra] of [[[...generate, "--verbose"], {}], [generate, { LLM2LLM_LOG: "native" }]] as const) {
      const run = await runCli([...args], { env: noVulkanEnv(extra) });
      expect(run.code, run.stderr).toBe(0);
      const stderr = run.stderr.split("\n");
      for (const line of dawnLines) expect(stderr).toContain(`[dawn] ${line}`);
      expect(run.stdout).toMatch(/\[tfjs: \d+ prompt tokens/);
    }
  });
});
