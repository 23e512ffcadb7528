/**
 * A CaseHOLD-shaped multiple-choice file (CaseHOLD itself is not in ../shared/datasets): a long citing
 * context ending in `(<HOLDING>)` and five long candidate holdings, a 0-based `label`, as the Hugging Face
 * copy stores them. Deterministic filler text, sized so prompts with their choices reach ~700 llama tokens.
 */
import { writeFile } from "node:fs/promises";
import { mulberry32 } from "../../src/util/mulberry32.js";

const WORDS = (
  "the court held that plaintiff defendant appellant appellee contract statute claim motion summary judgment " +
  "district circuit evidence jury verdict damages negligence liability breach duty standard review trial " +
  "appeal record testimony witness counsel argument jurisdiction federal state constitutional due process " +
  "reasonable doubt discretion remand affirm reverse finding fact law precedent doctrine equitable relief " +
  "injunction warrant search seizure amendment employer employee insurance policy coverage agreement party"
).split(" ");

function sentence(random: () => number, words: number): string {
  const out = Array.from({ length: words }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  return `${out[0]!.charAt(0).toUpperCase()}${out[0]!.slice(1)} ${out.slice(1).join(" ")}.`;
}

export function caseholdRows(n: number, seed: number): { citing_prompt: string; holdings: string[]; label: number }[] {
  const random = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const context = Array.from({ length: 14 + Math.floor(random() * 8) }, () => sentence(random, 12 + Math.floor(random() * 8))).join(" ");
    const holdings = Array.from({ length: 5 }, (_, h) => `holding that ${sentence(random, 28 + Math.floor(random() * 14)).toLowerCase()} (${i}.${h})`);
    return { citing_prompt: `${context} See State v. Case ${seed}-${i}, (<HOLDING>).`, holdings, label: Math.floor(random() * 5) };
  });
}

export async function writeCaseholdShaped(file: string, n: number, seed: number): Promise<void> {
  const rows = caseholdRows(n, seed).map((r, i) => JSON.stringify({ id: `case-${seed}-${i}`, prompt: r.citing_prompt, choices: r.holdings, label: r.label }));
  await writeFile(file, `${rows.join("\n")}\n`);
}
