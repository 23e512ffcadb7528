/**
 * Teacher prompts (no model needed): the paper's layout per task kind, free-text vs structured, prompt
 * hashes and per-request seeds; and the worked examples themselves pass the augmentation filters, so the
 * format we show the teacher is the format the parsers read.
 */
import { describe, expect, it } from "vitest";
import { augmentFilter, parseStructured } from "../src/augment/index.js";
import type { Example } from "../src/seams.js";
import { resolveTask } from "../src/tasks/resolveTask.js";
import { augmentationRequest, promptHash } from "../src/teacher/prompts/augmentationRequest.js";
import { requestSeed } from "../src/teacher/requestSeed.js";

const gsm8k = resolveTask("gsm8k");
const snips = resolveTask("snips");
const casehold = resolveTask("casehold");

const mathSeed: Example = {
  id: "train-7",
  question: "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?",
  answer: "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72",
};
const intentSeed: Example = { id: "snips-3", question: "play some jazz by miles davis", answer: "PlayMusic" };
const caseSeed: Example = { id: "case-1", question: "The court held that the statute ...", choices: ["a", "b", "c", "d", "e"], answer: "C" };
const sampling = { temperature: 0.7, topP: 0.9, seed: 5, maxTokens: 256 };

describe("augmentation requests follow the paper's prompt", () => {
  it("math: system prompt, one worked example, then the seed with its answer key and 'generate k similar questions'", () => {
    const { request } = augmentationRequest(gsm8k, mathSeed, { k: 2, structured: false, sampling, iteration: 3 });
    expect(request.system).toContain("Always return your examples in the form:\n1. Question: [QUESTION]\nAnswer: [CALCULATION]\n#### [ANSWER]");
    expect(request.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(request.messages[0]!.content).toContain("Betty is saving money");
    expect(request.messages[1]!.content).toMatch(/1\. Question: .*\nAnswer: .*\n#### 40$/s);
    const last = request.messages[2]!.content;
    expect(last).toContain(`The student was given the following question:\n\n${mathSeed.question}`);
    expect(last).toContain(`The answer key has this as the rationale and answer:\n\n${mathSeed.answer}`);
    expect(last).toMatch(/Please generate 2 similar questions, along with the correct calculations and rationale\.$/);
    expect(last).not.toContain("The student answered");
    expect(request.jsonSchema).toBeUndefined();
    expect(request.id).toBe("it3:train-7:0");
  });

  it("the student's wrong answer is shown only when given", () => {
    const { request } = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling, iteration: 0, studentAnswer: "48 + 48 = 96\n#### 96" });
    expect(request.messages[2]!.content).toContain("The student answered:\n\n48 + 48 = 96\n#### 96\n\nwhich is wrong.");
    expect(request.messages[2]!.content).toMatch(/Please generate 1 similar question, along/);
  });

  it("classification asks for sentences with the seed's label and lists the label set", () => {
    const { request } = augmentationRequest(snips, intentSeed, { k: 3, structured: false, sampling, iteration: 0 });
    expect(request.system).toContain(`exactly one of: ${snips.labels!.join(", ")}`);
    expect(request.messages[2]!.content).toMatch(/Please generate 3 similar sentences with the label PlayMusic\.$/);
  });

  it("multiple choice shows the choices as (A)… lines and the letter as the answer key", () => {
    const { request } = augmentationRequest(casehold, caseSeed, { k: 1, structured: true, sampling, iteration: 0 });
    expect(request.messages[2]!.content).toContain("(A) a\n(B) b\n(C) c\n(D) d\n(E) e");
    expect(request.messages[2]!.content).toContain("The answer key has this as the answer:\n\nC");
    const schema = request.jsonSchema as any;
    expect(schema.properties.examples.items.properties.choices.minItems).toBe(5);
    expect(schema.properties.examples.items.properties.answer.enum).toEqual(["A", "B", "C", "D", "E"]);
  });

  it("structured mode asks for JSON, shows the worked example as JSON, and attaches the schema for k examples", () => {
    const { request, format } = augmentationRequest(snips, intentSeed, { k: 2, structured: true, sampling, iteration: 0 });
    expect(format).toBe("json");
    expect(request.system).toContain("Always return your examples as JSON");
    expect(JSON.parse(request.messages[1]!.content)).toEqual({ examples: [{ question: expect.any(String), answer: "Weather" }] });
    const schema = request.jsonSchema as any;
    expect(schema.properties.examples.minItems).toBe(2);
    expect(schema.properties.examples.items.properties.answer.enum).toEqual(snips.labels);
  });
});

