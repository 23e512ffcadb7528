/**
 * Loads the native addon (native/, built by `npm install` through node-gyp) and registers its kernels
 * into the tfjs cpu backend. When the addon is missing the pure-JS path is used and the reason is shown.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export type NativeResult = { ok: true; description: string } | { ok: false; reason: string };

const addonPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../native/build/Release/llm2llm_native.node");

export function registerNativeKernels(): NativeResult {
  if (!existsSync(addonPath)) {
    return { ok: false, reason: `native addon not built (${path.relative(process.cwd(), addonPath)} missing; run \`npm run build:native\`)` };
  }
  try {
    createRequire(import.meta.url)(addonPath);
  } catch (error) {
    return { ok: false, reason: `native addon failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { ok: false, reason: "native addon loaded, but no kernels are registered yet" };
}
