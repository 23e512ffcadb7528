/**
 * EndpointTeacher against a real HTTP server on 127.0.0.1 that speaks the chat-completions protocol and
 * answers with node-llama-cpp on the fixture model (test/teacherServer.ts): results equal the local
 * teacher's for the same requests (greedy and seeded, JSON and streamed, structured); injected faults
 * (dropped connection, 500, 429 with Retry-After, a reply past the timeout, a malformed body, a cut event
 * stream) are retried; what still fails is an error completion, never a throw. Every wait is bounded.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { augmentationJsonSchema, parseStructured } from "../src/augment/index.js";
import { UsageError } from "../src/errors.js";
import type { TeacherRequest } from "../src/seams.js";
import { API_KEY_ENV, EndpointTeacher } from "../src/teacher/EndpointTeacher.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { parseRetryAfter } from "../src/teacher/endpoint/attemptError.js";
import { backoffDelay } from "../src/teacher/endpoint/backoff.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";
import { startChatServer, type ChatServer } from "./teacherServer.js";

function requests(count: number, sampling: TeacherRequest["sampling"]): TeacherRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `q${i}`,
    system: "You write practice questions.",
    messages: [
      { role: "user" as const, content: "Write one question." },
      { role: "assistant" as const, content: "What is 2 + 2?" },
      { role: "user" as const, content: `Write question ${i} about ${["ships", "owls", "tea"][i % 3]}.` },
    ],
    sampling: sampling.seed === undefined ? sampling : { ...sampling, seed: sampling.seed + i },
  }));
}

const fast = { backoffMs: 10, maxBackoffMs: 2000, timeoutMs: 20_000 };

describe.skipIf(skipWithout("fixtures"))("EndpointTeacher against a chat-completions server backed by llama.cpp", () => {
  let local: LocalTeacher;
  let server: ChatServer | undefined;
  beforeAll(async () => {
    local = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel: 4, threads: 1, contextSize: 1024 });
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    await local?.dispose();
  });

  for (const stream of [false, true]) {
    it(`${stream ? "streaming" : "plain JSON"}: greedy and seeded results equal the local teacher's`, async () => {
      server = await startChatServer({ teacher: local });
      const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 3, stream, ...fast });
      for (const sampling of [{ temperature: 0, maxTokens: 12 }, { temperature: 0.9, topP: 0.9, topK: 30, seed: 77, maxTokens: 12 }]) {
        const batch = requests(5, sampling);
        const expected = await local.complete(batch);
        const done: string[] = [];
        const got = await endpoint.complete(batch, (c) => done.push(c.id));
        expect(got.map((c) => c.id)).toEqual(batch.map((r) => r.id));
        expect(got.map((c) => c.text)).toEqual(expected.map((c) => c.text));
        expect(got.map((c) => c.tokens)).toEqual(expected.map((c) => c.tokens));
        expect(got.every((c) => c.error === undefined && c.truncated === true)).toBe(true);
        expect(done).toHaveLength(5);
      }
      expect(server.arrivals[0]!.body).toMatchObject({ model: "tiny", max_tokens: 12, temperature: 0, ...(stream ? { stream: true } : {}) });
      expect(server.arrivals.at(-1)!.body).toMatchObject({ top_p: 0.9, top_k: 30, seed: 77 + 4 });
      expect(endpoint.stats).toMatchObject({ requests: 10, attempts: 10, retries: 0, failures: 0 });
    });
  }

  it("structured: the schema goes out as response_format and the grammar-constrained replies parse and equal the local teacher's", async () => {
    server = await startChatServer({ teacher: local });
    const schema = augmentationJsonSchema("classification", { count: 1, labels: ["yes", "no"], bounds: { minQuestionChars: 3, maxQuestionChars: 25, maxAnswerChars: 5 } });
    const batch = requests(3, { temperature: 0.8, seed: 3, maxTokens: 300 }).map((r) => ({ ...r, jsonSchema: schema }));
    const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 3, ...fast });
    const got = await endpoint.complete(batch);
    expect(got.map((c) => c.text)).toEqual((await local.complete(batch)).map((c) => c.text));
    for (const c of got) expect(parseStructured(c.text).ok).toBe(true);
    expect(server.arrivals[0]!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "teacher_output", strict: true, schema } });
  });

  it("a server that refuses json_schema gets plain requests, once it has said so", async () => {
    server = await startChatServer({ teacher: local, refuseJsonSchema: true });
    const schema = augmentationJsonSchema("math", { count: 1 });
    const batch = requests(4, { temperature: 0, maxTokens: 8 }).map((r) => ({ ...r, jsonSchema: schema }));
    const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 1, ...fast });
    const got = await endpoint.complete(batch);
    const plain = await local.complete(batch.map(({ jsonSchema: _, ...r }) => r));
    expect(got.map((c) => c.text)).toEqual(plain.map((c) => c.text));
    expect(endpoint.stats.jsonSchemaRefused).toBe(true);
    expect(endpoint.stats.failures).toBe(0);
    // One refused attempt, then every request (the first one's second attempt included) without response_format.
    expect(server.arrivals.map((a) => a.body.response_format !== undefined)).toEqual([true, false, false, false, false]);
  });

  it("faults are retried: dropped connection, 500, 429 with Retry-After, a reply past the timeout, a malformed body", async () => {
    server = await startChatServer({ teacher: local, faults: ["drop", "500", "429", "slow", "malformed"], slowMs: 3000 });
    const batch = requests(3, { temperature: 0, maxTokens: 10 });
    // One request at a time, so the faults hit one request in this order.
    const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 1, maxRetries: 8, backoffMs: 10, maxBackoffMs: 2000, timeoutMs: 1000 });
    const got = await endpoint.complete(batch);
    expect(got.map((c) => c.text)).toEqual((await local.complete(batch)).map((c) => c.text));
    expect(got.every((c) => c.error === undefined)).toBe(true);
    expect(server.arrivals.slice(0, 5).map((a) => a.fault)).toEqual(["drop", "500", "429", "slow", "malformed"]);
    expect(endpoint.stats.retries).toBeGreaterThanOrEqual(5);
    expect(endpoint.stats.failures).toBe(0);
    expect(endpoint.stats.attempts).toBe(endpoint.stats.requests + endpoint.stats.retries);
    // Retry-After: 1 was honoured (without it the backoff here is at most 80 ms).
    expect(server.arrivals[3]!.at - server.arrivals[2]!.at).toBeGreaterThanOrEqual(950);
  });

  it("streaming faults: an event stream cut before [DONE] is retried", async () => {
    server = await startChatServer({ teacher: local, faults: ["sse-cut", "malformed", "sse-cut"] });
    const batch = requests(2, { temperature: 0, maxTokens: 20 });
    const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 1, stream: true, ...fast });
    const got = await endpoint.complete(batch);
    expect(got.map((c) => c.text)).toEqual((await local.complete(batch)).map((c) => c.text));
    expect(endpoint.stats.retries).toBe(3);
    expect(endpoint.stats.failures).toBe(0);
  });

  it("a server that keeps failing: each request ends as an error completion after its retries, nothing throws", async () => {
    server = await startChatServer({ teacher: local, always: "500" });
    const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", concurrency: 2, maxRetries: 2, ...fast });
    const got = await endpoint.complete(requests(3, { temperature: 0, maxTokens: 5 }));
    expect(got.map((c) => c.error)).toEqual([expect.stringContaining("HTTP 500"), expect.stringContaining("HTTP 500"), expect.stringContaining("HTTP 500")]);
    expect(got.every((c) => c.text === "" && c.tokens === 0)).toBe(true);
    expect(endpoint.stats).toMatchObject({ requests: 3, attempts: 9, retries: 6, failures: 3 });
  });

  it("401 is not retried, and the API key from LLM2LLM_TEACHER_API_KEY is sent as a bearer token", async () => {
    server = await startChatServer({ teacher: local, always: "401" });
    const saved = process.env[API_KEY_ENV];
    process.env[API_KEY_ENV] = "sk-test-123";
    try {
      const endpoint = new EndpointTeacher({ baseUrl: server.url, model: "tiny", ...fast });
      const [c] = await endpoint.complete(requests(1, { temperature: 0, maxTokens: 5 }));
      expect(c!.error).toContain("HTTP 401");
      expect(endpoint.stats).toMatchObject({ attempts: 1, retries: 0, failures: 1 });
      expect(server.arrivals[0]!.authorization).toBe("Bearer sk-test-123");
    } finally {
      if (saved === undefined) delete process.env[API_KEY_ENV];
      else process.env[API_KEY_ENV] = saved;
    }
  });

  it("nothing listening: connection refused is retried, then counted", async () => {
    const closed = await startChatServer({ teacher: local });
    const url = closed.url;
    await closed.close();
    const endpoint = new EndpointTeacher({ baseUrl: url, model: "tiny", maxRetries: 1, ...fast });
    const [c] = await endpoint.complete(requests(1, { temperature: 0, maxTokens: 5 }));
    expect(c!.error).toMatch(/connection failed/);
    expect(endpoint.stats).toMatchObject({ attempts: 2, failures: 1 });
  });
});

describe("endpoint helpers", () => {
  it("Retry-After: seconds or an HTTP date", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(parseRetryAfter(new Date(10_000 + 3000).toUTCString(), 10_000)).toBe(3000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("backoff: full jitter under an exponential ceiling, Retry-After as a floor, everything capped", () => {
    const options = { baseMs: 100, maxMs: 5000 };
    expect(backoffDelay(0, { ...options, random: () => 0.999 })).toBeLessThanOrEqual(100);
    expect(backoffDelay(3, { ...options, random: () => 1 })).toBe(800);
    expect(backoffDelay(3, { ...options, random: () => 0 })).toBe(0);
    expect(backoffDelay(20, { ...options, random: () => 1 })).toBe(5000);
    expect(backoffDelay(0, { ...options, random: () => 0 }, 1500)).toBe(1500);
    expect(backoffDelay(0, { ...options, random: () => 0 }, 60_000)).toBe(5000);
  });

  it("a bad URL or a missing model name is a usage error", () => {
    expect(() => new EndpointTeacher({ baseUrl: "not a url", model: "m" })).toThrow(UsageError);
    expect(() => new EndpointTeacher({ baseUrl: "ftp://host/v1", model: "m" })).toThrow(UsageError);
    expect(() => new EndpointTeacher({ baseUrl: "http://127.0.0.1:1/v1", model: " " })).toThrow(UsageError);
  });
});
