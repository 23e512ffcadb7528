/** CPU facts for `doctor` and for choosing kernels: model name, cores, SIMD flags that matter to GEMM. */
import { readFileSync } from "node:fs";
import os from "node:os";

export interface CpuFeatures {
  model: string;
  cores: number;
  arch: string;
  /** The SIMD flags the kernels care about, among those the CPU reports. */
  simd: string[];
}

const interesting = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "neon", "asimd"];

export function cpuFeatures(): CpuFeatures {
  const cpus = os.cpus();
  let flags: string[] = [];
  try {
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    const line = cpuinfo.split("\n").find((l) => l.startsWith("flags") || l.startsWith("Features"));
    flags = line ? line.split(":")[1]!.trim().split(/\s+/) : [];
  } catch {
    // Not Linux: macOS on Apple silicon always has NEON.
    if (os.arch() === "arm64") flags = ["neon"];
  }
  return {
    model: cpus[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism?.() ?? cpus.length,
    arch: os.arch(),
    simd: interesting.filter((f) => flags.includes(f)),
  };
}
