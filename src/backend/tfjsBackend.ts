/**
 * Chooses the TensorFlow.js backend, in the order of DESIGN.md §5, and says which and why:
 *   1. @tensorflow/tfjs-node-gpu (CUDA)   2. @tensorflow/tfjs-backend-webgpu on Dawn, a hardware adapter only
 *   3. @tensorflow/tfjs-node (libtensorflow, CPU)   4. tfjs cpu backend + this project's native kernels
 *   5. plain tfjs cpu backend.
 * LLM2LLM_BACKEND=gpu|webgpu|node|native|cpu forces one choice (an unavailable forced choice is an error);
 * LLM2LLM_BACKEND=webgpu also takes a software adapter (SwiftShader), for tests and checks.
 */
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../errors.js";
import { registerNativeKernels } from "./nativeKernels.js";
import { installNavigatorGpu, probeWebGpu, type WebGpuAdapterInfo } from "./webgpuAdapter.js";

export type BackendChoice = "gpu" | "webgpu" | "node" | "native" | "cpu";

export interface BackendReport {
  choice: BackendChoice;
  /** tfjs's own backend name: "tensorflow", "webgpu" or "cpu". */
  tfjsBackend: string;
  /** One line a person can read: what runs and why. */
  description: string;
  /** What was tried before the choice, and why each was not taken. */
  skipped: { choice: BackendChoice; reason: string }[];
  /** The WebGPU adapter Dawn offered, whether or not it was taken; absent when there was none (or not looked for). */
  webgpuAdapter?: WebGpuAdapterInfo;
}

const order: BackendChoice[] = ["gpu", "webgpu", "node", "native", "cpu"];
let chosen: Promise<BackendReport> | undefined;

/** Initialises the backend once per process; later calls return the same report. */
export function initBackend(): Promise<BackendReport> {
  chosen ??= choose();
  return chosen;
}

async function choose(): Promise<BackendReport> {
  const forced = process.env.LLM2LLM_BACKEND as BackendChoice | undefined;
  if (forced !== undefined && !order.includes(forced)) {
    throw new UsageError(`LLM2LLM_BACKEND=${forced}: expected one of ${order.join(", ")}`);
  }
  const skipped: BackendReport["skipped"] = [];
  for (const choice of forced ? [forced] : order) {
    const attempt = await tryBackend(choice, forced === choice);
    if (attempt.ok) {
      silenceCpuBackendBanner();
      return { choice, tfjsBackend: tf.getBackend(), description: attempt.description, skipped, ...(await adapterSeen()) };
    }
    if (forced) throw new UsageError(`LLM2LLM_BACKEND=${forced}, but it is not available: ${attempt.reason}`);
    skipped.push({ choice, reason: attempt.reason });
  }
  throw new Error("unreachable: the plain cpu backend always loads");
}

/** The adapter the webgpu attempt saw (doctor names it even when a CPU backend was taken). */
async function adapterSeen(): Promise<{ webgpuAdapter?: WebGpuAdapterInfo }> {
  if (!webgpuLookedFor) return {};
  const probe = await probeWebGpu();
  return probe.ok ? { webgpuAdapter: probe.adapter } : {};
}
let webgpuLookedFor = false;

type Attempt = { ok: true; description: string } | { ok: false; reason: string };

async function tryBackend(choice: BackendChoice, forced: boolean): Promise<Attempt> {
  switch (choice) {
    case "webgpu":
      webgpuLookedFor = true;
      return tryWebGpu(forced);
    case "gpu":
    case "node": {
      const pkg = choice === "gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      try {
        await import(pkg);
      } catch (error) {
        const missing = (error as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
        return { ok: false, reason: missing ? `${pkg} is not installed` : `${pkg} failed to load: ${firstLine(error)}` };
      }
      if (!(await tf.setBackend("tensorflow"))) return { ok: false, reason: `${pkg} loaded but its backend did not start` };
      await tf.ready();
      return { ok: true, description: `${pkg} (libtensorflow${choice === "gpu" ? ", CUDA" : ", CPU"})` };
    }
    case "native": {
      await tf.setBackend("cpu");
      const native = registerNativeKernels();
      if (!native.ok) return { ok: false, reason: native.reason };
      return { ok: true, description: `tfjs cpu backend + native kernels (${native.description})` };
    }
    case "cpu":
      await tf.setBackend("cpu");
      await tf.ready();
      return { ok: true, description: "tfjs cpu backend, pure JavaScript (slow: build native/ for ~100x)" };
  }
}

/** tfjs-backend-webgpu 4.22's MatMulProgramType.MatMulSmallOutputSizeProgram. */
const matMulSmallOutputSizeProgram = 2;

/** tfjs-backend-webgpu on Dawn's adapter: a hardware one, or any one when forced. */
async function tryWebGpu(forced: boolean): Promise<Attempt> {
  const probe = await probeWebGpu();
  if (!probe.ok) return probe;
  const adapter = probe.adapter;
  if (adapter.software && !forced) {
    return { ok: false, reason: `${adapter.name} is a software adapter, slower than the CPU paths (LLM2LLM_BACKEND=webgpu forces it)` };
  }
  try {
    await installNavigatorGpu();
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) return { ok: false, reason: `tfjs-backend-webgpu did not start on ${adapter.name}` };
    await tf.ready();
  } catch (error) {
    return { ok: false, reason: `tfjs-backend-webgpu failed on ${adapter.name}: ${firstLine(error)}` };
  }
  // On a CPU emulation (SwiftShader) tfjs's MatMulReduceProgram, chosen for outputs of ≤ 128 values (LoRA
  // gradients), runs ~100x slower than a tiled program (its workgroup barriers), and the big-tile packed program
  // takes ~6x longer to compile (measured: a tiny model's first LoRA step 83 s vs 15 s): the small-tile one for all.
  if (adapter.software) tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", matMulSmallOutputSizeProgram);
  const note = adapter.software ? " — a CPU emulation of a GPU, for tests: not GPU speed" : "";
  return { ok: true, description: `@tensorflow/tfjs-backend-webgpu on ${adapter.name}${note}` };
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!;
}

/**
 * The tfjs cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on first use; this
 * project already says which backend runs and what to install (`llm2llm doctor`), so the banner is noise on
 * every command's stderr.
 */
function silenceCpuBackendBanner(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (tf.getBackend() === "cpu" && backend.firstUse !== undefined) backend.firstUse = false;
}
