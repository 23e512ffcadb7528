import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getLlamaCpp } from "../src/backend/llamaCpp.js";
import { augmentFilter, type TeacherOutput } from "../src/augment/augmentFilter.js";
import { parseFreeText } from "../src/augment/parseFreeText.js";
import { lcsLength, rougeL, rougeTokens, RougeLIndex } from "../src/augment/rougeL.js";
import { augmentationJsonSchema, parseStructured } from "../src/augment/structuredOutput.js";
import { verifyMathAnswer } from "../src/augment/verifyMath.js";
import type { Example } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { datasetsDir, skipWithout } from "./fixtures.js";

// The official worked example (LLM2LLM `GSM8K/generate_data.py`), as a teacher would answer.
const paperStyle = `Sure, I can help you with that! Here's a new math question based on the same scenario, along with the correct calculations and rationale:

1. Question: Betty is saving money for a new wallet which costs $150. Betty has already saved $30. Her parents decided to give her $20 for that purpose, and her grandparents gave her three times as much as her parents. How much more money does Betty need to buy the wallet?
Answer: In the beginning, Betty has saved $30. Betty's parents gave her $20. Betty's grandparents gave her 3 * $20 = $60. Total amount Betty has: $30 + $20 + $60 = $110. The cost of the wallet is $150. Amount more needed: $150 - $110 = $40.
#### 40

2. Question: Tom wants a bike that costs $200. He has saved $50 and his uncle gives him $70. How much more does he need?
Answer: Tom has 50 + 70 = $<<50+70=120>>120.
He needs 200 - 120 = $<<200-120=80>>80 more.
#### 80`;

const seed: Example = {
  id: "train-3",
  question: "Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?",
  answer: "In the beginning, Betty has only 100 / 2 = $<<100/2=50>>50.\nBetty's grandparents gave her 15 * 2 = $<<15*2=30>>30.\nThis means, Betty needs 100 - 50 - 30 - 15 = $<<100-50-30-15=5>>5 more.\n#### 5",
};
const provenance = { iteration: 1, teacherId: "sha256:abc", promptHash: "sha256:def", sampling: { temperature: 0.7, maxTokens: 512, seed: 1 } };
const output = (text: string, extra: Partial<TeacherOutput> = {}): TeacherOutput => ({ seed, text, format: "free-text", provenance, ...extra });

