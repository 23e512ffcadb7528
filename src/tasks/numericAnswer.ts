/**
 * GSM8K final answers, read and compared the way the official LLM2LLM code does
 * (SqueezeAILab/LLM2LLM `GSM8K/filter.py` and `report_results.py`), so accuracies are comparable with the paper:
 * - the answer in a completion is the text after the first `#` run and a space (`#+ (.*)`, one line);
 * - two answers are equal when, keeping only digits and `.`, they parse to the same float; when either
 *   does not parse, when they are equal as lowercased strings without commas.
 * A quirk kept on purpose: the sign is dropped before comparing, so `-12` and `12` compare equal (3 GSM8K
 * train answers are negative).
 */

/** The text after the first `#### ` marker (any run of `#` then a space), trimmed; undefined when absent. */
export function extractHashAnswer(text: string): string | undefined {
  const match = /#+ (.*)/.exec(text);
  return match ? (match[1] ?? "").trim() : undefined;
}

/** Python's `''.join(c for c in s if c.isdigit() or c == '.')` (ASCII digits; enough for model output). */
function keepDigitsAndDots(s: string): string {
  return s.replace(/[^0-9.]/g, "");
}

/** Python's float() on a string of digits and dots: undefined where Python would raise. */
function pythonFloat(s: string): number | undefined {
  if (!/^(\d+\.?\d*|\.\d+)$/.test(s)) return undefined;
  return Number(s);
}

/** The official `compare_strings(s1, s2)`. */
export function compareAnswersOfficially(a: string, b: string): boolean {
  const x = pythonFloat(keepDigitsAndDots(a));
  const y = pythonFloat(keepDigitsAndDots(b));
  if (x !== undefined && y !== undefined) return x === y;
  return a.toLowerCase().replaceAll(",", "") === b.toLowerCase().replaceAll(",", "");
}

/**
 * A number as people write it in a rationale or after `####`: `1,200`, `$40`, `12.5%`, `-7`, `40.` .
 * Returns undefined for anything else (fractions such as `1/2`, words, several numbers).
 */
export function parseWrittenNumber(text: string): number | undefined {
  const cleaned = text
    .trim()
    .replace(/^[-−]\s*\$/, "-$")
    .replace(/[$€£%]/g, "")
    .replace(/,(?=\d{3}(\D|$))/g, "")
    .replace(/\.$/, "")
    .replace(/^−/, "-")
    .trim();
  if (!/^-?(\d+(\.\d+)?|\.\d+)$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

/**
 * The final answer after `####` as a plain number string (`$1,200.` → `1200`), allowing trailing unit words
 * (`40 dollars` → `40`); undefined when it is not one number.
 */
export function normaliseFinalAnswer(text: string): string | undefined {
  const withoutUnits = text.trim().replace(/\s+[A-Za-z][A-Za-z .]*$/, "");
  const value = parseWrittenNumber(withoutUnits);
  return value === undefined ? undefined : String(value);
}
