/**
 * The two toy tasks as files: for each, pool.jsonl (pretraining text), seed.jsonl (small, skewed),
 * test.jsonl (the full distribution), teacher.jsonl (same-kind pairs) and manifest.json (counts, and the
 * skill/intent and phrasing of every seed and test row, which the task files themselves do not carry).
 * The sizes and the seed skew are the constants below; datasets/README.md explains them.
 */
import { Rng } from "./prng.js";
import { SplitDrawer, type Drawn, type TeacherPair } from "./splits.js";
import { arithmeticFacts, MATH_SKILLS, numbersSentence, type MathExample } from "./toyMath.js";
import { INTENTS, type IntentExample } from "./toyIntents.js";

export const DATASET_SEED = 20240322; // arXiv 2403.15042 was posted in March 2024

/** Seed-set counts per skill: the one-step skills well covered, the two-step ones barely present. */
export const MATH_SEED_COUNTS: Record<string, number> = {
  add: 12,
  subtract: 12,
  multiply: 10,
  compare: 10,
  buy_then_give: 3,
  groups_plus_extra: 3,
};
const MATH_TEST_PER_SKILL = 50;
const MATH_TEACHER_PAIRS = 1800;
const MATH_POOL_QUESTIONS = 4000;
/** Every arithmetic fact appears this many times in the pool, in shuffled groups of FACTS_PER_ROW lines. */
const MATH_FACT_PASSES = 50;
/** Share of pool questions followed by their numbers read back (numbersSentence). */
const MATH_READ_BACK_SHARE = 0.8;
const FACTS_PER_ROW = 8;

/** Seed-set counts per intent: five intents well covered, two barely. */
export const INTENT_SEED_COUNTS: Record<string, number> = {
  weather: 9,
  play_music: 9,
  set_alarm: 9,
  book_restaurant: 9,
  add_to_playlist: 9,
  rate_book: 3,
  find_movie: 3,
};
const INTENT_TEST_PER_INTENT = 50;
const INTENT_TEACHER_PAIRS = 1800;
const INTENT_POOL_UTTERANCES = 6000;

/** One output file: its name inside the task folder and its full text. */
export interface DatasetFile {
  name: string;
  content: string;
}

function jsonl(rows: readonly object[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join("");
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function describe<E>(drawn: readonly Drawn<E>[], withRows: boolean) {
  return {
    rows: drawn.length,
    perKind: countBy(drawn, (d) => d.kind),
    perPhrasing: countBy(drawn, (d) => d.phrasing),
    // The phrasing id of each row, in file order; its kind is the part before the `/`.
    ...(withRows ? { rowPhrasings: drawn.map((d) => d.phrasing) } : {}),
  };
}

function teacherCounts<E>(pairs: readonly TeacherPair<E>[]) {
  return {
    rows: pairs.length,
    perKind: countBy(pairs, (p) => p.kind),
    samePhrasing: pairs.filter((p) => p.source.phrasing === p.similar.phrasing).length,
  };
}

export function buildToyMath(seed = DATASET_SEED): DatasetFile[] {
  const drawer = new SplitDrawer(MATH_SKILLS, (e: MathExample) => e.question);
  const test = drawer.test(Rng.forStream(seed, "toy-math/test"), MATH_TEST_PER_SKILL);
  const seedSet = drawer.seed(Rng.forStream(seed, "toy-math/seed"), MATH_SEED_COUNTS);
  const teacher = drawer.teacherPairs(Rng.forStream(seed, "toy-math/teacher"), MATH_TEACHER_PAIRS);

  // Pool: questions of every skill and phrasing WITHOUT solutions (most with their numbers read back), plus
  // the arithmetic facts.
  const poolRng = Rng.forStream(seed, "toy-math/pool");
  const questions = drawer.poolInputs(poolRng, MATH_POOL_QUESTIONS).map((d) => d.example.question);
  const readBack = questions.map((q) => (poolRng.next() < MATH_READ_BACK_SHARE ? `${q} ${numbersSentence(q)}` : q));
  const facts = arithmeticFacts();
  const factRows: string[] = [];
  for (let pass = 0; pass < MATH_FACT_PASSES; pass++) {
    const shuffled = poolRng.shuffle([...facts]);
    for (let i = 0; i < shuffled.length; i += FACTS_PER_ROW) factRows.push(shuffled.slice(i, i + FACTS_PER_ROW).join("\n"));
  }
  const pool = poolRng.shuffle([...readBack, ...factRows]).map((text) => ({ text }));

  const manifest = {
    task: "toy-math",
    generator: "datasets/generator (npm run build:datasets)",
    seed,
    format: { seed: "{question, answer}", test: "{question, answer}", pool: "{text}", teacher: "{skill, source: {question, answer}, similar: {question, answer}}" },
    pool: { rows: pool.length, questions: questions.length, readBack: readBack.filter((t, i) => t !== questions[i]).length, factRows: factRows.length, distinctFacts: facts.length },
    seedSet: describe(seedSet, true),
    test: describe(test, true),
    teacher: teacherCounts(teacher),
  };
  return [
    { name: "pool.jsonl", content: jsonl(pool) },
    { name: "seed.jsonl", content: jsonl(seedSet.map((d) => d.example)) },
    { name: "test.jsonl", content: jsonl(test.map((d) => d.example)) },
    { name: "teacher.jsonl", content: jsonl(teacher.map((p) => ({ skill: p.kind, source: p.source.example, similar: p.similar.example }))) },
    { name: "manifest.json", content: `${JSON.stringify(manifest, null, 1)}\n` },
  ];
}

export function buildToyIntents(seed = DATASET_SEED): DatasetFile[] {
  const drawer = new SplitDrawer(INTENTS, (e: IntentExample) => e.text);
  const test = drawer.test(Rng.forStream(seed, "toy-intents/test"), INTENT_TEST_PER_INTENT);
  const seedSet = drawer.seed(Rng.forStream(seed, "toy-intents/seed"), INTENT_SEED_COUNTS);
  const teacher = drawer.teacherPairs(Rng.forStream(seed, "toy-intents/teacher"), INTENT_TEACHER_PAIRS);
  // Pool: utterances of every intent and phrasing, rare ones included, WITHOUT labels.
  const pool = drawer.poolInputs(Rng.forStream(seed, "toy-intents/pool"), INTENT_POOL_UTTERANCES).map((d) => ({ text: d.example.text }));

  const manifest = {
    task: "toy-intents",
    generator: "datasets/generator (npm run build:datasets)",
    seed,
    labels: INTENTS.map((k) => k.name),
    format: { seed: "{text, label}", test: "{text, label}", pool: "{text}", teacher: "{label, source: {text, label}, similar: {text, label}}" },
    pool: { rows: pool.length },
    seedSet: describe(seedSet, true),
    test: describe(test, true),
    teacher: teacherCounts(teacher),
  };
  return [
    { name: "pool.jsonl", content: jsonl(pool) },
    { name: "seed.jsonl", content: jsonl(seedSet.map((d) => d.example)) },
    { name: "test.jsonl", content: jsonl(test.map((d) => d.example)) },
    { name: "teacher.jsonl", content: jsonl(teacher.map((p) => ({ label: p.kind, source: p.source.example, similar: p.similar.example }))) },
    { name: "manifest.json", content: `${JSON.stringify(manifest, null, 1)}\n` },
  ];
}

/** Both tasks, keyed by folder name. */
export function buildToyDatasets(seed = DATASET_SEED): Record<string, DatasetFile[]> {
  return { "toy-math": buildToyMath(seed), "toy-intents": buildToyIntents(seed) };
}
