/**
 * Batching for N sequences decoding together in one node-llama-cpp context: one llama.cpp ubatch per step.
 *
 * node-llama-cpp creates every context with llama.cpp's per-sequence KV streams (`kv_unified = false`). llama.cpp
 * then cuts a batch into ubatches of sequences whose ids increase by one, in batch order (`split_equal`,
 * sequential), and each ubatch reads every weight of the model once. node-llama-cpp puts tokens in a batch in
 * the order their sequences queued them, i.e. the order their sampling finished, and dispatches on the next
 * event-loop turn, often before the last sequence has sampled: a step of 8 sequences went out as 7 tokens in
 * shuffled order and became two or three ubatches. Measured on a 465 MB Q4_0 teacher at 1,300 tokens of context
 * (2 cores): 7-token steps took 284 ms (median) where 8 tokens in id order took 139–178 ms.
 *
 * So a step waits (briefly) for every generating sequence's token, and orders the batch by sequence id: on that
 * model every step became one batch of 8 (138-142 ms), and 16 requests took 53 s instead of 101-124 s. Only the
 * grouping changes: each sequence's tokens, positions and cache are the same (the tests compare N sequences
 * with one).
 *
 * The sequence ids come from node-llama-cpp's queue (`_queuedDecodes`, internal in 3.x, in the order the batch
 * items are built from): looked up, checked, and left alone (plain node-llama-cpp batching) when absent.
 */
import type { BatchingOptions, BatchItem, LlamaContext, PrioritizedBatchItem } from "node-llama-cpp";

/** Longest a step waits for a generating sequence's token before it goes without it: between batches... */
const MAX_WAIT_MS = 10;
/** ...and inside node-llama-cpp's decode loop, where waiting holds the event loop. */
const MAX_SPIN_MS = 3;

interface QueuedDecode {
  sequenceId: number;
  tokens: readonly unknown[];
}

/** node-llama-cpp's queued decodes, when the context exposes them as expected. */
function queuedDecodes(context: LlamaContext): QueuedDecode[] | undefined {
  const queue = (context as unknown as { _queuedDecodes?: unknown })._queuedDecodes;
  if (!Array.isArray(queue)) return undefined;
  return queue.every((q) => typeof q?.sequenceId === "number" && Array.isArray(q?.tokens)) ? (queue as QueuedDecode[]) : undefined;
}

/** Whether this node-llama-cpp exposes what lockstep batching needs (checked by the tests, so an upgrade that drops it is noticed). */
export function supportsLockstepBatching(context: LlamaContext): boolean {
  return queuedDecodes(context) !== undefined;
}

/**
 * Batch items in sequence-id order, each given as many of its tokens as fit: all of them when the batch has
 * room (every decode step), else an even share of the batch and the rest of the room in id order (prompts).
 */
export function inSequenceOrder(items: readonly BatchItem[], size: number, sequenceIds: readonly (number | undefined)[]): PrioritizedBatchItem[] {
  const order = items.map((_, i) => i);
  if (sequenceIds.every((id) => id !== undefined)) order.sort((a, b) => sequenceIds[a]! - sequenceIds[b]!);
  const ordered = order.map((i) => items[i]!);
  const share = Math.max(1, Math.floor(size / Math.max(1, ordered.length)));
  let room = size;
  const chosen: PrioritizedBatchItem[] = [];
  for (const item of ordered) {
    if (room === 0) break;
    const amount = Math.min(item.tokens.length, share, room);
    chosen.push({ item, processAmount: amount });
    room -= amount;
  }
  for (const entry of chosen) {
    if (room === 0) break;
    const more = Math.min(entry.item.tokens.length - entry.processAmount, room);
    entry.processAmount += more;
    room -= more;
  }
  return chosen;
}

/**
 * The context's batching options: dispatch once every generating sequence has queued its token (or after
 * MAX_WAIT_MS), items in sequence-id order. `context()` is the context these options are given to (created
 * after them); `generating()` counts the sequences inside a generation now.
 */
export function lockstepBatching(context: () => LlamaContext | undefined, generating: () => number): BatchingOptions {
  const queue = () => {
    const ctx = context();
    return ctx ? queuedDecodes(ctx) : undefined;
  };
  let spinStarted: number | undefined;
  return {
    dispatchSchedule(dispatch) {
      const started = performance.now();
      const poll = () => {
        const queued = queue();
        if (!queued || queued.length >= generating() || performance.now() - started >= MAX_WAIT_MS) dispatch();
        else setImmediate(poll);
      };
      setImmediate(poll);
    },
    itemPrioritizationStrategy({ items, size }) {
      const queued = queue();
      // Inside node-llama-cpp's decode loop the next batch goes out as soon as anything is queued, often before
      // the last sequences' continuations (microtasks after their sampling) have queued their tokens. An empty
      // choice sends nothing and makes the loop look again, letting those microtasks run: briefly, at most
      // MAX_SPIN_MS, since a sequence waiting on something else (its next request's prompt) would not come.
      if (queued && items.length < generating()) {
        spinStarted ??= performance.now();
        if (performance.now() - spinStarted < MAX_SPIN_MS) return [];
      }
      spinStarted = undefined;
      // node-llama-cpp builds item i from queued decode i; matched by their shared token array, so a changed
      // internal order falls back to the order given instead of mislabelling items.
      const ids = items.map((item, i) => (queued?.[i]?.tokens === item.tokens ? queued[i]!.sequenceId : undefined));
      return inSequenceOrder(items, size, ids);
    },
  };
}
