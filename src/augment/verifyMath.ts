/**
 * The math verifier: recompute every step of a rationale and check the final answer (DESIGN §6).
 * - calculator annotations `<<a*b=c>>` (GSM8K) are recomputed;
 * - every written `a op b = c` (chains `a = b = c`, `$`, commas and `%` allowed) is recomputed; a sloppy
 *   running total (`5 * 2 = 10 + 3 = 13`) counts as two steps;
 * - when the rationale computed anything, the `#### N` answer must be one of its results: the last step's
 *   as a rule, but GSM8K also ends with comparisons (`He spends $50 … 4 x 13 = 52`), so any step's result or
 *   a number written on the last line counts.
 * A step that cannot be read is skipped, so only definite mistakes reject an example.
 */
import { finalAnswerLine } from "../tasks/mathTask.js";
import { normaliseFinalAnswer } from "../tasks/numericAnswer.js";
import { evaluateReadings, hasOperator, resultMatches, tokenizeArithmetic, type Token } from "./arithmetic.js";

export interface MathStep {
  text: string;
  /** The values the left side can have (two when `%` has two readings). */
  computed: number[];
  stated: number;
  ok: boolean;
}

export interface MathVerdict {
  steps: MathStep[];
  /** Undefined when the rationale holds up. */
  failure?: { reason: "wrong-arithmetic" | "wrong-final-answer"; detail: string };
}

const ANNOTATION = /<<([^<>]*)=([^<>=]*)>>/g;

export function verifyMathAnswer(answer: string): MathVerdict {
  const split = finalAnswerLine(answer);
  const rationale = split?.rationale ?? answer;
  const steps: MathStep[] = [];
  for (const line of rationale.split("\n")) {
    for (const match of line.matchAll(ANNOTATION)) {
      const step = checkStep(`<<${match[1]}=${match[2]}>>`, tokenizeArithmetic(match[1]!), tokenizeArithmetic(match[2]!));
      if (step) steps.push(step);
    }
    steps.push(...textSteps(line.replace(ANNOTATION, "")));
  }
  const wrong = steps.find((s) => !s.ok);
  if (wrong) return { steps, failure: { reason: "wrong-arithmetic", detail: `${wrong.text}: computes to ${wrong.computed.map(formatNumber).join(" or ")}` } };
  const final = split ? normaliseFinalAnswer(split.value) : undefined;
  const last = steps.at(-1);
  if (final !== undefined && last && !finalIsAResult(Number(final), steps, rationale)) {
    return { steps, failure: { reason: "wrong-final-answer", detail: `#### ${final} but the last step (${last.text}) gives ${formatNumber(last.stated)}` } };
  }
  return { steps };
}

function finalIsAResult(final: number, steps: MathStep[], rationale: string): boolean {
  const same = (x: number) => Math.abs(x - final) <= 1e-6 * Math.max(1, Math.abs(final));
  if (steps.some((s) => same(s.stated) || s.computed.some(same))) return true;
  const lastLine = rationale.trim().split("\n").at(-1) ?? "";
  return tokenizeArithmetic(lastLine.replace(ANNOTATION, "")).some((t) => t.kind === "number" && same(t.value));
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(6)));
}

/** One `left = right` claim; undefined when there is nothing to check (no operator, unreadable side). */
function checkStep(text: string, left: Token[], right: Token[]): MathStep | undefined {
  // `S + 143 = 200 - 16` reads as `143 = 200 - 16` once the unknown is dropped: only a computed left side is a claim.
  if (!hasOperator(left)) return undefined;
  const computed = evaluateReadings(left);
  if (computed.length === 0) return undefined;
  const firstRight = right[0]?.kind === "op" && right[0].op === "-" && right[1]?.kind === "number" ? right.slice(0, 2) : right.slice(0, 1);
  const candidates = [...evaluateReadings(right), ...evaluateReadings(firstRight)];
  if (candidates.length === 0) return undefined;
  const rawRight = firstRight.at(-1)?.kind === "number" ? (firstRight.at(-1) as { raw: string }).raw : String(candidates[0]);
  const ok = candidates.some((stated) => computed.some((c) => resultMatches(c, stated, Number.isInteger(stated) ? rawRight : String(stated))));
  // The running value is what was written after `=`: the first number of the right side.
  const stated = evaluateReadings(firstRight)[0] ?? candidates[0]!;
  return { text, computed, stated, ok };
}

const EXPRESSION_KINDS = new Set(["number", "op", "(", ")"]);

/** Every `=` in a line: the longest readable expression on each side. */
function textSteps(line: string): MathStep[] {
  const tokens = tokenizeArithmetic(line);
  const steps: MathStep[] = [];
  tokens.forEach((token, i) => {
    if (token.kind !== "=") return;
    let start = i;
    while (start > 0 && EXPRESSION_KINDS.has(tokens[start - 1]!.kind)) start--;
    let end = i + 1;
    while (end < tokens.length && EXPRESSION_KINDS.has(tokens[end]!.kind)) end++;
    // `S + 143 = …`, `4 * x + 600 = …`: an unknown stands before the operator, so the left side is not all here.
    if (tokens[start]?.kind === "op" && start > 0) return;
    const left = readableSuffix(tokens.slice(start, i));
    const right = readablePrefix(tokens.slice(i + 1, end));
    if (left.length === 0 || right.length === 0) return;
    const step = checkStep(describe(left, right), left, right);
    if (step) steps.push(step);
  });
  return steps;
}

/** The left side whole; only unmatched `(` may be dropped from its front (`(5 + 3 = 8)`). */
function readableSuffix(tokens: Token[]): Token[] {
  let s = 0;
  while (s < tokens.length && tokens[s]!.kind === "(" && !evaluateReadings(tokens.slice(s)).length) s++;
  return evaluateReadings(tokens.slice(s)).length ? tokens.slice(s) : [];
}

/**
 * The right side whole; only unmatched `)` may be dropped from its end. A side that ends in an operator
 * (`= 30 + M trees`, `= 24/Y`) goes on with an unknown, so there is nothing to check.
 */
function readablePrefix(tokens: Token[]): Token[] {
  let e = tokens.length;
  while (e > 0 && tokens[e - 1]!.kind === ")" && !evaluateReadings(tokens.slice(0, e)).length) e--;
  return evaluateReadings(tokens.slice(0, e)).length ? tokens.slice(0, e) : [];
}

function describe(left: Token[], right: Token[]): string {
  const show = (t: Token) => (t.kind === "number" ? t.raw + (t.percent ? "%" : "") : t.kind === "op" ? t.op : t.kind);
  return `${left.map(show).join(" ")} = ${right.map(show).join(" ")}`;
}
