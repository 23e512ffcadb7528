/**
 * A real OpenAI-compatible chat-completions server for the endpoint-teacher tests: node:http on 127.0.0.1,
 * answering with node-llama-cpp (a LocalTeacher on a fixture model), plain JSON or server-sent events, and
 * failing on purpose when told to: one fault per incoming request, in order, from `faults`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Teacher, TeacherRequest } from "../src/seams.js";

export type Fault =
  | "drop" // close the connection without a reply
  | "500"
  | "429" // with Retry-After: 1
  | "401"
  | "slow" // reply after `slowMs`, past the client's timeout
  | "malformed" // 200 with a body that is not JSON
  | "sse-cut"; // (streaming) a few events, then the connection closes before [DONE]

export interface ServerOptions {
  teacher: Teacher;
  faults?: Fault[];
  /** Every request fails with this fault (after `faults` is used up). */
  always?: Fault;
  slowMs?: number;
  /** Answer `response_format: json_schema` with 400, as servers without schema support do. */
  refuseJsonSchema?: boolean;
}

export interface Arrival {
  at: number;
  fault?: Fault;
  body: Record<string, any>;
  authorization?: string;
}

export interface ChatServer {
  url: string;
  arrivals: Arrival[];
  close(): Promise<void>;
}

export async function startChatServer(options: ServerOptions): Promise<ChatServer> {
  const faults = [...(options.faults ?? [])];
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw) as Record<string, any>;
    const fault = faults.shift() ?? options.always;
    arrivals.push({ at: Date.now(), fault, body, authorization: req.headers.authorization });
    if (req.url !== "/v1/chat/completions" || req.method !== "POST") return send(res, 404, { error: { message: "not found" } });
    if (fault === "drop") return void req.socket.destroy();
    if (fault === "500") return send(res, 500, { error: { message: "internal error (injected)" } });
    if (fault === "401") return send(res, 401, { error: { message: "bad key (injected)" } });
    if (fault === "429") return send(res, 429, { error: { message: "slow down (injected)" } }, { "retry-after": "1" });
    if (fault === "malformed") {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end('{"choices": [{"message": {"content": "cut');
    }
    if (fault === "slow") await new Promise((resolve) => setTimeout(resolve, options.slowMs ?? 3000));
    if (res.destroyed) return;
    if (body.response_format && options.refuseJsonSchema) return send(res, 400, { error: { message: "response_format json_schema is not supported" } });

    const [completion] = await options.teacher.complete([toTeacherRequest(body)]);
    if (completion!.error) return send(res, 500, { error: { message: completion!.error } });
    const finish = completion!.truncated ? "length" : "stop";
    if (!body.stream) {
      return send(res, 200, {
        id: "chatcmpl-test",
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: completion!.text }, finish_reason: finish }],
        usage: { completion_tokens: completion!.tokens },
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const event = (payload: unknown): boolean => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    res.write(": keep-alive comment\n\n");
    const pieces = completion!.text.match(/[\s\S]{1,7}/g) ?? [];
    for (const [i, piece] of pieces.entries()) {
      if (fault === "sse-cut" && i === 2) return void res.destroy();
      event({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
    if (fault === "sse-cut") return void res.destroy();
    event({ choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    event({ choices: [], usage: { completion_tokens: completion!.tokens } });
    res.end("data: [DONE]\n\n");
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(payload));
}

/** The chat-completions body back into the seam request the local teacher runs. */
function toTeacherRequest(body: Record<string, any>): TeacherRequest {
  const messages = body.messages as { role: string; content: string }[];
  const system = messages.find((m) => m.role === "system")?.content;
  return {
    id: "server",
    ...(system !== undefined ? { system } : {}),
    messages: messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role as "user" | "assistant", content: m.content })),
    ...(body.response_format?.json_schema?.schema ? { jsonSchema: body.response_format.json_schema.schema } : {}),
    sampling: {
      temperature: body.temperature,
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(body.top_k !== undefined ? { topK: body.top_k } : {}),
      ...(body.seed !== undefined ? { seed: body.seed } : {}),
      maxTokens: body.max_tokens,
    },
  };
}
