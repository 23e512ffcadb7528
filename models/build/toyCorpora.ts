/**
 * What the toy models read, from the committed toy datasets (datasets/README.md): the unlabelled pools
 * (pretraining text) and the teacher pairs (a solved example and a similar solved example of the same
 * skill or intent). Every bad line is a DataFormatError naming the file and line.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DataFormatError } from "../../src/errors.js";

export const toyTasks = ["toy-math", "toy-intents"] as const;
export type ToyTask = (typeof toyTasks)[number];

/** A teacher pair in task terms: question and answer (for intents: text and label). */
export interface TeacherPair {
  task: ToyTask;
  /** The skill (toy-math) or intent (toy-intents) both examples share. */
  kind: string;
  source: { question: string; answer: string };
  similar: { question: string; answer: string };
  line: number;
}

function readJsonl(file: string): { value: Record<string, unknown>; line: number }[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((text, i) => ({ text, line: i + 1 }))
    .filter((l) => l.text.trim() !== "")
    .map(({ text, line }) => {
      try {
        return { value: JSON.parse(text) as Record<string, unknown>, line };
      } catch (error) {
        throw new DataFormatError(file, line, `not valid JSON: ${(error as Error).message}`);
      }
    });
}

function text(file: string, line: number, value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw new DataFormatError(file, line, `field "${field}": expected a non-empty string`);
  return value;
}

/** The `text` of every pool row, in file order. */
export function readPool(datasetsDir: string, task: ToyTask): string[] {
  const file = path.join(datasetsDir, task, "pool.jsonl");
  return readJsonl(file).map(({ value, line }) => text(file, line, value.text, "text"));
}

export function readTeacherPairs(datasetsDir: string, task: ToyTask): TeacherPair[] {
  const file = path.join(datasetsDir, task, "teacher.jsonl");
  const math = task === "toy-math";
  return readJsonl(file).map(({ value, line }) => {
    const side = (name: "source" | "similar") => {
      const o = (value[name] ?? {}) as Record<string, unknown>;
      return math
        ? { question: text(file, line, o.question, `${name}.question`), answer: text(file, line, o.answer, `${name}.answer`) }
        : { question: text(file, line, o.text, `${name}.text`), answer: text(file, line, o.label, `${name}.label`) };
    };
    return { task, kind: text(file, line, math ? value.skill : value.label, math ? "skill" : "label"), source: side("source"), similar: side("similar"), line };
  });
}
