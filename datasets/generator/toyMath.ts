/**
 * toy-math: GSM8K-shaped word problems a tiny model can learn. Six skills (one-step add, subtract,
 * multiply, compare; two-step buy-then-give and groups-plus-extra), each with a few phrasings. Every
 * number a question states is one digit, 2..9, except the larger count of a subtraction or comparison
 * (up to 18, what an addition of two such numbers gives) and the groups of a multiplication (2..5): every
 * step is then one of ~400 small facts the pool states again and again, so a 1M-parameter model learns them.
 *
 * Answers are GSM8K's format without the prose: one `a op b = c` line per step, then `#### N`.
 */
import type { Rng } from "./prng.js";
import type { Kind, Phrasing } from "./splits.js";

export interface MathExample {
  question: string;
  answer: string;
}

const NAMES = ["Mia", "Tom", "Ava", "Leo", "Sam", "Zoe", "Ben", "Lily", "Max", "Emma", "Noah", "Ella", "Jack", "Ruby", "Omar", "Nina"];
const OBJECTS = ["apples", "pencils", "stickers", "marbles", "cookies", "books", "shells", "cards", "eggs", "balloons", "stamps", "oranges", "crayons", "coins", "beads", "toy cars"];
/** [plural, singular] containers for the multiplication skills. */
const CONTAINERS: readonly (readonly [string, string])[] = [
  ["bags", "bag"],
  ["boxes", "box"],
  ["packs", "pack"],
  ["jars", "jar"],
  ["baskets", "basket"],
  ["plates", "plate"],
];
const PLACES = ["on the table", "in the basket", "on the shelf", "in the box", "in the classroom"];

type Op = "+" | "-" | "*";

/** A count a question states: one digit. */
const digit = (rng: Rng) => rng.int(2, 9);
/** The number of groups in a multiplication: small, so products stay few. */
const groups = (rng: Rng) => rng.int(2, 5);
/** Larger and smaller count of a subtraction: the larger up to 18, the smaller one digit below it. */
function difference(rng: Rng): [number, number] {
  const a = rng.int(3, 18);
  return [a, rng.int(2, Math.min(9, a - 1))];
}

function apply(a: number, op: Op, b: number): number {
  return op === "+" ? a + b : op === "-" ? a - b : a * b;
}

/** The rationale: `a op b = c` per step, the next step starting from the last result where chained. */
function solve(steps: [number, Op, number][]): string {
  const lines = steps.map(([a, op, b]) => `${a} ${op} ${b} = ${apply(a, op, b)}`);
  const [a, op, b] = steps[steps.length - 1]!;
  return `${lines.join("\n")}\n#### ${apply(a, op, b)}`;
}

/** Shared slot fillers: two different people, an object, a container. */
function slots(rng: Rng) {
  const [A, B] = rng.pickTwo(NAMES);
  const [boxes, box] = rng.pick(CONTAINERS);
  return { A, B, obj: rng.pick(OBJECTS), boxes, box, place: rng.pick(PLACES) };
}

type Slots = ReturnType<typeof slots>;

/** The slot fillers each example was made with, so a similar example can keep them (Phrasing.makeLike). */
const slotsOf = new WeakMap<MathExample, Slots>();

/** Slots are drawn before the numbers, so `make` draws exactly what it drew when phrasings took only rng. */
function phrasing(id: string, build: (rng: Rng, s: Slots) => MathExample, rareInSeed = false): Phrasing<MathExample> {
  const withSlots = (rng: Rng, s: Slots) => {
    const example = build(rng, s);
    slotsOf.set(example, s);
    return example;
  };
  return { id, rareInSeed, make: (rng) => withSlots(rng, slots(rng)), makeLike: (rng, like) => withSlots(rng, slotsOf.get(like) ?? slots(rng)) };
}

