/**
 * Reading a chat-completions reply: one JSON body, or server-sent events (`data: {chunk}` lines, blank line
 * between events, `data: [DONE]` at the end). A body that is not a completion, or a stream that stops before
 * its end, is an AttemptError the caller may retry.
 */
import { malformed } from "./attemptError.js";

export interface Reply {
  text: string;
  /** Completion tokens: the server's `usage` when it reports one, else the streamed content chunks. */
  tokens: number;
  /** `stop`, `length` (cut at max_tokens) … as the server said. */
  finishReason?: string;
}

interface Choice {
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: unknown;
}

function choiceOf(payload: unknown): { choice?: Choice; usage?: { completion_tokens?: unknown }; error?: unknown } {
  if (typeof payload !== "object" || payload === null) throw malformed("not a JSON object");
  const p = payload as { choices?: unknown; usage?: { completion_tokens?: unknown }; error?: unknown };
  if (p.error !== undefined) return { error: p.error };
  if (!Array.isArray(p.choices)) throw malformed('no "choices" array');
  return { choice: p.choices[0] as Choice | undefined, usage: p.usage };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformed(`not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

export function readJsonReply(bodyText: string): Reply {
  const { choice, usage, error } = choiceOf(parseJson(bodyText));
  if (error !== undefined) throw malformed(`error object: ${JSON.stringify(error).slice(0, 200)}`);
  const content = choice?.message?.content;
  if (typeof content !== "string") throw malformed('no "choices[0].message.content" string');
  const tokens = typeof usage?.completion_tokens === "number" ? usage.completion_tokens : 0;
  const finishReason = typeof choice?.finish_reason === "string" ? choice.finish_reason : undefined;
  return { text: content, tokens, finishReason };
}

export async function readEventStream(body: ReadableStream<Uint8Array>): Promise<Reply> {
  const reply: Reply = { text: "", tokens: 0 };
  let chunks = 0;
  let usageTokens: number | undefined;
  let done = false;
  let buffer = "";
  let data: string[] = [];

  const dispatch = (): void => {
    if (data.length === 0) return;
    const payload = data.join("\n");
    data = [];
    if (payload.trim() === "[DONE]") {
      done = true;
      return;
    }
    const { choice, usage, error } = choiceOf(parseJson(payload));
    if (error !== undefined) throw malformed(`error event: ${JSON.stringify(error).slice(0, 200)}`);
    if (typeof usage?.completion_tokens === "number") usageTokens = usage.completion_tokens;
    const content = choice?.delta?.content;
    if (typeof content === "string" && content.length > 0) {
      reply.text += content;
      chunks++;
    }
    if (typeof choice?.finish_reason === "string") reply.finishReason = choice.finish_reason;
  };

  const decoder = new TextDecoder();
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline: number;
    while (!done && (newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") dispatch();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      // Comments (`: keep-alive`) and other fields (event:, id:, retry:) carry nothing we need.
    }
    if (done) break;
  }
  if (!done) dispatch();
  if (!done && reply.finishReason === undefined) throw malformed("the event stream ended before [DONE]");
  reply.tokens = usageTokens ?? chunks;
  return reply;
}
