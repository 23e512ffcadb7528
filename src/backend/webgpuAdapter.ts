/**
 * Finds the WebGPU adapter Dawn offers (npm `webgpu`: Dawn's prebuilt `dawn.node`), before tfjs-backend-webgpu
 * asks for the same one. Says what it is (vendor, architecture, Dawn backend) and whether it is software
 * (SwiftShader, llvmpipe/lavapipe, WARP): a software adapter is slower than this project's native CPU kernels,
 * so the backend choice never takes it unless LLM2LLM_BACKEND=webgpu forces it.
 *
 * The probe runs in a child process (webgpuProbeChild.mjs). Dawn and the Vulkan loader write their warnings
 * from native code straight to file descriptor 2 ("Couldn't load Vulkan: libvulkan.so.1…" on every machine
 * without a GPU), which no JavaScript-level patch of process.stderr can catch; redirecting fd 2 in this process
 * would need native code and would also swallow whatever else wrote to stderr meanwhile, as Dawn's adapter
 * request is asynchronous. A child's stdout and stderr are pipes the parent reads, whatever thread writes
 * them, and cost ~0.1 s once per process. This process loads Dawn itself only when tfjs will use the adapter.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {} from "webgpu"; // the WebGPU types (GPU, GPUAdapter…) come with it
import { showNativeOutput } from "./nativeOutput.js";

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

/** `nativeOutput`: what Dawn (and the Vulkan loader) printed while looking, one entry a line. */
export type WebGpuProbe = ({ ok: true; adapter: WebGpuAdapterInfo } | { ok: false; reason: string }) & { nativeOutput: string[] };

/** What the child sends (webgpuProbeChild.mjs). */
type ChildMessage =
  | { kind: "adapter"; vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean }
  | { kind: "no-adapter" }
  | { kind: "load-failed"; code: string | null; message: string }
  | { kind: "request-failed"; message: string };

/** A GPU driver that hangs while enumerating adapters must not hang every command. */
const probeTimeoutMs = 30_000;

let probed: Promise<WebGpuProbe> | undefined;

/** Looks for an adapter once per process; Dawn's lines are shown only with `--verbose` / LLM2LLM_LOG=native. */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probed ??= probe().then((result) => {
    showNativeOutput("dawn", result.nativeOutput);
    return result;
  });
  return probed;
}

async function probe(): Promise<WebGpuProbe> {
  const { message, nativeOutput, failure } = await runProbeChild();
  if (!message) return { ok: false, reason: `the WebGPU probe failed: ${failure}`, nativeOutput };
  switch (message.kind) {
    case "load-failed": {
      const missing = message.code === "ERR_MODULE_NOT_FOUND";
      return { ok: false, reason: missing ? "the npm package webgpu (Dawn) is not installed" : `Dawn (npm webgpu) failed to load: ${firstLine(message.message)}`, nativeOutput };
    }
    case "request-failed":
      return { ok: false, reason: `Dawn found no WebGPU adapter: ${firstLine(message.message)}`, nativeOutput };
    case "no-adapter":
      return { ok: false, reason: `Dawn found no WebGPU adapter on ${dawnBackend()} (no GPU driver: ${driverHint()})`, nativeOutput };
    case "adapter":
      return { ok: true, adapter: describeAdapter(message), nativeOutput };
  }
}

interface ChildOutcome {
  message?: ChildMessage;
  nativeOutput: string[];
  /** Why no message came (the child crashed, timed out or could not start). */
  failure?: string;
}

/** Runs webgpuProbeChild.mjs with this process's environment (VK_ICD_FILENAMES, DAWNNODE_BACKEND…). */
function runProbeChild(): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const script = fileURLToPath(new URL("./webgpuProbeChild.mjs", import.meta.url));
    // execArgv: [] — the child is plain node, without the tsx loader or inspector flags of this process.
    const child = fork(script, [], { stdio: ["ignore", "pipe", "pipe", "ipc"], execArgv: [], timeout: probeTimeoutMs });
    let output = "";
    let message: ChildMessage | undefined;
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.on("message", (m) => (message = m as ChildMessage));
    const finish = (failure?: string) => resolve({ ...(message ? { message } : { failure: failure ?? "no answer" }), nativeOutput: lines(output) });
    child.on("error", (error) => finish(firstLine(error)));
    child.on("close", (code, signal) => {
      if (signal === "SIGTERM" && !message) return finish(`no answer within ${probeTimeoutMs / 1000} s`);
      finish(signal ? `the probe process was killed by ${signal}` : `the probe process exited with code ${code}`);
    });
  });
}

function lines(text: string): string[] {
  return text.split("\n").map((line) => line.trimEnd()).filter((line) => line.length > 0);
}

/**
 * Dawn in this process, once tfjs is to use the adapter the probe found: installs `navigator.gpu` and the GPU*
 * constants (GPUBufferUsage…) tfjs-backend-webgpu reads from the global scope. With a working driver Dawn has
 * nothing to warn about here; what it does print is the real use's, not the probe's.
 */
export async function installNavigatorGpu(): Promise<void> {
  if ((globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu) return;
  const dawn = (await import("webgpu")) as unknown as { create(flags: string[]): GPU; globals: object };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const navigator = (globalThis as { navigator?: object }).navigator;
  if (navigator) Object.defineProperty(navigator, "gpu", { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true, writable: true });
}

const softwareNames = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

function describeAdapter(found: Extract<ChildMessage, { kind: "adapter" }>): WebGpuAdapterInfo {
  const fields = { vendor: found.vendor || "unknown vendor", architecture: found.architecture, device: found.device, description: found.description };
  const software = found.isFallbackAdapter || softwareNames.test(`${fields.architecture} ${fields.device} ${fields.description}`);
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