const add: Kind<MathExample> = {
  name: "add",
  phrasings: [
    phrasing("add/gets-more", (rng, { A, B, obj }) => {
      const [a, b] = [digit(rng), digit(rng)];
      return { question: `${A} has ${a} ${obj}. ${B} gives ${A} ${b} more ${obj}. How many ${obj} does ${A} have now?`, answer: solve([[a, "+", b]]) };
    }),
    phrasing("add/morning-afternoon", (rng, { A, obj }) => {
      const [a, b] = [digit(rng), digit(rng)];
      return { question: `${A} found ${a} ${obj} in the morning and ${b} ${obj} in the afternoon. How many ${obj} did ${A} find in all?`, answer: solve([[a, "+", b]]) };
    }),
    phrasing("add/together", (rng, { A, B, obj }) => {
      const [a, b] = [digit(rng), digit(rng)];
      return { question: `${A} has ${a} ${obj} and ${B} has ${b} ${obj}. How many ${obj} do they have together?`, answer: solve([[a, "+", b]]) };
    }),
    phrasing("add/puts-in", (rng, { A, obj, place }) => {
      const [a, b] = [digit(rng), digit(rng)];
      return { question: `There are ${a} ${obj} ${place}. ${A} puts ${b} more ${obj} there. How many ${obj} are ${place} now?`, answer: solve([[a, "+", b]]) };
    }, true),
  ],
};

const subtract: Kind<MathExample> = {
  name: "subtract",
  phrasings: [
    phrasing("subtract/gives-away", (rng, { A, B, obj }) => {
      const [a, b] = difference(rng);
      return { question: `${A} has ${a} ${obj}. ${A} gives ${b} ${obj} to ${B}. How many ${obj} does ${A} have left?`, answer: solve([[a, "-", b]]) };
    }),
    phrasing("subtract/loses", (rng, { A, obj }) => {
      const [a, b] = difference(rng);
      return { question: `${A} had ${a} ${obj}. ${A} lost ${b} of them. How many ${obj} does ${A} have now?`, answer: solve([[a, "-", b]]) };
    }),
    phrasing("subtract/takes-from", (rng, { A, obj, place }) => {
      const [a, b] = difference(rng);
      return { question: `There are ${a} ${obj} ${place}. ${A} takes ${b} of them away. How many ${obj} are still ${place}?`, answer: solve([[a, "-", b]]) };
    }, true),
  ],
};

const multiply: Kind<MathExample> = {
  name: "multiply",
  phrasings: [
    phrasing("multiply/each-has", (rng, { A, obj, boxes, box }) => {
      const [a, b] = [groups(rng), digit(rng)];
      return { question: `${A} has ${a} ${boxes}. Each ${box} has ${b} ${obj}. How many ${obj} does ${A} have in all?`, answer: solve([[a, "*", b]]) };
    }),
    phrasing("multiply/buys-packs", (rng, { A, obj, boxes, box }) => {
      const [a, b] = [groups(rng), digit(rng)];
      return { question: `${A} buys ${a} ${boxes} of ${obj}. There are ${b} ${obj} in each ${box}. How many ${obj} did ${A} buy?`, answer: solve([[a, "*", b]]) };
    }),
    phrasing("multiply/rows", (rng, { A, obj }) => {
      const [a, b] = [groups(rng), digit(rng)];
      return { question: `${A} puts ${obj} in ${a} rows with ${b} ${obj} in each row. How many ${obj} are there in total?`, answer: solve([[a, "*", b]]) };
    }, true),
  ],
};

const compare: Kind<MathExample> = {
  name: "compare",
  phrasings: [
    phrasing("compare/more", (rng, { A, B, obj }) => {
      const [a, b] = difference(rng);
      return { question: `${A} has ${a} ${obj}. ${B} has ${b} ${obj}. How many more ${obj} does ${A} have than ${B}?`, answer: solve([[a, "-", b]]) };
    }),
    phrasing("compare/than-first", (rng, { A, B, obj }) => {
      const [a, b] = difference(rng);
      return { question: `${B} has ${b} ${obj} and ${A} has ${a} ${obj}. How many more ${obj} does ${A} have than ${B}?`, answer: solve([[a, "-", b]]) };
    }),
    // The smaller count comes first, and the question asks "fewer": the step still subtracts smaller from larger.
    phrasing("compare/fewer", (rng, { A, B, obj }) => {
      const [a, b] = difference(rng);
      return { question: `${A} has ${b} ${obj}. ${B} has ${a} ${obj}. How many fewer ${obj} does ${A} have than ${B}?`, answer: solve([[a, "-", b]]) };
    }, true),
  ],
};

