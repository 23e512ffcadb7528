/** Who ran a benchmark: every result names the machine (CPU model, cores, SIMD) and the software. */
import os from "node:os";
import { cpuFeatures } from "../src/backend/cpuFeatures.js";

export interface Machine {
  cpu: string;
  cores: number;
  arch: string;
  simd: string[];
  memory_gb: number;
  node: string;
  platform: string;
  /** What ran the project's side: the tfjs backend or the native kernels, with their threads. */
  backend: string;
  /** 1-minute load average when the run started: a busy shared machine makes every figure noisier. */
  load_average: number;
  /** 1-, 5- and 15-minute load averages at the start, against `cores`: above cores, processes wait for a CPU. */
  load_averages: number[];
}

export function describeMachine(backend: string): Machine {
  const cpu = cpuFeatures();
  return {
    cpu: cpu.model,
    cores: cpu.cores,
    arch: cpu.arch,
    simd: cpu.simd,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    backend,
    load_average: Math.round(os.loadavg()[0]! * 100) / 100,
    load_averages: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
