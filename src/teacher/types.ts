/** Options of the two teachers; defaults are documented beside each field. */
import type { ChatWrapperChoice } from "./chatWrapper.js";

export interface LocalTeacherOptions {
  /** The teacher GGUF. */
  modelPath: string;
  /** Parallel sequences in the one context: how many requests generate at once. Default 4. */
  parallel?: number;
  /** Tokens per sequence (prompt + completion). Default min(2048, the model's training context). */
  contextSize?: number;
  /** llama.cpp threads; default: node-llama-cpp's choice (all math cores). */
  threads?: number;
  /**
   * llama.cpp's flash attention. Default: off when llama.cpp runs on the CPU, "auto" (llama.cpp's choice) on a
   * GPU. On the CPU its per-query kernel reads each sequence's whole KV cache once per token and head: measured on
   * a 2-core AVX-512 machine (465 MB Q4_0 teacher, 1,300-token prompts, 2 threads), a batched decode step of 8
   * sequences took 356 ms with it and 219 ms without; prompt processing was ~10% faster with it.
   */
  flashAttention?: boolean | "auto";
  /** Chat template; default "auto" (from the GGUF, GeneralChatWrapper when it has none). */
  chatWrapper?: ChatWrapperChoice;
  /**
   * Evaluate the prompt prefix a batch's requests share once and copy it to every sequence. Default true;
   * false only to measure or test what it saves (outputs are the same either way).
   */
  sharePrefix?: boolean;
}

export interface EndpointTeacherOptions {
  /** Base URL of an OpenAI-compatible API, up to and including `/v1`. */
  baseUrl: string;
  /** Model name the server knows. */
  model: string;
  /** Bearer token; default: the LLM2LLM_TEACHER_API_KEY environment variable. */
  apiKey?: string;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Retries after the first attempt for 429, 5xx, timeouts, dropped connections and malformed bodies. Default 4. */
  maxRetries?: number;
  /** Time limit of one attempt (headers and body), ms. Default 120000. */
  timeoutMs?: number;
  /** First backoff, ms; doubles each retry, with full jitter. Default 500. */
  backoffMs?: number;
  /** Longest wait between attempts, Retry-After included, ms. Default 30000. */
  maxBackoffMs?: number;
  /** Server-sent events instead of one JSON body. Default false. */
  stream?: boolean;
}

/** What an endpoint teacher went through, for the summary. */
export interface EndpointStats {
  requests: number;
  attempts: number;
  retries: number;
  /** Requests that failed after every retry (their completions carry `error`). */
  failures: number;
  /** Whether the server refused `response_format: json_schema`, so structured requests went out as plain chat. */
  jsonSchemaRefused: boolean;
}
