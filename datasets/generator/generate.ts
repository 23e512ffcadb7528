/**
 * `npm run build:datasets [-- --out DIR]`: writes the toy tasks into DIR (default: this repository's
 * datasets/ folder). Deterministic: the committed files are exactly what this writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildToyDatasets } from "./buildTasks.js";

export const datasetsRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Writes every file; returns their paths. */
export function writeToyDatasets(outDir: string): string[] {
  const written: string[] = [];
  for (const [task, files] of Object.entries(buildToyDatasets())) {
    mkdirSync(path.join(outDir, task), { recursive: true });
    for (const file of files) {
      const target = path.join(outDir, task, file.name);
      writeFileSync(target, file.content);
      written.push(target);
    }
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outFlag = process.argv.indexOf("--out");
  const outDir = outFlag >= 0 && process.argv[outFlag + 1] ? path.resolve(process.argv[outFlag + 1]!) : datasetsRoot;
  for (const file of writeToyDatasets(outDir)) process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
