/**
 * A small byte-pair-encoding trainer for a SentencePiece-style (`llama`) vocabulary.
 *
 * Text is first cut into pre-tokens the way the vocabulary should see words: `▁` (a space) joined to the
 * word it starts, letters with inner apostrophes, runs of `#`, single punctuation marks (optionally after
 * `▁`), and every digit alone. Merges never cross a pre-token, so no token holds two digits or a digit and
 * a space: numbers always tokenize one token per digit, which is what a small model needs for arithmetic.
 *
 * llama.cpp's SPM tokenizer merges the adjacent pair whose joined text is the highest-scoring token, so
 * giving merge i the score -(i + 1) makes it replay these merges in training order.
 */

export const SPACE = "▁"; // U+2581, SentencePiece's visible space

/** Pre-tokens: `▁word`, `word`, `▁####`, `▁+`, `?`, a lone `▁`, a digit, or any other single character. */
const PRE_TOKEN = /▁?[A-Za-z][A-Za-z']*|▁?#+|▁?[^A-Za-z0-9▁\s]|▁|\s|./gsu;

/** Text as llama.cpp's SPM tokenizer sees it: a leading space added, every space made `▁`. */
export function toSentencePieceText(text: string): string {
  return SPACE + text.replaceAll(" ", SPACE);
}

/** The pre-tokens of one text: the fewest tokens any vocabulary of this kind can give it. */
export function preTokens(text: string): string[] {
  return [...toSentencePieceText(text).matchAll(PRE_TOKEN)].map((match) => match[0]);
}

/** Counts the pre-tokens of many texts. */
export function countPreTokens(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) for (const piece of preTokens(text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  return counts;
}

interface WordState {
  symbols: string[];
  count: number;
}

function pairKey(left: string, right: string): string {
  return `${left}\u0000${right}`;
}

/**
 * Learns up to `maxMerges` merges from pre-token counts: each step joins the most frequent adjacent pair
 * (ties: the smaller joined text, then the smaller left side, so the result never depends on Map order).
 * Stops early when no pair occurs at least `minCount` times. Returns the merged tokens in merge order.
 */
export function trainBpe(preTokens: Map<string, number>, maxMerges: number, minCount = 2): string[] {
  const words: WordState[] = [...preTokens.entries()]
    .filter(([word]) => [...word].length > 1)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([word, count]) => ({ symbols: [...word], count }));
  const merged: string[] = [];
  const known = new Set<string>();

  while (merged.length < maxMerges) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = pairKey(symbols[i]!, symbols[i + 1]!);
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: { left: string; right: string; count: number } | undefined;
    for (const [key, count] of pairCounts) {
      const [left, right] = key.split("\u0000") as [string, string];
      if (
        !best ||
        count > best.count ||
        (count === best.count && (left + right < best.left + best.right || (left + right === best.left + best.right && left < best.left)))
      ) {
        best = { left, right, count };
      }
    }
    if (!best || best.count < minCount) break;
    const joined = best.left + best.right;
    // The same text reached by another split is already a token (llama.cpp merges it either way): no new entry.
    if (!known.has(joined)) {
      merged.push(joined);
      known.add(joined);
    }
    for (const word of words) word.symbols = applyMerge(word.symbols, best.left, best.right);
  }
  return merged;
}

function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (i + 1 < symbols.length && symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else {
      out.push(symbols[i]!);
    }
  }
  return out;
}
