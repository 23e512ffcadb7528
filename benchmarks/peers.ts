/**
 * The performance peers of ../shared/peers (override: LLM2LLM_PEERS): Python scripts run with
 * Debian's /usr/bin/python3 in the same benchmark run, so their figures and ours share the machine's
 * mood. When their Debian packages are missing we install them with apt-get if we are root, and
 * otherwise say exactly what to run.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MissingFileError, UsageError } from "../src/errors.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const peersDir = process.env.LLM2LLM_PEERS ?? path.resolve(repoRoot, "../shared/peers");
const python = "/usr/bin/python3";

/** Makes sure `module` imports in Debian's python3, installing `packages` with apt-get when root. */
export function ensurePythonModule(module: string, packages: string[], log: (line: string) => void): void {
  const imports = () => spawnSync(python, ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
  if (existsSync(python) && imports()) return;
  const how = `apt-get install -y ${packages.join(" ")}`;
  if (process.getuid?.() !== 0) {
    throw new UsageError(`the peer needs ${python} with ${module}: run \`sudo ${how}\``);
  }
  log(`peer: ${python} lacks ${module}; running \`${how}\``);
  spawnSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"] });
  const install = spawnSync("apt-get", ["install", "-y", ...packages], { stdio: ["ignore", "ignore", "inherit"] });
  if (install.status !== 0 || !imports()) throw new UsageError(`\`${how}\` did not make ${module} importable in ${python}`);
}

/** Runs a peer script and returns the JSON object on the last line of its stdout. */
export function runPeer(script: string, args: string[], timeoutMs: number): Record<string, unknown> {
  const file = path.join(peersDir, script);
  if (!existsSync(file)) throw new MissingFileError(file, `performance peer ${script} (set LLM2LLM_PEERS to ../shared/peers)`);
  const run = spawnSync(python, [file, ...args], { encoding: "utf8", timeout: timeoutMs, maxBuffer: 16 << 20 });
  if (run.status !== 0) {
    throw new UsageError(`peer ${script} ${args.join(" ")} failed (status ${run.status}): ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`);
  }
  const last = run.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new UsageError(`peer ${script} printed no JSON line: ${last.slice(0, 200)}`);
  }
}
