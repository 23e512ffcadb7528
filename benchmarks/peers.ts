/**
 * The performance peers of ../shared/peers (override: LLM2LLM_PEERS): Python scripts run with
 * Debian's /usr/bin/python3 in the same benchmark run, so their figures and ours share the machine's
 * mood, at their best: without the OPENBLAS_* pins of this machine's environment, on the fastest OpenBLAS
 * kernel for the CPU, at every thread count (the best is taken). When their Debian packages are missing we
 * install them with apt-get if we are root, and otherwise say exactly what to run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cpuFeatures } from "../src/backend/cpuFeatures.js";
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

/**
 * The environment of one peer command: ours without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (this machine's
 * environment may pin OpenBLAS to its Haswell kernels and a small L2; that weakens the peer, so only the peer's
 * own command drops them; tests and CI keep them), and with OPENBLAS_CORETYPE=`coretype` when one is named.
 */
export function peerEnvironment(coretype: string | null): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype) env.OPENBLAS_CORETYPE = coretype;
  return env;
}

/** A peer command stopped at its time limit (the caller may record it and go on). */
export class PeerTimeoutError extends UsageError {}

/**
 * Runs a peer script and returns the JSON object on the last line of its stdout. `coretype`: null lets
 * OpenBLAS pick its kernel for this CPU; a name forces that kernel (see chooseOpenblasKernel).
 */
export function runPeer(
  script: string,
  args: string[],
  timeoutMs: number,
  coretype: string | null = null,
  { cpuSeconds = false }: { cpuSeconds?: boolean } = {},
): Record<string, unknown> {
  const file = path.join(peersDir, script);
  if (!existsSync(file)) throw new MissingFileError(file, `performance peer ${script} (set LLM2LLM_PEERS to ../shared/peers)`);
  // cpuSeconds: the script runs unchanged under a wrapper that reports the CPU seconds its process used.
  const command = cpuSeconds ? ["-c", cpuSecondsWrapper, file, ...args] : [file, ...args];
  const options = { encoding: "utf8" as const, timeout: Math.round(timeoutMs), maxBuffer: 16 << 20, env: peerEnvironment(coretype) };
  const run = spawnSync(python, command, options);
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
    throw new PeerTimeoutError(`peer ${script} ${args.join(" ")} ran past ${Math.round(timeoutMs / 1000)} s and was stopped`);
  }
  if (run.status !== 0) {
    throw new UsageError(`peer ${script} ${args.join(" ")} failed (status ${run.status}): ${(run.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`);
  }
  const last = run.stdout.trim().split("\n").pop() ?? "";
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new UsageError(`peer ${script} printed no JSON line: ${last.slice(0, 200)}`);
  }
  const cpu = /LLM2LLM_CPU_S (\S+)/.exec(run.stderr ?? "");
  return cpuSeconds && cpu ? { ...result, cpu_s: Number(cpu[1]) } : result;
}

const cpuSecondsWrapper = [
  "import resource, runpy, sys",
  "sys.argv = sys.argv[1:]",
  "try:",
  "    runpy.run_path(sys.argv[0], run_name='__main__')",
  "finally:",
  "    r = resource.getrusage(resource.RUSAGE_SELF)",
  "    sys.stderr.write('\\nLLM2LLM_CPU_S %.4f\\n' % (r.ru_utime + r.ru_stime))",
].join("\n");

/** One OpenBLAS kernel tried by chooseOpenblasKernel: what was asked, what OpenBLAS reported, its SGEMM speed. */
export interface OpenblasProbe {
  /** OPENBLAS_CORETYPE given to the peer; null = unset, OpenBLAS's own pick for this CPU. */
  coretype: string | null;
  /** The kernel OpenBLAS reported (openblas_get_corename), and its build config string. */
  core: string | null;
  config: string | null;
  /** Per round: the script's GFLOP/s (wall clock), and GFLOP per CPU second of its whole command. */
  gflops: number[];
  gflop_per_cpu_s: number[];
  n: number;
  threads: number;
}

export interface OpenblasChoice {
  /** OPENBLAS_CORETYPE every later peer command of the run gets (null: unset). */
  coretype: string | null;
  core: string | null;
  probes: OpenblasProbe[];
}

