/**
 * The performance peers of ../shared/peers (override: LLM2LLM_PEERS): Python scripts run with
 * Debian's /usr/bin/python3 in the same benchmark run, so their figures and ours share the machine's
 * mood. When their Debian packages are missing we install them with apt-get if we are root, and
 * otherwise say exactly what to run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MissingFileError, UsageError } from "../src/errors.js";
import { LoraAdapter } from "../src/student/lora/LoraAdapter.js";
import { loraSitesOf } from "../src/student/lora/loraSites.js";
import { loraTargets } from "../src/student/lora/loraTargets.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { makeBatch } from "../src/student/train/batches.js";
import { LoraTrainer } from "../src/student/train/LoraTrainer.js";
import { SeededRandom } from "../src/student/train/seededRandom.js";
import { randomModelSource } from "../test/helpers/randomModel.js";

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

/** One model shape of ../shared/peers/configs.json (llama; kv_heads < heads is grouped-query attention). */
export interface PeerConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  kv_heads: number;
  ffn: number;
  seq: number;
  batch: number;
  rank: number;
}

/** The named configs of ../shared/peers/configs.json; an unknown name is a usage error. */
export function readPeerConfigs(names: string[]): Record<string, PeerConfig> {
  const configs = JSON.parse(readFileSync(path.join(peersDir, "configs.json"), "utf8")) as Record<string, PeerConfig>;
  for (const name of names) if (!configs[name]) throw new UsageError(`--configs: no config "${name}" in ${peersDir}/configs.json`);
  return configs;
}

/**
 * The peer's training step on our side: a random-weight llama of the config's shape, a fresh LoRA of its rank on
 * all seven projections, and one batch of random tokens with the prompt half masked (as torch_lora_step.py does).
 */
export async function peerLoraStep(config: PeerConfig, alpha: number) {
  const model = await StudentModel.fromGguf(
    randomModelSource(
      { architecture: "llama", nEmbd: config.dim, nLayer: config.layers, nHead: config.heads, nHeadKv: config.kv_heads, nFf: config.ffn, seed: 1 },
      config.vocab,
    ),
  );
  const adapter = LoraAdapter.create(loraSitesOf(model, [...loraTargets]), { rank: config.rank, alpha, dropout: 0 }, 0);
  // torch.optim.AdamW defaults (weight decay 0.01); no clipping, as the peer.
  const trainer = new LoraTrainer(model, adapter, { maxGradNorm: 0 });
  const random = new SeededRandom(0);
  const rows = Array.from({ length: config.batch }, (_, i) => ({
    ids: Array.from({ length: config.seq + 1 }, () => random.int(config.vocab)), // T = seq inputs
    promptLength: config.seq / 2,
    line: i + 1,
  }));
  return {
    trainer,
    batch: makeBatch(rows),
    dispose(): void {
      trainer.dispose();
      adapter.dispose();
      model.dispose();
    },
  };
}
