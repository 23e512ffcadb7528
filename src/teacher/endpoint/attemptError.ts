/**
 * Why one HTTP attempt failed, and whether trying again can help: 429, 5xx, timeouts, dropped connections
 * and malformed bodies can (a proxy hiccup, a busy replica); 4xx other than 408/429 cannot.
 */
export class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The server's Retry-After, ms, when it sent one. */
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = "AttemptError";
  }
}

const RETRYABLE_STATUS = new Set([408, 409, 425, 429]);

export function httpError(status: number, retryAfter: string | null, body: string): AttemptError {
  const retryable = RETRYABLE_STATUS.has(status) || status >= 500;
  const detail = body.trim().slice(0, 200);
  return new AttemptError(`HTTP ${status}${detail ? `: ${detail}` : ""}`, retryable, parseRetryAfter(retryAfter), status);
}

/** Retry-After is delay-seconds or an HTTP date (RFC 9110 §10.2.3); ms from now, or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A body the client cannot read as a chat completion. Retried: a truncated or garbled reply is usually transient. */
export function malformed(detail: string): AttemptError {
  return new AttemptError(`malformed reply: ${detail}`, true);
}
