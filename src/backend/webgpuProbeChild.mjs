// The WebGPU probe's child process (src/backend/webgpuAdapter.ts spawns it): loads Dawn (npm `webgpu`), asks
// for an adapter, and sends what it found over the IPC channel. Dawn's own diagnostics ("Couldn't load Vulkan…",
// the Vulkan loader's XDG_RUNTIME_DIR line) go to this process's stdout/stderr, which the parent captures.
// Plain JavaScript, not TypeScript: the child starts with node alone (no tsx), in about 0.1 s.

function send(message) {
  process.send(message, () => process.exit(0));
}

let dawn;
try {
  dawn = await import("webgpu");
} catch (error) {
  send({ kind: "load-failed", code: error?.code ?? null, message: String(error?.message ?? error) });
}
if (dawn) {
  try {
    const adapter = await dawn.create([]).requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) send({ kind: "no-adapter" });
    else {
      const info = adapter.info ?? {};
      send({
        kind: "adapter",
        vendor: info.vendor ?? "",
        architecture: info.architecture ?? "",
        device: info.device ?? "",
        description: info.description ?? "",
        // Newer Dawn has it on the info, older on the adapter.
        isFallbackAdapter: info.isFallbackAdapter === true || adapter.isFallbackAdapter === true,
      });
    }
  } catch (error) {
    send({ kind: "request-failed", message: String(error?.message ?? error) });
  }
}
