/**
 * A request's sampling settings as node-llama-cpp's generation options: the one mapping the teacher and the
 * teacher benchmark's sequential baseline share, so both sample alike. Unset settings stay unset (llama.cpp's
 * defaults), except temperature, which defaults to 0 (greedy).
 */
import type { SamplingOptions } from "../seams.js";

export function llamaSampling(sampling: SamplingOptions): { maxTokens: number; temperature: number; topP?: number; topK?: number; seed?: number } {
  const { temperature = 0, topP, topK, seed, maxTokens } = sampling;
  return {
    maxTokens,
    temperature,
    ...(topP !== undefined ? { topP } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}
