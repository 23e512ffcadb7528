/**
 * A teacher behind any OpenAI-compatible `/v1/chat/completions` endpoint (llama-server, vLLM, ollama, a load
 * balancer over replicas). Bounded concurrency; every attempt has a time limit; 429, 5xx, timeouts, dropped
 * connections and malformed bodies are retried with exponential backoff and jitter (Retry-After honoured).
 * A request that still fails becomes a completion with `error` (counted by the caller), never a crash.
 *
 * Structured requests ask for `response_format: json_schema`; a server that refuses it (400/422) gets the
 * same request as plain chat — the prompt itself asks for the JSON — and is not asked again.
 */
import type { Teacher, TeacherCompletion, TeacherRequest } from "../seams.js";
import { UsageError } from "../errors.js";
import { AttemptError, httpError, malformed } from "./endpoint/attemptError.js";
import { backoffDelay, sleep } from "./endpoint/backoff.js";
import { chatCompletionBody } from "./endpoint/chatCompletionBody.js";
import { readEventStream, readJsonReply, type Reply } from "./endpoint/readReply.js";
import { runPool } from "./runPool.js";
import type { EndpointStats, EndpointTeacherOptions } from "./types.js";

export const API_KEY_ENV = "LLM2LLM_TEACHER_API_KEY";

export class EndpointTeacher implements Teacher {
  /** For provenance: the endpoint and the model name (there is no file to hash). */
  readonly id: string;
  readonly stats: EndpointStats = { requests: 0, attempts: 0, retries: 0, failures: 0, jsonSchemaRefused: false };
  private readonly url: string;
  private readonly options: Required<Omit<EndpointTeacherOptions, "apiKey">> & { apiKey?: string };
  /** Aborts waits and requests in flight on dispose. */
  private readonly closing = new AbortController();

  constructor(options: EndpointTeacherOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new UsageError(`--teacher-url "${options.baseUrl}": not a URL (expected e.g. http://127.0.0.1:8080/v1)`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new UsageError(`--teacher-url "${options.baseUrl}": expected http:// or https://`);
    if (!options.model.trim()) throw new UsageError("--teacher-model: the model name at the endpoint is required");
    this.url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    this.id = `endpoint:${options.model}@${options.baseUrl.replace(/\/+$/, "")}`;
    this.options = {
      baseUrl: options.baseUrl,
      model: options.model,
      apiKey: options.apiKey ?? process.env[API_KEY_ENV],
      concurrency: Math.max(1, Math.floor(options.concurrency ?? 4)),
      maxRetries: Math.max(0, Math.floor(options.maxRetries ?? 4)),
      timeoutMs: options.timeoutMs ?? 120_000,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      stream: options.stream ?? false,
    };
  }

  get concurrency(): number {
    return this.options.concurrency;
  }

  async complete(requests: TeacherRequest[], onDone?: (done: TeacherCompletion) => void): Promise<TeacherCompletion[]> {
    return runPool(requests, this.options.concurrency, async (request) => {
      const completion = await this.completeOne(request);
      onDone?.(completion);
      return completion;
    });
  }

  private async completeOne(request: TeacherRequest): Promise<TeacherCompletion> {
    this.stats.requests++;
    let lastError = "";
    for (let retry = 0; retry <= this.options.maxRetries; retry++) {
      if (this.closing.signal.aborted) break;
      try {
        const reply = await this.attemptWithSchemaFallback(request);
        return { id: request.id, text: reply.text, tokens: reply.tokens, truncated: reply.finishReason === "length" };
      } catch (error) {
        const failure = asAttemptError(error);
        lastError = failure.message;
        if (!failure.retryable || retry === this.options.maxRetries) break;
        this.stats.retries++;
        const wait = backoffDelay(retry, { baseMs: this.options.backoffMs, maxMs: this.options.maxBackoffMs }, failure.retryAfterMs);
        await sleep(wait, this.closing.signal);
      }
    }
    this.stats.failures++;
    return { id: request.id, text: "", tokens: 0, error: lastError || "teacher endpoint closed" };
  }

  private async attemptWithSchemaFallback(request: TeacherRequest): Promise<Reply> {
    const askSchema = request.jsonSchema !== undefined && !this.stats.jsonSchemaRefused;
    try {
      return await this.attempt(request, askSchema);
    } catch (error) {
      const refused = askSchema && error instanceof AttemptError && (error.status === 400 || error.status === 422);
      if (!refused) throw error;
      const reply = await this.attempt(request, false);
      this.stats.jsonSchemaRefused = true;
      return reply;
    }
  }

  /** One HTTP round trip under the time limit (headers and the whole body). */
  private async attempt(request: TeacherRequest, jsonSchema: boolean): Promise<Reply> {
    this.stats.attempts++;
    const stream = this.options.stream;
    const body = chatCompletionBody(request, { model: this.options.model, stream, jsonSchema });
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([timeout, this.closing.signal]);
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal,
      });
      if (!response.ok) throw httpError(response.status, response.headers.get("retry-after"), await response.text().catch(() => ""));
      if (!stream) return readJsonReply(await response.text());
      if (!response.body) throw malformed("no response body");
      return await readEventStream(response.body);
    } catch (error) {
      if (timeout.aborted) throw new AttemptError(`timed out after ${this.options.timeoutMs} ms`, true);
      throw error;
    }
  }

  async dispose(): Promise<void> {
    this.closing.abort();
  }
}

/** fetch's own failures (refused, reset, `terminated` mid-body) are dropped connections: worth retrying. */
function asAttemptError(error: unknown): AttemptError {
  if (error instanceof AttemptError) return error;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  const message = error instanceof Error ? `${error.message}${cause}` : String(error);
  return new AttemptError(`connection failed: ${message}`, true);
}
