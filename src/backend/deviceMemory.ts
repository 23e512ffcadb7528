/**
 * tfjs-backend-webgpu keeps the GPU buffers of disposed tensors in a pool for reuse: after a model is
 * disposed its weights' memory stays allocated on the GPU. Before the teacher (llama.cpp, maybe on the same
 * GPU) loads, that pool is destroyed here, so the student's memory really goes back to the driver.
 * No-op on the other backends.
 */
import * as tf from "@tensorflow/tfjs";

/** The part of tfjs-backend-webgpu 4.22's BufferManager this touches. */
interface PooledBuffers {
  freeBuffers: Map<string, { size: number; destroy(): void }[]>;
  numFreeBuffers: number;
  numBytesAllocated: number;
}

/** Destroys the webgpu backend's pooled (free) buffers; returns the bytes given back. */
export function releasePooledDeviceMemory(): number {
  if (tf.getBackend() !== "webgpu") return 0;
  const pool = (tf.backend() as unknown as { bufferManager?: PooledBuffers }).bufferManager;
  if (!pool?.freeBuffers) return 0;
  let released = 0;
  for (const buffers of pool.freeBuffers.values()) {
    for (const buffer of buffers) {
      released += buffer.size;
      buffer.destroy(); // WebGPU frees it once work already submitted with it completes
    }
    buffers.length = 0; // the keys stay: the manager skips releases while its map is empty
  }
  pool.numFreeBuffers = 0;
  pool.numBytesAllocated -= released;
  return released;
}
