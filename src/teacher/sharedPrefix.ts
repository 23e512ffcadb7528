/**
 * The shared prompt prefix, evaluated once. Every augmentation request of a batch starts with the same system
 * prompt and worked example (≈ 90% of a paper-layout prompt's tokens); only the seed example differs.
 *
 * node-llama-cpp already reuses, within ONE sequence, the longest run of tokens its KV cache holds that the next
 * prompt starts with (LlamaChat erases the cache from the first differing token and evaluates the rest). What
 * it does not do is share across sequences: with N parallel sequences, each would evaluate the whole prefix on
 * its first request — N times the prompt work of a sequential loop. So before a batch we evaluate the prefix
 * on one sequence and copy its KV cells to the others (llama.cpp's `llama_memory_seq_cp`); each LlamaChat then
 * finds the prefix in its sequence and evaluates only its own tail.
 *
 * Correctness does not rest on this file guessing right: LlamaChat compares tokens itself, so a prefix that
 * does not match what it renders only costs the reuse, never changes an output.
 */
import type { ChatHistoryItem, ChatWrapper, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

/** Below this many shared tokens, priming is not worth a copy. */
const MIN_SHARED_TOKENS = 16;

export interface PrefixStats {
  /** Tokens of the prefix shared by the last batch (0: none worth sharing). */
  prefixTokens: number;
  /** Prefix tokens evaluated by llama.cpp across batches (what was not already in a sequence). */
  prefixTokensEvaluated: number;
  /** Sequences that got the prefix by a KV copy instead of evaluating it. */
  prefixCopies: number;
}

/** The tokens LlamaChat will evaluate for `history` (the same rendering and tokenizer it uses). */
export function renderedTokens(model: LlamaModel, chatWrapper: ChatWrapper, history: ChatHistoryItem[]): Token[] {
  return chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(model.tokenizer);
}

/**
 * The longest token prefix every prompt starts with, leaving each prompt at least one token of its own
 * (LlamaChat must evaluate one token to sample from). Empty when shorter than `MIN_SHARED_TOKENS` or when
 * there is only one prompt.
 */
export function sharedPrefix(prompts: readonly Token[][]): Token[] {
  if (prompts.length < 2) return [];
  let length = Math.min(...prompts.map((p) => p.length - 1));
  const first = prompts[0]!;
  for (const prompt of prompts.slice(1)) {
    let i = 0;
    while (i < length && prompt[i] === first[i]) i++;
    length = i;
  }
  return length >= MIN_SHARED_TOKENS ? first.slice(0, length) : [];
}

/** Whether `sequence`'s KV cache already holds all of `prefix`. */
function holds(sequence: LlamaContextSequence, prefix: Token[]): boolean {
  return sequence.contextTokens.length >= prefix.length && sequence.compareContextTokens(prefix).firstDifferentIndex >= prefix.length;
}

/** node-llama-cpp's sequence copy (`llama_memory_seq_cp`); internal in 3.x, so looked up, not assumed. */
type CopyingSequence = { _copyStateFromOtherSequence?: (from: LlamaContextSequence, upToTokenIndex: number) => Promise<boolean> };

/**
 * Puts `prefix` in every sequence's KV cache, evaluating it at most once: a sequence that holds it keeps its
 * cache; the first one that does not evaluates what it lacks; the rest copy from a holder. Sequences must be
 * idle (no generation in flight). Without the copy (a node-llama-cpp that lacks it, or a copy that fails),
 * a sequence evaluates the prefix itself.
 */
export async function primeSequences(sequences: readonly LlamaContextSequence[], prefix: Token[], stats: PrefixStats): Promise<void> {
  stats.prefixTokens = prefix.length;
  if (prefix.length === 0) return;
  let source = sequences.find((s) => holds(s, prefix));
  for (const sequence of sequences) {
    if (holds(sequence, prefix)) continue;
    if (source) {
      const copy = (sequence as unknown as CopyingSequence)._copyStateFromOtherSequence;
      if (copy && (await copy.call(sequence, source, prefix.length).catch(() => false)) && holds(sequence, prefix)) {
        stats.prefixCopies++;
        continue;
      }
    }
    await evaluatePrefix(sequence, prefix, stats);
    source ??= sequence;
  }
}

/** Keeps what the sequence shares with `prefix`, drops the rest of its cache, evaluates the missing tokens. */
async function evaluatePrefix(sequence: LlamaContextSequence, prefix: Token[], stats: PrefixStats): Promise<void> {
  await sequence.adaptStateToTokens(prefix, false);
  const missing = prefix.slice(sequence.nextTokenIndex);
  if (missing.length > 0) await sequence.evaluateWithoutGeneratingNewTokens(missing);
  stats.prefixTokensEvaluated += missing.length;
}
