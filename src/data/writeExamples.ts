/**
 * Writes Examples as JSONL, atomically (temporary file + rename), in the shape `loadDataset` detects again
 * for the same kind: math `{id, question, answer}`, classification `{id, text, label}`, multiple choice
 * `{id, question, choices, answer}`; provenance is kept when present.
 */
import type { Example, TaskKind } from "../seams.js";
import { withAtomicFile } from "../util/atomicWrite.js";

export function exampleRecord(example: Example, kind: TaskKind): Record<string, unknown> {
  const base =
    kind === "classification"
      ? { id: example.id, text: example.question, label: example.answer }
      : kind === "multiple-choice"
        ? { id: example.id, question: example.question, choices: example.choices ?? [], answer: example.answer }
        : { id: example.id, question: example.question, answer: example.answer };
  return example.provenance ? { ...base, provenance: example.provenance } : base;
}

export async function writeExamplesJsonl(file: string, examples: Iterable<Example>, kind: TaskKind): Promise<number> {
  let count = 0;
  await withAtomicFile(file, async (handle) => {
    const lines: string[] = [];
    for (const example of examples) {
      lines.push(JSON.stringify(exampleRecord(example, kind)));
      count++;
    }
    await handle.writeFile(lines.length ? `${lines.join("\n")}\n` : "");
  });
  return count;
}
