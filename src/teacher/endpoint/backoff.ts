/**
 * Waiting between attempts: exponential backoff with full jitter (a random wait in [0, base·2^retry]), so
 * many clients that failed together do not retry together; a server's Retry-After is honoured as a floor.
 * Both are capped, so one stubborn server cannot stall a run for long.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelay(retry: number, options: BackoffOptions, retryAfterMs?: number): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** retry);
  const jittered = (options.random ?? Math.random)() * ceiling;
  return Math.min(options.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
