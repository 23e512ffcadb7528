/**
 * The teacher's batching (src/teacher/lockstepBatching.ts): batch items go to llama.cpp in sequence-id order, so
 * a decode step is one ubatch; each item gets all its tokens when the batch has room, an even share and then the
 * rest of the room in id order when it does not; and on real llama.cpp every batch the teacher decodes holds its
 * sequences in increasing order, the sequences stay in lockstep (a step waits for each one's token), and the
 * outputs are those of one sequence (the installed node-llama-cpp exposes the queue this relies on).
 */
import type { BatchItem } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import type { TeacherRequest } from "../src/seams.js";
import { LocalTeacher } from "../src/teacher/LocalTeacher.js";
import { inSequenceOrder, supportsLockstepBatching } from "../src/teacher/lockstepBatching.js";
import { skipWithout, tinyRandomLlama } from "./fixtures.js";

function item(tokens: number): BatchItem {
  return { tokens: Array.from({ length: tokens }, (_, i) => i) as unknown as BatchItem["tokens"], logits: [], evaluationPriority: 5 };
}

describe("inSequenceOrder", () => {
  it("orders the items by sequence id and gives each all its tokens when they fit", () => {
    const items = [item(1), item(1), item(1), item(1)];
    const chosen = inSequenceOrder(items, 512, [3, 0, 2, 1]);
    expect(chosen.map((c) => items.indexOf(c.item))).toEqual([1, 3, 2, 0]);
    expect(chosen.map((c) => c.processAmount)).toEqual([1, 1, 1, 1]);
  });

  it("splits a batch too small for everything: an even share each, then the rest of the room in id order", () => {
    const items = [item(300), item(5), item(300)];
    const chosen = inSequenceOrder(items, 100, [2, 1, 0]);
    // share = 33: item 2 (id 0) 33, item 1 (id 1) 5, item 0 (id 2) 33; 29 left go to id 0 first.
    expect(chosen.map((c) => [items.indexOf(c.item), c.processAmount])).toEqual([[2, 62], [1, 5], [0, 33]]);
    expect(chosen.reduce((sum, c) => sum + c.processAmount, 0)).toBe(100);
  });

  it("keeps the given order when a sequence id is unknown", () => {
    const items = [item(1), item(1), item(1)];
    const chosen = inSequenceOrder(items, 512, [2, undefined, 0]);
    expect(chosen.map((c) => items.indexOf(c.item))).toEqual([0, 1, 2]);
  });
});

describe.skipIf(skipWithout("fixtures"))("lockstep batching on llama-2-tiny-random.gguf", () => {
  it("every batch the teacher decodes lists its sequences in increasing order, and the outputs are unchanged", async () => {
    const batch: TeacherRequest[] = Array.from({ length: 8 }, (_, i) => ({
      id: `r${i}`,
      system: "You write practice questions.",
      messages: [{ role: "user" as const, content: `Write question ${i} about ${["apples", "trains", "rivers", "clocks"][i % 4]}.` }],
      sampling: { temperature: 0.9, topP: 0.95, maxTokens: 24, seed: 100 + i },
    }));
    const run = async (parallel: number, record?: number[][]) => {
      const teacher = await LocalTeacher.load({ modelPath: tinyRandomLlama, parallel, threads: 1, contextSize: 512 });
      try {
        const context = (teacher as unknown as { context: { _ctx: object } }).context;
        if (record) {
          expect(supportsLockstepBatching(context as never)).toBe(true);
          // Record the sequence id of every addToBatch call, one list per decodeBatch.
          const inner = context._ctx as Record<string, (...args: unknown[]) => unknown>;
          let current: number[] = [];
          context._ctx = new Proxy(inner, {
            get(target, property) {
              if (property === "addToBatch") return (...args: unknown[]) => (current.push(args[0] as number), target.addToBatch!(...args));
              if (property === "decodeBatch") return () => (record.push(current), (current = []), target.decodeBatch!());
              const value = target[property as string];
              return typeof value === "function" ? value.bind(target) : value;
            },
          });
        }
        return await teacher.complete(batch);
      } finally {
        await teacher.dispose();
      }
    };
    const batches: number[][] = [];
    const four = await run(4, batches);
    const one = await run(1);
    expect(four.map((c) => c.text)).toEqual(one.map((c) => c.text));
    expect(four.every((c) => c.error === undefined && c.tokens > 0)).toBe(true);
    // 8 requests x up to 24 tokens on 4 sequences: dozens of decode steps, several with more than one sequence.
    expect(batches.filter((b) => new Set(b).size > 1).length).toBeGreaterThan(10);
    for (const ids of batches) expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Lockstep: two waves of 4 requests x 24 tokens are 48 steps of all four sequences. Without the waits the
    // sequences drift apart (113 batches of 1-3 measured); the bound leaves room for a loaded machine.
    expect(batches.length).toBeLessThanOrEqual(72);
  });
});
