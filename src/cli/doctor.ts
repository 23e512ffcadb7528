/** `llm2llm doctor`: what this machine offers the student (tfjs backend) and the teacher (llama.cpp), and what to install for more. */
import type { CommandModule } from "yargs";
import { cpuFeatures } from "../backend/cpuFeatures.js";
import { getLlamaCpp } from "../backend/llamaCpp.js";
import { initBackend } from "../backend/tfjsBackend.js";
import { probeWebGpu, type WebGpuAdapterInfo } from "../backend/webgpuAdapter.js";
import { jsonOption, printJson, say } from "./output.js";

interface DoctorArgs {
  json: boolean;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: "doctor",
  describe: "show the tfjs backend, CPU features, llama.cpp GPU support and what to install for the GPU paths",
  builder: (y) => y.options(jsonOption),
  handler: async (args) => {
    const report = await doctorReport();
    if (args.json) return printJson(report);
    const lines = [
      `cpu:         ${report.cpu.model} (${report.cpu.cores} cores, ${report.cpu.arch}; ${report.cpu.simd.join(" ") || "no SIMD flags seen"})`,
      `student:     ${report.student.choice}: ${report.student.description}`,
      ...report.student.skipped.map((s) => `             not ${s.choice}: ${s.reason}`),
      `webgpu:      ${report.webgpu.adapter ? `adapter ${report.webgpu.adapter.name}` : report.webgpu.reason}`,
      // Dawn's own lines, captured by the probe (other commands show them only with --verbose).
      ...report.webgpu.nativeOutput.map((line) => `             [dawn] ${line}`),
      `teacher:     llama.cpp ${report.teacher.gpu === false ? "on CPU" : `with ${report.teacher.gpu}`}` +
        (report.teacher.gpuDevices.length ? ` (${report.teacher.gpuDevices.join(", ")})` : ""),
      "",
      "For the GPU paths:",
      ...report.advice.map((a) => `  - ${a}`),
    ];
    say(false, lines.join("\n"));
  },
};

export async function doctorReport() {
  const backend = await initBackend();
  // Looked for even when a backend ahead of webgpu was taken, so doctor always names the adapter.
  const webgpuProbe = await probeWebGpu();
  const webgpu: { adapter?: WebGpuAdapterInfo; reason?: string; nativeOutput: string[] } = {
    ...(webgpuProbe.ok ? { adapter: webgpuProbe.adapter } : { reason: webgpuProbe.reason }),
    nativeOutput: webgpuProbe.nativeOutput,
  };
  const llama = await getLlamaCpp();
  const gpuDevices = llama.gpu === false ? [] : await llama.getGpuDeviceNames();
  const advice: string[] = [];
  if (backend.choice !== "gpu" && backend.choice !== "webgpu") {
    advice.push(
      webgpuProbe.ok
        ? `student on a GPU through WebGPU: the adapter found, ${webgpuProbe.adapter.name}, is ${webgpuProbe.adapter.software ? "software, so it is not used (LLM2LLM_BACKEND=webgpu forces it)" : "usable"}; install the GPU's Vulkan driver (Linux) for a hardware one`
        : `student on a GPU through WebGPU (Dawn, npm webgpu: Vulkan on Linux, Metal on macOS, D3D12 on Windows): ${webgpuProbe.reason}`,
    );
  }
  if (backend.choice !== "gpu" && backend.choice !== "webgpu") {
    advice.push(
      "student on an NVIDIA GPU: `npm install @tensorflow/tfjs-node-gpu` on Linux x64 with CUDA 11.2 and cuDNN 8.1 (what libtensorflow 2.9, under tfjs-node-gpu 4.x, is built for) " +
        "— its install downloads libtensorflow, so it needs the network once",
    );
  }
  if (backend.choice === "cpu") {
    advice.push("student on CPU, fast: the native kernels need g++, make and python3 at `npm install` time (`npm run build:native`)");
  }
  if (llama.gpu === false) {
    advice.push(
      "teacher on a GPU: node-llama-cpp ships prebuilt CUDA (12.x driver), Vulkan and Metal binaries; " +
        "install the NVIDIA driver or Vulkan loader and it is picked automatically (`npx node-llama-cpp inspect gpu`)",
    );
  }
  return {
    cpu: cpuFeatures(),
    student: backend,
    webgpu,
    teacher: { gpu: llama.gpu, gpuDevices, cpuMathCores: llama.cpuMathCores },
    advice,
  };
}
