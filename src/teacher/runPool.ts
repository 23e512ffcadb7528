/**
 * Runs `work` over `items` with at most `slots` in flight, each on a fixed slot (a context sequence, an HTTP
 * connection budget). Results come back in input order whatever order they finish in.
 */
export async function runPool<I, O>(items: readonly I[], slots: number, work: (item: I, index: number, slot: number) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  const worker = async (slot: number): Promise<void> => {
    // Each worker pulls the next unstarted item as soon as its previous one is done: no idle slot while work remains.
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index, slot);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(slots, items.length)) }, (_, slot) => worker(slot)));
  return results;
}
