/**
 * ROUGE-L F-measure between questions, as the official LLM2LLM code computes it with the `rouge_score`
 * package (`RougeScorer(["rougeL"], use_stemmer=False)`): lowercase, every run of non-[a-z0-9] becomes a
 * space, split on spaces; F = 2·P·R / (P + R) with P = LCS/|b|, R = LCS/|a| — which is 2·LCS / (|a| + |b|).
 *
 * `RougeLIndex` finds whether a new question is a near-copy of any question so far, fast enough for
 * thousands: tokens are interned to integers, and a pair is compared only when its lengths allow
 * F ≥ threshold (F ≤ 2·min/(|a|+|b|)) and its bag-of-tokens overlap (an upper bound on the LCS) does too.
 */

/** `rouge_score.tokenize` without stemming. */
export function rougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .split(" ")
    .filter((t) => t.length > 0);
}

/** Length of the longest common subsequence; O(|a|·|b|) time, O(|b|) memory. */
export function lcsLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  if (a.length === 0 || b.length === 0) return 0;
  let previous = new Int32Array(b.length + 1);
  let current = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      current[j] = ai === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

export interface RougeLScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

/** `rouge_score`'s `_score_lcs(target, prediction)` on token lists; all zero when either is empty. */
export function rougeLTokens(target: readonly string[], prediction: readonly string[]): RougeLScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, fmeasure: 0 };
  const lcs = lcsLength(target, prediction);
  const precision = lcs / prediction.length;
  const recall = lcs / target.length;
  const fmeasure = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, fmeasure };
}

export function rougeL(target: string, prediction: string): RougeLScore {
  return rougeLTokens(rougeTokens(target), rougeTokens(prediction));
}

interface Entry {
  text: string;
  ids: Int32Array;
  /** token id → count, for the bag-overlap bound. */
  bag: Map<number, number>;
}

export interface NearestQuestion {
  text: string;
  fmeasure: number;
}

export class RougeLIndex {
  private readonly vocabulary = new Map<string, number>();
  /** Entries by token count. */
  private readonly byLength = new Map<number, Entry[]>();
  size = 0;

  constructor(questions: Iterable<string> = []) {
    for (const question of questions) this.add(question);
  }

  add(question: string): void {
    const entry = this.entry(question);
    if (entry.ids.length === 0) return; // scores 0 against everything
    const list = this.byLength.get(entry.ids.length);
    if (list) list.push(entry);
    else this.byLength.set(entry.ids.length, [entry]);
    this.size++;
  }

  /** The first question so far with F ≥ threshold, or undefined. */
  findNearCopy(question: string, threshold: number): NearestQuestion | undefined {
    const query = this.entry(question);
    const m = query.ids.length;
    if (m === 0) return undefined;
    // 2·min(m, n)/(m + n) ≥ t  ⇔  n ∈ [m·t/(2−t), m·(2−t)/t].
    const low = Math.ceil((m * threshold) / (2 - threshold) - 1e-9);
    const high = Math.floor((m * (2 - threshold)) / threshold + 1e-9);
    for (let n = Math.max(1, low); n <= high; n++) {
      for (const other of this.byLength.get(n) ?? []) {
        const needed = (threshold * (m + n)) / 2; // F ≥ t ⇔ LCS ≥ t·(m+n)/2
        if (bagOverlap(query.bag, other.bag) < needed - 1e-9) continue;
        const fmeasure = (2 * lcsLength(query.ids, other.ids)) / (m + n);
        if (fmeasure >= threshold) return { text: other.text, fmeasure };
      }
    }
    return undefined;
  }

  private entry(text: string): Entry {
    const tokens = rougeTokens(text);
    const ids = new Int32Array(tokens.length);
    const bag = new Map<number, number>();
    tokens.forEach((token, i) => {
      let id = this.vocabulary.get(token);
      if (id === undefined) {
        id = this.vocabulary.size;
        this.vocabulary.set(token, id);
      }
      ids[i] = id;
      bag.set(id, (bag.get(id) ?? 0) + 1);
    });
    return { text, ids, bag };
  }
}

function bagOverlap(a: Map<number, number>, b: Map<number, number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let overlap = 0;
  for (const [id, count] of small) overlap += Math.min(count, large.get(id) ?? 0);
  return overlap;
}
