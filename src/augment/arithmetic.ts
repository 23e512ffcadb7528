/**
 * Reading and evaluating the arithmetic in a rationale: numbers as people write them (`1,200`, `$40`,
 * `12.5%`), the operators + − * / x × ÷, parentheses, and `=`. The verifier uses this to recompute every
 * `a op b = c` step; anything it cannot read is skipped, never guessed.
 */

export type Token =
  | { kind: "number"; value: number; raw: string; percent: boolean }
  | { kind: "op"; op: "+" | "-" | "*" | "/"; tight?: boolean }
  | { kind: "(" | ")" | "=" | "break" };

/** A mixed number `1 1/2`, a number with thousands commas, a plain or decimal number; `$` before, `%` after. */
const NUMBER = /^\$?\s?(?:(\d+) (\d+)\/(\d+)(?![\d.])|(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+))(%?)/;
const OPS: Record<string, "+" | "-" | "*" | "/"> = { "+": "+", "-": "-", "−": "-", "–": "-", "*": "*", "×": "*", "/": "/", "÷": "/" };
/** Up to this many words between a number and an operator are read as its unit (`4 ft * 6 ft`). */
const MAX_UNIT_WORDS = 3;

type RawToken = Token | { kind: "word"; text: string };

/**
 * Splits text into arithmetic tokens. Words are units and vanish where they sit between a number and an
 * operator (`60 students x 2/3`, `$5400/week * 4 weeks`, `7kg`); `x` between numbers multiplies; a number
 * glued to one letter (`5A`, `0.2Y`) is algebra and is not read; any other word or sign is a `break`.
 */
export function tokenizeArithmetic(text: string): Token[] {
  return resolveWords(rawTokens(text));
}

function rawTokens(text: string): RawToken[] {
  const tokens: RawToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    const word = /^[A-Za-z][A-Za-z']*/.exec(text.slice(i, i + 60));
    if (word) {
      tokens.push({ kind: "word", text: word[0] });
      i += word[0].length;
      continue;
    }
    const number = NUMBER.exec(text.slice(i, i + 40));
    if (number) {
      const length = number[0].length;
      const glued = /^[A-Za-z]+/.exec(text.slice(i + length, i + length + 30))?.[0];
      if (glued?.length === 1) {
        // `5A`, `0.2Y`, `280k`: algebra or a scale we do not guess; nothing here is checked.
        tokens.push({ kind: "break" });
        i += length + 1;
        continue;
      }
      const mixed = number[1] !== undefined;
      const raw = mixed ? `${number[1]} ${number[2]}/${number[3]}` : number[4]!;
      const value = mixed ? Number(number[1]) + Number(number[2]) / Number(number[3]) : Number(raw.replaceAll(",", ""));
      tokens.push({ kind: "number", value, raw, percent: number[5] === "%" });
      i += length;
      if (glued) {
        tokens.push({ kind: "word", text: glued }); // `7kg`, `4hrs`: a unit like any other word
        i += glued.length;
      }
      continue;
    }
    const previous = tokens.at(-1);
    if (OPS[c]) {
      // `1/4` written tight may be meant as one fraction (`3 / 1/4 = 12`): evaluateReadings tries both.
      const tight = c === "/" && /[\d.]/.test(text.charAt(i - 1)) && /\d/.test(text.charAt(i + 1));
      tokens.push({ kind: "op", op: OPS[c], ...(tight ? { tight } : {}) });
    } else if (c === "(" && (previous?.kind === "number" || previous?.kind === ")") && /[\d)]/.test(text.charAt(i - 1))) {
      tokens.push({ kind: "op", op: "*" }, { kind: "(" }); // `5(6+3)`: implicit multiplication
    } else if (c === "(" || c === ")" || c === "=") tokens.push({ kind: c });
    else tokens.push({ kind: "break" });
    i++;
  }
  return tokens;
}

function resolveWords(tokens: RawToken[]): Token[] {
  const out: Token[] = [];
  const push = (token: Token) => {
    if (token.kind === "break" && out.at(-1)?.kind === "break") return;
    out.push(token);
  };
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token.kind !== "word") {
      push(token);
      i++;
      continue;
    }
    let end = i;
    while (end < tokens.length && tokens[end]!.kind === "word") end++;
    const words = tokens.slice(i, end) as { text: string }[];
    const before = out.at(-1);
    const after = tokens[end];
    const afterNumber = before?.kind === "number" || before?.kind === ")";
    const perUnit = before?.kind === "op" && before.op === "/" && out.at(-2)?.kind === "number";
    if (afterNumber && words.length <= MAX_UNIT_WORDS + 1 && /^[xX]$/.test(words.at(-1)!.text) && (after?.kind === "number" || after?.kind === "(")) {
      push({ kind: "op", op: "*" }); // `0.2 x 50`, `60 students x 2/3`
    } else if (perUnit && words.length <= MAX_UNIT_WORDS && (after === undefined || after.kind !== "number")) {
      out.pop(); // `$600/weekday`: a rate, the number stays
    } else if (!(afterNumber && words.length <= MAX_UNIT_WORDS && (after?.kind === "op" || after?.kind === "="))) {
      push({ kind: "break" });
    }
    i = end;
  }
  return out;
}

