/**
 * Names the test that held its worker's event loop. Vitest's worker answers the main process over IPC; a test that
 * runs 60 s without reaching the event loop (synchronous work, or a chain of already-resolved awaits) fails the whole
 * run with "Timeout calling onTaskUpdate" and no test name. This watch prints the longest stall of every test that
 * stalled for more than `reportAfterSeconds` (and of the file's collection and hooks), so the log says where to yield.
 * (perf_hooks' monitorEventLoopDelay is not used: after reset() it does not see a stall that its timer has not yet
 * fired after, which is every stall a test ends in.)
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeEach, expect } from "vitest";

/** Seconds; LLM2LLM_STALL_REPORT_SECONDS lowers it to see the next-longest stalls. */
const reportAfterSeconds = Number(process.env.LLM2LLM_STALL_REPORT_SECONDS ?? 10);
const tickMs = 100;
let lastTick = performance.now();
let longestInTest = 0;
let longestOutsideTests = 0;

setInterval(() => {
  longestInTest = currentStall();
  lastTick = performance.now();
}, tickMs).unref();

/** The longest stall since the last reset, counting one still going on (the ticker has not run since `lastTick`). */
function currentStall(): number {
  return Math.max(longestInTest, performance.now() - lastTick - tickMs);
}
const where = () => path.relative(process.cwd(), expect.getState().testPath ?? "this file");
const report = (ms: number, place: string) => console.warn(`event loop held for ${(ms / 1000).toFixed(1)} s in ${place}`);

beforeEach(() => {
  longestOutsideTests = Math.max(longestOutsideTests, currentStall());
  longestInTest = 0;
  lastTick = performance.now();
});

afterEach(() => {
  const stall = currentStall();
  if (stall > reportAfterSeconds * 1000) report(stall, `${where()} > ${expect.getState().currentTestName}`);
  longestInTest = 0;
  lastTick = performance.now();
});

afterAll(() => {
  const stall = Math.max(longestOutsideTests, currentStall());
  if (stall > reportAfterSeconds * 1000) report(stall, `${where()}, outside its tests (collection or hooks)`);
});