const buyThenGive: Kind<MathExample> = {
  name: "buy_then_give",
  phrasings: [
    phrasing("buy_then_give/buys-gives", (rng, { A, B, obj }) => {
      const [a, b] = [digit(rng), digit(rng)];
      const c = rng.int(2, Math.min(9, a + b - 1));
      return { question: `${A} has ${a} ${obj}. ${A} buys ${b} more ${obj}. Then ${A} gives ${c} ${obj} to ${B}. How many ${obj} does ${A} have now?`, answer: solve([[a, "+", b], [a + b, "-", c]]) };
    }),
    phrasing("buy_then_give/gets-loses", (rng, { A, B, obj }) => {
      const [a, b] = [digit(rng), digit(rng)];
      const c = rng.int(2, Math.min(9, a + b - 1));
      return { question: `${A} had ${a} ${obj}. ${B} gave ${A} ${b} more. Later ${A} lost ${c} of them. How many ${obj} does ${A} have left?`, answer: solve([[a, "+", b], [a + b, "-", c]]) };
    }, true),
  ],
};

const groupsPlusExtra: Kind<MathExample> = {
  name: "groups_plus_extra",
  phrasings: [
    phrasing("groups_plus_extra/boxes-and-extra", (rng, { A, obj, boxes, box }) => {
      const [a, b, c] = [groups(rng), digit(rng), digit(rng)];
      return { question: `${A} has ${a} ${boxes} with ${b} ${obj} in each ${box}, and ${c} extra ${obj}. How many ${obj} does ${A} have in total?`, answer: solve([[a, "*", b], [a * b, "+", c]]) };
    }),
    phrasing("groups_plus_extra/buys-then-gets", (rng, { A, B, obj, boxes, box }) => {
      const [a, b, c] = [groups(rng), digit(rng), digit(rng)];
      return { question: `${A} buys ${a} ${boxes} of ${obj}. Each ${box} holds ${b} ${obj}. ${B} gives ${A} ${c} more ${obj}. How many ${obj} does ${A} have now?`, answer: solve([[a, "*", b], [a * b, "+", c]]) };
    }, true),
  ],
};

export const MATH_SKILLS: readonly Kind<MathExample>[] = [add, subtract, multiply, compare, buyThenGive, groupsPlusExtra];

/**
 * Every `a op b = c` fact a toy-math answer can contain, once each, in a fixed order: the arithmetic the
 * student learns from the pool before it ever sees a worked solution.
 */
export function arithmeticFacts(): string[] {
  const facts = new Set<string>();
  const fact = (a: number, op: Op, b: number) => facts.add(`${a} ${op} ${b} = ${apply(a, op, b)}`);
  for (let a = 2; a <= 9; a++) for (let b = 2; b <= 9; b++) fact(a, "+", b); // add, first step of buy_then_give
  for (let a = 3; a <= 18; a++) for (let b = 2; b <= Math.min(9, a - 1); b++) fact(a, "-", b); // subtract, compare, second step of buy_then_give
  for (let a = 2; a <= 5; a++) for (let b = 2; b <= 9; b++) fact(a, "*", b); // multiply
  for (let a = 2; a <= 5; a++) for (let b = 2; b <= 9; b++) for (let c = 2; c <= 9; c++) fact(a * b, "+", c); // groups_plus_extra
  return [...facts];
}

/**
 * A question read back as its numbers, in order ("The numbers in this story are 7, 3 and 5."): plain
 * language about the question that a reader of the pool learns to write — copying numbers out of a
 * question, which the rationale needs — without any operation or result.
 */
export function numbersSentence(question: string): string {
  const numbers = question.match(/\d+/g) ?? [];
  const list = numbers.length > 1 ? `${numbers.slice(0, -1).join(", ")} and ${numbers.at(-1)}` : (numbers[0] ?? "none");
  return `The numbers in this story are ${list}.`;
}
