/**
 * Where the shared fixtures are. Files written by other people live in ../shared beside the checkout
 * (override with LLM2LLM_FIXTURES / LLM2LLM_DATASETS). Tests that need them skip, saying why, when absent.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const fixturesDir = process.env.LLM2LLM_FIXTURES ?? path.resolve(repoRoot, "../shared/fixtures");
export const datasetsDir = process.env.LLM2LLM_DATASETS ?? path.resolve(repoRoot, "../shared/datasets");
export const peersDir = path.resolve(repoRoot, "../shared/peers");

export const tinyRandomLlama = path.join(fixturesDir, "models/llama-2-tiny-random.gguf");
export const vocabDir = path.join(fixturesDir, "models/vocab");

export const haveFixtures = existsSync(tinyRandomLlama);
export const haveDatasets = existsSync(path.join(datasetsDir, "gsm8k/train.jsonl"));

/** A reason string for `describe.skipIf(...)`, printed so a skip is never silent. */
export function fixtureSkipReason(what: "fixtures" | "datasets"): string {
  const dir = what === "fixtures" ? fixturesDir : datasetsDir;
  const reason = `skipped: shared ${what} not found at ${dir} (set LLM2LLM_${what.toUpperCase()} or put ../shared beside the checkout)`;
  return reason;
}

/** Logs why a suite is skipped, once, and returns whether it should be. */
export function skipWithout(what: "fixtures" | "datasets"): boolean {
  const present = what === "fixtures" ? haveFixtures : haveDatasets;
  if (!present) console.warn(fixtureSkipReason(what));
  return !present;
}

export { repoRoot };
