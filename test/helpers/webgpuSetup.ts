/**
 * The webgpu test process: LLM2LLM_BACKEND=webgpu, and where no GPU driver is configured, Chromium's
 * SwiftShader (a CPU Vulkan driver; Debian's `chromium` package with `libvulkan1`) as Dawn's adapter. Call it
 * before anything initialises the tfjs backend. Resolves to the backend report, or to the reason the webgpu
 * tests must skip (no Vulkan driver, no adapter).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { initBackend, type BackendReport } from "../../src/backend/tfjsBackend.js";

export const swiftShaderIcd = "/usr/lib/chromium/vk_swiftshader_icd.json";

export type WebGpuTestSetup = { ok: true; report: BackendReport } | { ok: false; reason: string };

export async function setUpWebGpuForTests(): Promise<WebGpuTestSetup> {
  process.env.LLM2LLM_BACKEND = "webgpu";
  // A user's own driver (VK_ICD_FILENAMES already set, or a Mac / Windows GPU) is kept.
  if (process.platform === "linux" && !process.env.VK_ICD_FILENAMES) {
    if (!existsSync(swiftShaderIcd)) {
      return { ok: false, reason: `skipped: no Vulkan driver for Dawn (${swiftShaderIcd} absent: apt-get install chromium libvulkan1)` };
    }
    process.env.VK_ICD_FILENAMES = swiftShaderIcd;
  }
  // The Vulkan loader refuses to run without it (containers and CI often lack one).
  process.env.XDG_RUNTIME_DIR ||= mkdtempSync(path.join(tmpdir(), "llm2llm-xdg-"));
  try {
    return { ok: true, report: await initBackend() };
  } catch (error) {
    return { ok: false, reason: `skipped: ${error instanceof Error ? error.message : String(error)}` };
  }
}
