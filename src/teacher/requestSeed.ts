/**
 * Per-request sampling seeds. Every request gets its own seed derived from the run seed and the request id,
 * so what a request samples does not depend on which sequence (or HTTP connection) ran it, or when, and two
 * requests for the same seed example (a retry round) do not sample the same text.
 */
import { createHash } from "node:crypto";

/** A 31-bit seed (fits llama.cpp's uint32 and every server's int) from `runSeed` and `requestId`. */
export function requestSeed(runSeed: number, requestId: string): number {
  const digest = createHash("sha256").update(`${runSeed}\0${requestId}`, "utf8").digest();
  return digest.readUInt32BE(0) & 0x7fffffff;
}
