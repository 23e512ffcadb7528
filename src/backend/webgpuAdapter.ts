/**
 * Finds the WebGPU adapter Dawn offers this process (npm `webgpu`: Dawn's prebuilt `dawn.node`), before
 * tfjs-backend-webgpu asks for the same one. Says what it is (vendor, architecture, Dawn backend) and whether
 * it is software (SwiftShader, llvmpipe/lavapipe, WARP): a software adapter is slower than this project's
 * native CPU kernels, so the backend choice never takes it unless LLM2LLM_BACKEND=webgpu forces it.
 */
import type {} from "webgpu"; // the WebGPU types (GPU, GPUAdapter…) come with it

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's native API: vulkan on Linux, metal on macOS, d3d12 on Windows, unless DAWNNODE_BACKEND says otherwise. */
  dawnBackend: string;
  /** A CPU implementation of the GPU API (SwiftShader, llvmpipe/lavapipe, WARP): correct, but no GPU. */
  software: boolean;
  /** "google / swiftshader (SwiftShader driver 5.0.0, vulkan, software)". */
  name: string;
}

export type WebGpuProbe = { ok: true; adapter: WebGpuAdapterInfo } | { ok: false; reason: string };

let probed: Promise<WebGpuProbe> | undefined;

/** Looks for an adapter once per process (it installs `navigator.gpu` and Dawn's globals for tfjs-backend-webgpu). */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<WebGpuProbe> {
  let dawn: { create(flags: string[]): GPU; globals: object };
  try {
    dawn = (await import("webgpu")) as unknown as typeof dawn;
  } catch (error) {
    const missing = (error as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    return { ok: false, reason: missing ? "the npm package webgpu (Dawn) is not installed" : `Dawn (npm webgpu) failed to load: ${firstLine(error)}` };
  }
  const gpu = installNavigatorGpu(dawn);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { ok: false, reason: `Dawn found no WebGPU adapter: ${firstLine(error)}` };
  }
  if (!adapter) {
    return { ok: false, reason: `Dawn found no WebGPU adapter on ${dawnBackend()} (no GPU driver: ${driverHint()})` };
  }
  return { ok: true, adapter: describeAdapter(adapter) };
}

/** tfjs-backend-webgpu reads `navigator.gpu` and the GPU* constants (GPUBufferUsage…) from the global scope. */
function installNavigatorGpu(dawn: { create(flags: string[]): GPU; globals: object }): GPU {
  const existing = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (existing) return existing;
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const navigator = (globalThis as { navigator?: object }).navigator;
  if (navigator) Object.defineProperty(navigator, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

const softwareNames = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

function describeAdapter(adapter: GPUAdapter): WebGpuAdapterInfo {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacyFallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const fields = { vendor: info.vendor || "unknown vendor", architecture: info.architecture || "", device: info.device || "", description: info.description || "" };
  const software =
    info.isFallbackAdapter === true || legacyFallback === true || softwareNames.test(`${fields.architecture} ${fields.device} ${fields.description}`);
  const backend = dawnBackend();
  const what = [fields.vendor, fields.architecture].filter(Boolean).join(" / ");
  const detail = [fields.description, backend, software ? "software" : "hardware"].filter(Boolean).join(", ");
  return { ...fields, dawnBackend: backend, software, name: `${what} (${detail})` };
}

/** What dawn.node uses: its DAWNNODE_BACKEND override, else the platform's native API. */
function dawnBackend(): string {
  const forced = process.env.DAWNNODE_BACKEND;
  if (forced) return forced.toLowerCase();
  return process.platform === "win32" ? "d3d12" : process.platform === "darwin" ? "metal" : "vulkan";
}

function driverHint(): string {
  if (process.platform === "linux") {
    return "install the GPU's Vulkan driver and libvulkan1; for tests without a GPU, chromium's SwiftShader: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json";
  }
  return process.platform === "darwin" ? "Metal needs macOS 11 or later on a Mac with a GPU" : "update the GPU driver (D3D12)";
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!;
}
