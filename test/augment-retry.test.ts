/**
 * k filled by retry rounds, over the real HTTP path: an OpenAI-compatible server on 127.0.0.1
 * (test/teacherServer.ts) in front of a teacher that writes garbage the first time it is asked about a seed
 * example and one valid, new example every later time. With k = 2 and 3 rounds every source ends with 2 kept:
 * round 1 gets garbage, round 2 asks afresh (nothing kept yet) and gets one, round 3 shows the kept one as the
 * teacher's earlier answer and asks for one more, different.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Teacher, TeacherCompletion, TeacherRequest } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { augmentWithTeacher } from "../src/teacher/augmentWithTeacher.js";
import { EndpointTeacher } from "../src/teacher/EndpointTeacher.js";
import { startChatServer, type ChatServer } from "./teacherServer.js";

/** Garbage on the first ask about a seed question, then one correct example per ask (numbers from the ask count). */
function garbageFirstTeacher(): Teacher & { seen: TeacherRequest[] } {
  const asks = new Map<string, number>();
  const seen: TeacherRequest[] = [];
  return {
    id: "garbage-first",
    seen,
    async complete(batch, onDone) {
      return batch.map((request) => {
        seen.push(request);
        const question = /The student was given the following question:\n\n(.*)\n/.exec(request.messages.find((m) => m.role === "user" && m.content.includes("Ann"))!.content)![1]!;
        const n = (asks.get(question) ?? 0) + 1;
        asks.set(question, n);
        const i = Number(/Ann has (\d+)/.exec(question)![1]);
        const [a, b, thing] = [10 * n + i, n + 3, ["rolls", "pies", "cakes"][i % 3]];
        const text = n === 1
          ? "I am sorry, I cannot write questions today."
          : JSON.stringify({ examples: [{ question: `A baker in town ${i} sells ${a} ${thing} in the morning and ${b} ${thing} at ${n} o'clock. How many ${thing} does he sell?`, answer: `${a} + ${b} = ${a + b}\n#### ${a + b}` }] });
        const completion: TeacherCompletion = { id: request.id, text, tokens: 20 };
        onDone?.(completion);
        return completion;
      });
    },
    async dispose() {},
  };
}

const task = resolveTask("gsm8k");
const sources = [1, 2, 3].map((i) => ({ example: { id: `seed-${i}`, question: `Ann has ${i} apples and buys ${i + 2} more. How many apples does she have?`, answer: `${i} + ${i + 2} = ${2 * i + 2}\n#### ${2 * i + 2}` } }));
const options = { task, k: 2, iteration: 0, structured: true, sampling: { temperature: 0.7, topP: 0.9, maxTokens: 200, seed: 11 } };

describe("augmentWithTeacher fills k with retry rounds (loopback teacher over HTTP)", () => {
  let server: ChatServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("garbage first, a valid example when asked again: k kept per source, rounds counted, earlier answer shown", async () => {
    const scripted = garbageFirstTeacher();
    server = await startChatServer({ teacher: scripted });
    const teacher = new EndpointTeacher({ baseUrl: server.url, model: "loopback", apiKey: "test", concurrency: 2, backoffMs: 10 });
    const outcome = await augmentWithTeacher(teacher, sources, { ...options, rounds: 3 });

    expect(outcome.notes.map((n) => n.reason)).toEqual(["parse:invalid-json", "parse:invalid-json", "parse:invalid-json"]);
    for (const { example } of sources) expect(outcome.kept.filter((e) => e.provenance!.sourceId === example.id)).toHaveLength(2);
    expect(outcome).toMatchObject({ wanted: 6, roundsUsed: 3, requestsPerRound: [3, 3, 3], shortSources: 0, missingExamples: 0, prompts: 9 });
    expect(outcome.dropped["parse:invalid-json"]).toBe(3);
    // Every request has its own sampling seed (a retry does not resample the same text).
    expect(new Set(scripted.seen.map((r) => r.sampling.seed)).size).toBe(9);

    // Round 2 (nothing kept yet) is the first prompt again; round 3 continues the conversation with the kept example.
    const forSeed1 = scripted.seen.filter((r) => r.messages.some((m) => m.content.includes("Ann has 1 apples")));
    expect(forSeed1).toHaveLength(3);
    expect(forSeed1[1]!.messages).toEqual(forSeed1[0]!.messages);
    const retry = forSeed1[2]!.messages;
    const keptFirst = outcome.kept.find((e) => e.provenance!.sourceId === "seed-1")!;
    expect(retry.at(-2)).toEqual({ role: "assistant", content: JSON.stringify({ examples: [{ question: keptFirst.question, answer: keptFirst.answer }] }) });
    expect(retry.at(-1)!.content).toMatch(/^Now generate 1 more question different from the ones you just generated/);
    expect(retry.at(-3)!.content).toMatch(/Please generate 1 similar question,/);
  });

  it("with fewer rounds than the teacher needs, the shortfall is counted", async () => {
    server = await startChatServer({ teacher: garbageFirstTeacher() });
    const teacher = new EndpointTeacher({ baseUrl: server.url, model: "loopback", apiKey: "test", concurrency: 2, backoffMs: 10 });
    const outcome = await augmentWithTeacher(teacher, sources, { ...options, rounds: 2 });
    expect(outcome.kept).toHaveLength(3);
    expect(outcome).toMatchObject({ wanted: 6, roundsUsed: 2, requestsPerRound: [3, 3], shortSources: 3, missingExamples: 3 });
  });
});
