/**
 * An OpenAI-compatible chat-completions server on 127.0.0.1 that answers like a teacher that always writes
 * a correct, new example of the asked-for kind: math problems with right arithmetic, sentences with the
 * asked-for label, multiple-choice questions with a valid letter. Deterministic: the reply depends only on
 * the request. It records every prompt it was sent, so tests can check what reached the teacher.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ScriptedTeacherServer {
  url: string;
  /** The last user message of every request received. */
  prompts: string[];
  /** The `max_tokens` of every request received. */
  maxTokens: number[];
  close(): Promise<void>;
}

function numberFrom(text: string, salt: string, max: number): number {
  return 2 + (createHash("sha256").update(salt + text).digest().readUInt32LE(0) % (max - 1));
}

function reply(prompt: string): object {
  const seed = /The student was given the following (?:question|sentence):\n\n([\s\S]*?)\n\nThe answer key has this as the (rationale and answer|label|answer):\n\n([\s\S]*?)\n\n/.exec(prompt);
  const question = seed?.[1] ?? prompt;
  const key = seed?.[3] ?? "";
  const choices = [...prompt.matchAll(/^\(([A-Z])\) (.*)$/gm)];
  if (seed?.[2] === "label") {
    return { question: `${question.split(" ").reverse().join(" ")} please`, answer: key };
  }
  if (choices.length > 0) {
    const n = numberFrom(question, "mc", 50);
    return { question: `Which option holds for case number ${n}, given the facts described here?`, choices: choices.map((c, i) => `holding ${i} for case ${n}`), answer: "A" };
  }
  const a = numberFrom(question, "a", 40);
  const b = numberFrom(question, "b", 40);
  return { question: `A farmer has ${a} cows and buys ${b} more cows at the market. How many cows does the farmer have now?`, answer: `${a} + ${b} = ${a + b}\n#### ${a + b}` };
}

export async function startScriptedTeacher(): Promise<ScriptedTeacherServer> {
  const prompts: string[] = [];
  const maxTokens: number[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const request = JSON.parse(body) as { messages: { role: string; content: string }[]; stream?: boolean; max_tokens?: number };
      maxTokens.push(request.max_tokens ?? -1);
      const prompt = request.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
      prompts.push(prompt);
      const content = JSON.stringify({ examples: [reply(prompt)] });
      const usage = { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "x", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, prompts, maxTokens, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