/**
 * Evaluates tokens as one expression (precedence, unary minus, parentheses); undefined when they are not
 * exactly one well-formed expression. `percentAsFraction` reads `20%` as 0.2 instead of 20.
 */
export function evaluateTokens(tokens: readonly Token[], percentAsFraction = false): number | undefined {
  let pos = 0;
  const peek = () => tokens[pos];
  const expression = (): number | undefined => {
    let value = term();
    while (value !== undefined && peek()?.kind === "op" && ((peek() as { op: string }).op === "+" || (peek() as { op: string }).op === "-")) {
      const op = (tokens[pos++] as { op: string }).op;
      const right = term();
      if (right === undefined) return undefined;
      value = op === "+" ? value + right : value - right;
    }
    return value;
  };
  const term = (): number | undefined => {
    let value = factor();
    while (value !== undefined && peek()?.kind === "op" && ((peek() as { op: string }).op === "*" || (peek() as { op: string }).op === "/")) {
      const op = (tokens[pos++] as { op: string }).op;
      const right = factor();
      if (right === undefined) return undefined;
      value = op === "*" ? value * right : value / right;
    }
    return value;
  };
  const factor = (): number | undefined => {
    const token = tokens[pos++];
    if (!token) return undefined;
    if (token.kind === "op" && (token.op === "-" || token.op === "+")) {
      const inner = factor();
      return inner === undefined ? undefined : token.op === "-" ? -inner : inner;
    }
    if (token.kind === "number") return token.percent && percentAsFraction ? token.value / 100 : token.value;
    if (token.kind === "(") {
      const inner = expression();
      if (tokens[pos++]?.kind !== ")") return undefined;
      return inner;
    }
    return undefined;
  };
  const value = expression();
  return pos === tokens.length && value !== undefined && Number.isFinite(value) ? value : undefined;
}

/**
 * Every value the tokens can mean: `%` as written or as a fraction, and tight `a/b` as an ordinary division
 * or as one fraction. Empty when the tokens are not one expression.
 */
export function evaluateReadings(tokens: readonly Token[]): number[] {
  const withFractions = collapseTightFractions(tokens);
  const values = [
    evaluateTokens(tokens, false),
    evaluateTokens(tokens, true),
    ...(withFractions ? [evaluateTokens(withFractions, false), evaluateTokens(withFractions, true)] : []),
  ].filter((v): v is number => v !== undefined);
  return [...new Set(values)];
}

function collapseTightFractions(tokens: readonly Token[]): Token[] | undefined {
  if (!tokens.some((t) => t.kind === "op" && t.tight)) return undefined;
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const [a, op, b] = [tokens[i]!, tokens[i + 1], tokens[i + 2]];
    if (a.kind === "number" && op?.kind === "op" && op.tight && b?.kind === "number" && !a.percent && !b.percent) {
      out.push({ kind: "number", value: a.value / b.value, raw: `${a.raw}/${b.raw}`, percent: false });
      i += 2;
    } else out.push(a);
  }
  return out;
}

/**
 * Whether a stated result matches a computed one: equal up to float noise, or — when the computation did
 * not come out whole — rounded or truncated to the decimals the writer used (`10/3 = 3.33`).
 */
export function resultMatches(computed: number, stated: number, statedRaw: string): boolean {
  if (Math.abs(computed - stated) <= 1e-6 * Math.max(1, Math.abs(stated))) return true;
  if (Number.isInteger(computed)) return false;
  const decimals = statedRaw.split(".")[1]?.length ?? 0;
  const scale = 10 ** decimals;
  const close = (x: number) => Math.abs(x - stated) <= 1e-9 * Math.max(1, Math.abs(stated));
  return close(Math.round(computed * scale) / scale) || close(Math.trunc(computed * scale) / scale);
}

export function hasOperator(tokens: readonly Token[]): boolean {
  // A leading minus alone is a sign, not a computation.
  return tokens.some((t, i) => t.kind === "op" && !(i === 0 && t.op === "-"));
}
