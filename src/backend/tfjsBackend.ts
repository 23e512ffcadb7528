/**
 * Chooses the TensorFlow.js backend, in the order of DESIGN.md §5, and says which and why:
 *   1. @tensorflow/tfjs-node-gpu (CUDA)   2. @tensorflow/tfjs-node (libtensorflow, CPU)
 *   3. tfjs cpu backend + this project's native kernels   4. plain tfjs cpu backend.
 * LLM2LLM_BACKEND=gpu|node|native|cpu forces one choice (an unavailable forced choice is an error).
 */
import * as tf from "@tensorflow/tfjs";
import { UsageError } from "../errors.js";
import { registerNativeKernels } from "./nativeKernels.js";

export type BackendChoice = "gpu" | "node" | "native" | "cpu";

export interface BackendReport {
  choice: BackendChoice;
  /** tfjs's own backend name: "tensorflow" or "cpu". */
  tfjsBackend: string;
  /** One line a person can read: what runs and why. */
  description: string;
  /** What was tried before the choice, and why each was not taken. */
  skipped: { choice: BackendChoice; reason: string }[];
}

const order: BackendChoice[] = ["gpu", "node", "native", "cpu"];
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
    const attempt = await tryBackend(choice);
    if (attempt.ok) {
      silenceCpuBackendBanner();
      return { choice, tfjsBackend: tf.getBackend(), description: attempt.description, skipped };
    }
    if (forced) throw new UsageError(`LLM2LLM_BACKEND=${forced}, but it is not available: ${attempt.reason}`);
    skipped.push({ choice, reason: attempt.reason });
  }
  throw new Error("unreachable: the plain cpu backend always loads");
}

type Attempt = { ok: true; description: string } | { ok: false; reason: string };

async function tryBackend(choice: BackendChoice): Promise<Attempt> {
  switch (choice) {
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