describe("free-text parser", () => {
  it("reads the paper's numbered `Question:/Answer:/####` format", () => {
    const parsed = parseFreeText(paperStyle, { kind: "math" });
    expect(parsed.candidates).toHaveLength(2);
    expect(parsed.candidates[0]!.question).toMatch(/^Betty is saving money for a new wallet which costs \$150\./);
    expect(parsed.candidates[0]!.answer).toMatch(/^In the beginning, Betty has saved \$30\..*\n#### 40$/s);
    expect(parsed.candidates[1]!.answer).toBe("Tom has 50 + 70 = $<<50+70=120>>120.\nHe needs 200 - 120 = $<<200-120=80>>80 more.\n#### 80");
  });
  it("tolerates Question N / Q1 / markdown bold / unnumbered markers", () => {
    const text = [
      "**Question 1:** A box has 3 rows of 4 eggs. How many eggs?",
      "**Answer 1:** 3 * 4 = <<3*4=12>>12 eggs. #### 12",
      "",
      "Q2: Sam has 10 pens and gives away 4. How many are left?",
      "A2: 10 - 4 = 6",
      "#### 6",
      "Question: Ann reads 5 pages a day for 3 days. How many pages?",
      "Answer: 5 x 3 = 15 pages.",
      "#### 15",
    ].join("\n");
    const parsed = parseFreeText(text, { kind: "math" });
    expect(parsed.candidates.map((c) => c.question)).toEqual([
      "A box has 3 rows of 4 eggs. How many eggs?",
      "Sam has 10 pens and gives away 4. How many are left?",
      "Ann reads 5 pages a day for 3 days. How many pages?",
    ]);
    expect(parsed.candidates.map((c) => c.answer)).toEqual(["3 * 4 = <<3*4=12>>12 eggs.\n#### 12", "10 - 4 = 6\n#### 6", "5 x 3 = 15 pages.\n#### 15"]);
  });
  it("reads numbered items without the word Question, and one bare block", () => {
    expect(parseFreeText("1. Jo has 2 cats and 3 dogs. How many pets?\nAnswer: 2 + 3 = 5\n#### 5", { kind: "math" }).candidates).toEqual([
      { question: "Jo has 2 cats and 3 dogs. How many pets?", answer: "2 + 3 = 5\n#### 5" },
    ]);
    expect(parseFreeText("Here is one:\nJo has 2 cats and 3 dogs. How many pets?\nAnswer: 2 + 3 = 5\n#### 5", { kind: "math" }).candidates[0]!.question).toBe(
      "Jo has 2 cats and 3 dogs. How many pets?",
    );
  });
  it("drops the last block of a truncated completion, as the official code does", () => {
    const cut = `${paperStyle}\n\n3. Question: Mia buys 4 packs of 6 pencils. How many penc`;
    const unflagged = parseFreeText(cut, { kind: "math" });
    expect(unflagged.candidates).toHaveLength(2);
    expect(unflagged.withoutAnswer).toBe(1);
    const flagged = parseFreeText(cut, { kind: "math", truncated: true });
    expect(flagged).toMatchObject({ withoutAnswer: 0, truncatedDropped: true });
    expect(flagged.candidates).toHaveLength(2);
  });
  it("reads classification `Question N:` / `Intent N:` lines and choices", () => {
    const parsed = parseFreeText("Question 1: play some jazz by miles davis\nIntent 1: PlayMusic\nQuestion 2: will it snow in oslo\nLabel 2: GetWeather", {
      kind: "classification",
      answerWord: "Intent",
    });
    expect(parsed.candidates).toEqual([
      { question: "play some jazz by miles davis", answer: "PlayMusic" },
      { question: "will it snow in oslo", answer: "GetWeather" },
    ]);
    const mc = parseFreeText("Question 1: The court held that\n(A) x is y\n(B) y is z\nAnswer: (B)", { kind: "multiple-choice" });
    expect(mc.candidates).toEqual([{ question: "The court held that", choices: ["x is y", "y is z"], answer: "(B)" }]);
  });
  it("finds nothing in gibberish", () => {
    const parsed = parseFreeText("ersatz ersatz ##!! lorem 77 ipsum", { kind: "math" });
    expect(parsed).toMatchObject({ candidates: [], withoutAnswer: 0 });
  });
});

describe("structured output", () => {
  it("exports a JSON schema per task kind", () => {
    const math = augmentationJsonSchema("math", { count: 2 });
    expect(math.properties!.examples).toMatchObject({ minItems: 2, maxItems: 2, items: { required: ["question", "answer"] } });
    const cls = augmentationJsonSchema("classification", { count: 1, labels: ["negative", "positive"] });
    expect(cls.properties!.examples).toMatchObject({ items: { properties: { answer: { enum: ["negative", "positive"] } } } });
    const mc = augmentationJsonSchema("multiple-choice", { count: 1, choiceCount: 5 });
    expect(mc.properties!.examples).toMatchObject({ items: { properties: { choices: { minItems: 5, maxItems: 5 }, answer: { enum: ["A", "B", "C", "D", "E"] } } } });
    expect(() => augmentationJsonSchema("classification", { count: 1 })).toThrow(/label set/);
  });
  it("parses JSON, tolerating a code fence, and reports bad JSON", () => {
    expect(parseStructured('```json\n{"examples":[{"question":"q","answer":"a"}]}\n```')).toEqual({ ok: true, candidates: [{ question: "q", answer: "a" }] });
    expect(parseStructured('{"examples":[{"question":"q","label":"positive"}]}')).toEqual({ ok: true, candidates: [{ question: "q", answer: "positive" }] });
    expect(parseStructured('{"examples":[{"question":"q","ans')).toMatchObject({ ok: false, reason: "invalid-json" });
    expect(parseStructured('{"items":[]}')).toMatchObject({ ok: false, reason: "wrong-shape" });
  });
});

describe("the schema as node-llama-cpp's JSON-schema grammar", () => {
  it("compiles for every kind, and the grammar's own validation agrees with the label set", async () => {
    const llama = await getLlamaCpp();
    const schemas = [
      augmentationJsonSchema("math", { count: 2 }),
      augmentationJsonSchema("classification", { count: 1, labels: ["negative", "positive"] }),
      augmentationJsonSchema("multiple-choice", { count: 1, choiceCount: 5 }),
    ];
    const grammars = await Promise.all(schemas.map((schema) => llama.createGrammarForJsonSchema(schema)));
    const good = '{"examples": [{"question": "what a lovely film", "answer": "positive"}]}';
    expect(grammars[1]!.parse(good)).toEqual(parseStructured(good).ok && { examples: [{ question: "what a lovely film", answer: "positive" }] });
    expect(() => grammars[1]!.parse('{"examples": [{"question": "what a lovely film", "answer": "neutral"}]}')).toThrow();
  });
});

describe("math verifier", () => {
  it("accepts correct rationales, annotations and formatting", () => {
    expect(verifyMathAnswer(seed.answer).failure).toBeUndefined();
    expect(verifyMathAnswer("Weng earns 12/60 = $<<12/60=0.2>>0.2 per minute.\nShe earned 0.2 x 50 = $<<0.2*50=10>>10.\n#### 10").failure).toBeUndefined();
    expect(verifyMathAnswer("Total: $1,200 + $300 = $1,500. A 20% tip is 1,500 * 20% = $300.\n#### 300").failure).toBeUndefined();
    expect(verifyMathAnswer("Each gets 10/3 = 3.33 cups.\n#### 3.33").failure).toBeUndefined();
    expect(verifyMathAnswer("4 ft * 6 ft * 3 ft = 72 cubic ft\n#### 72").steps).toHaveLength(1);
  });
  it("catches wrong arithmetic in text and in <<>> annotations", () => {
    expect(verifyMathAnswer("She has 3 * 20 = 70 apples.\n#### 70").failure).toMatchObject({ reason: "wrong-arithmetic" });
    expect(verifyMathAnswer("She has 3 * 20 = <<3*20=70>>60 apples.\n#### 60").failure).toMatchObject({ reason: "wrong-arithmetic", detail: "<<3*20=70>>: computes to 60" });
    expect(verifyMathAnswer("Total 15 + 27 = $43\n#### 43").failure?.reason).toBe("wrong-arithmetic");
  });
  it("catches a final answer that is none of the results", () => {
    const verdict = verifyMathAnswer("Tom has 50 + 70 = 120.\nHe needs 200 - 120 = 80 more.\n#### 85");
    expect(verdict.failure).toMatchObject({ reason: "wrong-final-answer" });
    expect(verifyMathAnswer("He needs 200 - 120 = 80 more.\n#### 80").failure).toBeUndefined();
  });
  it("skips what it cannot read instead of guessing (algebra, unknowns)", () => {
    expect(verifyMathAnswer("Let x be the cost. 4 * x + 600 = 10000, so x = 2350.\n#### 2350").failure).toBeUndefined();
    expect(verifyMathAnswer("So 100 = 5A and A = 20.\n#### 20").failure).toBeUndefined();
  });
});

describe("ROUGE-L as rouge_score computes it", () => {
  it("tokenises like rouge_score: lowercase, non-alphanumerics to spaces", () => {
    expect(rougeTokens("Tom's $1,200 café!")).toEqual(["tom", "s", "1", "200", "caf"]);
  });
  it("matches hand-computed LCS F-measures", () => {
    expect(lcsLength(["a", "b", "c", "d"], ["d", "c", "b", "a"])).toBe(1);
    // the cat sat on the mat / the cat is on the mat: LCS = the cat on the mat = 5; F = 2·5/(6+6).
    expect(rougeL("the cat sat on the mat", "the cat is on the mat").fmeasure).toBeCloseTo(10 / 12, 12);
    // target 3 tokens, prediction 2: P = 2/2, R = 2/3, F = 2·1·(2/3)/(1 + 2/3) = 0.8.
    expect(rougeL("the cat sat", "the cat")).toEqual({ precision: 1, recall: 2 / 3, fmeasure: expect.closeTo(0.8, 12) });
    expect(rougeL("a b c d", "d c b a").fmeasure).toBeCloseTo(0.25, 12);
    expect(rougeL("Tom has 5 apples.", "tom HAS 5 apples!!").fmeasure).toBe(1);
    expect(rougeL("!!!", "anything").fmeasure).toBe(0);
  });
  it("finds near-copies at F ≥ 0.95 and only those", () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i}`);
    const index = new RougeLIndex([words.join(" ")]);
    const oneChanged = [...words.slice(0, 19), "other"].join(" "); // LCS 19 of 20+20: F = 0.95
    expect(index.findNearCopy(oneChanged, 0.95)?.fmeasure).toBeCloseTo(0.95, 12);
    const oneAdded = [...words, "extra"].join(" "); // LCS 20 of 20+21: F = 40/41
    expect(index.findNearCopy(oneAdded, 0.95)?.fmeasure).toBeCloseTo(40 / 41, 12);
    const twoChanged = [...words.slice(0, 18), "x", "y"].join(" "); // F = 0.9
    expect(index.findNearCopy(twoChanged, 0.95)).toBeUndefined();
    expect(index.findNearCopy(twoChanged, 0.9)?.fmeasure).toBeCloseTo(0.9, 12);
  });
  it("agrees with brute force on many random pairs (the pruning never skips a match)", () => {
    let state = 12345;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const sentence = () => Array.from({ length: 8 + Math.floor(random() * 8) }, () => `t${Math.floor(random() * 6)}`).join(" ");
    const existing = Array.from({ length: 300 }, sentence);
    const index = new RougeLIndex(existing);
    for (let q = 0; q < 100; q++) {
      const query = random() < 0.5 ? existing[Math.floor(random() * 300)]!.replace(/t\d$/, "t9") : sentence();
      for (const threshold of [0.7, 0.95]) {
        const brute = existing.some((e) => rougeL(query, e).fmeasure >= threshold - 1e-12);
        expect(index.findNearCopy(query, threshold) !== undefined).toBe(brute);
      }
    }
  });
});

describe("augmentFilter: parse → validate → verify → dedup, with counts and provenance", () => {
  const gsm8k = resolveTask("gsm8k");
  it("keeps good math examples with provenance and counts every drop by reason", () => {
    const wrongMath = "Question 1: Lily has 3 bags of 20 marbles and gives away 5. How many marbles does she have now?\nAnswer: 3 * 20 = 70 marbles. 70 - 5 = 65.\n#### 65";
    const wrongFinal = "Question 1: A farmer has 12 cows and buys 8 more cows. How many cows does he have?\nAnswer: 12 + 8 = 20 cows.\n#### 21";
    const noHash = "Question 1: Ken runs 3 miles each day for 4 days. How far does he run?\nAnswer: 3 * 4 = 12 miles.";
    const copy = `Question 1: ${seed.question}\nAnswer: 100 / 2 = 50. 15 * 2 = 30. 100 - 50 - 30 - 15 = 5.\n#### 5`;
    const nearCopy = `Question 1: ${seed.question.replace("wallet", "purse")}\nAnswer: 100 / 2 = 50. 15 * 2 = 30. 100 - 50 - 30 - 15 = 5.\n#### 5`;
    const result = augmentFilter(
      [
        output(paperStyle),
        output(wrongMath),
        output(wrongFinal),
        output(noHash),
        output(copy),
        output(nearCopy),
        output(`${paperStyle}\n\n3. Question: Mia buys 4 packs of 6 pencils. How many penc`, { truncated: true }),
        output("ersatz ersatz ##!! lorem"),
        output("", { error: "HTTP 500 after 3 tries" }),
      ],
      { task: gsm8k, existingQuestions: [seed.question] },
    );
    expect(result.kept.map((e) => e.answer.split("\n").at(-1))).toEqual(["#### 40", "#### 80"]);
    expect(result.kept[0]!.provenance).toEqual({ sourceId: "train-3", ...provenance });
    expect(result.kept[0]!.id).toMatch(/^train-3~it1-[0-9a-f]{10}$/);
    expect(result.dropped).toEqual({
      "verify:wrong-arithmetic": 1,
      "verify:wrong-final-answer": 1,
      "validate:malformed-answer": 1,
      "validate:copy-of-seed": 1,
      // the first paper-style completion's questions are now "so far", so its repeat is a near-copy too
      "dedup:rouge-l": 3,
      "parse:truncated": 1,
      "parse:no-examples": 1,
      "teacher:error": 1,
    });
    expect(result.notes.find((n) => n.reason === "verify:wrong-arithmetic")?.detail).toMatch(/3 \* 20 = 70/);
  });
  it("classification: labels outside the set are dropped, case is normalised", () => {
    const snips = resolveTask("snips");
    const snipsSeed: Example = { id: "train-9", question: "play the new album by adele", answer: "PlayMusic" };
    const result = augmentFilter(
      [
        {
          seed: snipsSeed,
          format: "free-text",
          provenance,
          text: "Question 1: put on some jazz by miles davis\nIntent 1: playmusic\nQuestion 2: order me a large pizza\nIntent 2: OrderPizza\nQuestion 3: play the new album by adele\nIntent 3: PlayMusic",
        },
        { seed: snipsSeed, format: "json", provenance, text: '{"examples":[{"question":"will it rain in paris tomorrow","answer":"GetWeather"},{"question":"hm","answer":"GetWeather"}]}' },
        { seed: snipsSeed, format: "json", provenance, text: '{"examples":[{"question":"truncated json' },
      ],
      { task: snips, existingQuestions: [snipsSeed.question] },
    );
    expect(result.kept.map((e) => [e.question, e.answer])).toEqual([
      ["put on some jazz by miles davis", "PlayMusic"],
      ["will it rain in paris tomorrow", "GetWeather"],
    ]);
    expect(result.dropped).toEqual({ "validate:label-not-in-set": 1, "validate:copy-of-seed": 1, "validate:too-short": 1, "parse:invalid-json": 1 });
  });
  it("multiple choice: the answer becomes a letter; keeps at most k per seed", () => {
    const casehold = resolveTask("casehold");
    const mcSeed: Example = { id: "c-1", question: "The court held that the contract was void because", choices: ["a1", "b1", "c1", "d1", "e1"], answer: "A" };
    const item = (q: string, answer: unknown) => ({ question: q, choices: ["holding one", "holding two", "holding three", "holding four", "holding five"], answer });
    const text = JSON.stringify({ examples: [item("The court found that the lease was unenforceable since", "(c)"), item("The appellate court reasoned that the statute applied because", 1), item("The judge ruled that the warranty was breached as a result of the defect", "F")] });
    const result = augmentFilter([{ seed: mcSeed, format: "json", provenance, text }], { task: casehold, existingQuestions: [], maxPerSeed: 1 });
    expect(result.kept.map((e) => e.answer)).toEqual(["C"]);
    expect(result.dropped).toEqual({ "limit:beyond-k": 1, "validate:malformed-answer": 1 });
  });
});

describe.skipIf(skipWithout("datasets"))("the verifier on GSM8K's own gold rationales", () => {
  it("accepts at least 99% of them (what it rejects are mostly errors in the gold data)", () => {
    const lines = readFileSync(path.join(datasetsDir, "gsm8k/train.jsonl"), "utf8").trim().split("\n");
    const rejected = lines.filter((line) => verifyMathAnswer(JSON.parse(line).answer).failure !== undefined);
    expect(rejected.length / lines.length).toBeLessThan(0.01);
  });
});