describe("prompt hashes and request seeds", () => {
  it("the prompt hash is the sha256 of the exact prompt: equal prompts, equal hashes; any change, another hash", () => {
    const a = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling, iteration: 0 });
    const b = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling: { ...sampling, temperature: 0 }, iteration: 4 });
    const c = augmentationRequest(gsm8k, mathSeed, { k: 2, structured: false, sampling, iteration: 0 });
    expect(a.promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.promptHash).toBe(a.promptHash);
    expect(c.promptHash).not.toBe(a.promptHash);
    expect(promptHash({ system: a.request.system, messages: [...a.request.messages.slice(0, 2), { role: "user", content: "x" }] })).not.toBe(a.promptHash);
  });

  it("each request's sampling seed comes from the run seed and the request id only", () => {
    expect(requestSeed(5, "it0:a:0")).toBe(requestSeed(5, "it0:a:0"));
    expect(requestSeed(5, "it0:a:0")).not.toBe(requestSeed(6, "it0:a:0"));
    expect(requestSeed(5, "it0:a:0")).not.toBe(requestSeed(5, "it0:a:1"));
    const seeds = Array.from({ length: 200 }, (_, i) => requestSeed(0, `it0:s${i}:0`));
    expect(new Set(seeds).size).toBe(200);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31).toBe(true);
    const first = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling, iteration: 0 });
    const retry = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling, iteration: 0, requestIndex: 1 });
    expect(first.request.sampling.seed).toBe(requestSeed(5, first.request.id));
    expect(retry.request.sampling.seed).not.toBe(first.request.sampling.seed);
  });

  it("without a run seed no request seed is invented", () => {
    const { request } = augmentationRequest(gsm8k, mathSeed, { k: 1, structured: false, sampling: { maxTokens: 10 }, iteration: 0 });
    expect(request.sampling.seed).toBeUndefined();
  });
});

describe("the worked examples are what the filters keep", () => {
  for (const [name, task, seed] of [["math", gsm8k, mathSeed], ["classification", snips, intentSeed], ["multiple choice", casehold, caseSeed]] as const) {
    for (const structured of [false, true]) {
      it(`${name}, ${structured ? "structured" : "free text"}: the worked answer parses, validates and verifies`, () => {
        const built = augmentationRequest(task, seed, { k: 1, structured, sampling, iteration: 0 });
        const worked = built.request.messages[1]!.content;
        if (structured) expect(parseStructured(worked).ok).toBe(true);
        // The classification example's own label (Weather) is outside SNIPS's set: that drop is the filter working.
        const result = augmentFilter([{ seed, text: worked, format: built.format, provenance: { iteration: 0, teacherId: "t", promptHash: built.promptHash, sampling } }], {
          task: name === "classification" ? resolveTask("classification", { labels: ["Weather", "PlayMusic"] }) : task,
          existingQuestions: [seed.question],
        });
        expect(result.dropped).toEqual({});
        expect(result.kept).toHaveLength(1);
        expect(result.kept[0]!.provenance).toMatchObject({ sourceId: seed.id, promptHash: built.promptHash });
      });
    }
  }
});

describe("compact prompt style (small teachers trained on the request turn alone)", () => {
  it("sends only the request turn, with the same text as the paper style's last turn", () => {
    const task = resolveTask("gsm8k");
    const seed = { id: "s1", question: "Tom has 3 apples and buys 4 more. How many apples does he have?", answer: "3 + 4 = 7\n#### 7" };
    const options = { k: 2, structured: true, sampling: { maxTokens: 64, seed: 1 }, iteration: 0 };
    const paper = augmentationRequest(task, seed, options);
    const compact = augmentationRequest(task, seed, { ...options, promptStyle: "compact" });
    expect(compact.request.system).toBeUndefined();
    expect(compact.request.messages).toEqual([paper.request.messages.at(-1)]);
    expect(compact.request.jsonSchema).toEqual(paper.request.jsonSchema);
    expect(compact.promptHash).not.toBe(paper.promptHash);
  });
});

describe("a retry continues the conversation with the kept examples (the official encode_prompt(current_keep))", () => {
  const other: Record<string, Example> = {
    math: { id: "x", question: "Tom has 3 boxes of 4 pens. How many pens does he have?", answer: "3 * 4 = 12\n#### 12" },
    classification: { id: "x", question: "put on something by nina simone", answer: "PlayMusic" },
    "multiple choice": { id: "x", question: "The court found that the lease ...", choices: ["v", "w", "x", "y", "z"], answer: "B" },
  };
  for (const [name, task, seed] of [["math", gsm8k, mathSeed], ["classification", snips, intentSeed], ["multiple choice", casehold, caseSeed]] as const) {
    for (const structured of [false, true]) {
      it(`${name}, ${structured ? "structured" : "free text"}: the earlier answer is the kept examples, parseable, then "generate N more, different"`, () => {
        const earlier = [seed];
        const built = augmentationRequest(task, other[name]!, { k: 3, structured, sampling, iteration: 0, requestIndex: 2, earlier });
        const messages = built.request.messages;
        expect(messages.at(-3)!.content).toMatch(/Please generate 1 similar/);
        expect(messages.at(-1)!.content).toMatch(/^Now generate 3 more \w+ .*different from the ones you just generated/);
        expect(built.request.id).toBe("it0:x:2");
        const result = augmentFilter([{ seed: other[name]!, text: messages.at(-2)!.content, format: built.format, provenance: { iteration: 0, teacherId: "t", promptHash: built.promptHash, sampling } }], {
          task,
          existingQuestions: [],
        });
        expect(result.kept.map((e) => e.question)).toEqual([seed.question]);
      });
    }
  }
});