/**
 * The fastest OpenBLAS kernel for the peers on this CPU. First OpenBLAS's own pick (both variables unset);
 * an OpenBLAS older than the CPU does not know it and falls back to a generic kernel (0.3.21 on a
 * Xeon of 2023 picks "Prescott", SSE3: 12 GFLOP/s), so the kernels the CPU's SIMD flags allow are tried too
 * (SkylakeX for AVX-512, Haswell for AVX2). Each is a short single-thread SGEMM (numpy, n = 1024), three
 * rounds taken in turn; the kernel with the best median GFLOP per CPU second wins (CPU time, because wall
 * time on a loaded shared machine measures the machine's mood more than the kernel). Every probe is kept.
 */
export function chooseOpenblasKernel(log: (line: string) => void): OpenblasChoice {
  const simd = cpuFeatures().simd;
  const candidates: (string | null)[] = [null];
  if (simd.includes("avx512f") && simd.includes("avx512bw") && simd.includes("avx512vl")) candidates.push("SkylakeX");
  if (simd.includes("avx2") && simd.includes("fma")) candidates.push("Haswell");
  const [n, warmup, repeats] = [1024, 2, 8];
  const probes: OpenblasProbe[] = candidates.map((coretype) => ({ coretype, core: null, config: null, gflops: [], gflop_per_cpu_s: [], n, threads: 1 }));
  for (let round = 0; round < 3; round++) {
    for (const probe of probes) {
      const args = ["--threads", "1", "--sizes", String(n), "--warmup", String(warmup), "--repeats", String(repeats)];
      const out = runPeer("sgemm_limit.py", args, 5 * 60_000, probe.coretype, { cpuSeconds: true });
      const openblas = Object.values(((out.meta ?? {}) as { openblas?: Record<string, { core?: string; config?: string }> }).openblas ?? {})[0];
      probe.core = openblas?.core ?? null;
      probe.config = openblas?.config ?? null;
      probe.gflops.push(Number(out[String(n)]));
      probe.gflop_per_cpu_s.push(Math.round(((warmup + repeats) * 2 * n ** 3) / Number(out.cpu_s) / 1e8) / 10);
    }
  }
  for (const probe of probes) {
    log(`peer kernel probe: OPENBLAS_CORETYPE=${probe.coretype ?? "(unset)"} -> OpenBLAS core ${probe.core ?? "?"}, ` +
      `${probe.gflops.join(" / ")} GFLOP/s, ${probe.gflop_per_cpu_s.join(" / ")} GFLOP per CPU s (n=${n}, 1 thread)`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const best = probes.reduce((x, y) => (median(y.gflop_per_cpu_s) > median(x.gflop_per_cpu_s) ? y : x));
  log(`peer kernel: ${best.core ?? "?"} (OPENBLAS_CORETYPE=${best.coretype ?? "(unset)"})`);
  return { coretype: best.coretype, core: best.core, probes };
}

/**
 * The machine's SGEMM limit now: numpy over OpenBLAS (sgemm_limit.py) at n × n, with the kernel chosen by
 * chooseOpenblasKernel, at every thread count; the best median and every figure.
 */
export function sgemmLimit(n: number, coretype: string | null): { n: number; gflops: number; threads: number; by_threads: Record<string, number> } {
  const byThreads: Record<string, number> = {};
  for (const t of peerThreadCounts()) {
    const limit = runPeer("sgemm_limit.py", ["--threads", String(t), "--sizes", String(n)], 10 * 60_000, coretype);
    byThreads[String(t)] = Number(limit[String(n)]);
  }
  const threads = Number(Object.keys(byThreads).reduce((x, y) => (byThreads[y]! > byThreads[x]! ? y : x)));
  return { n, gflops: byThreads[String(threads)]!, threads, by_threads: byThreads };
}

/** The median (of an even count, the mean of the middle two: neither side of a ratio gets the better one). */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const half = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

/** 1, 2, ... up to the machine's cores: the thread counts a peer is measured at (its best is taken). */
export function peerThreadCounts(): number[] {
  return Array.from({ length: Math.max(1, cpuFeatures().cores) }, (_, i) => i + 1);
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
