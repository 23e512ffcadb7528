/**
 * No import cycle inside src/pipeline (type imports included): observer.ts once imported the loop for its
 * metrics type while the loop imported the observer. `npx madge --circular --extensions ts src/pipeline`
 * says the same with more detail; this test needs no extra package.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "./fixtures.js";

const pipelineDir = path.join(repoRoot, "src/pipeline");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? tsFiles(full) : entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Each file's relative imports that land inside src/pipeline (`import … from "./x.js"`, `export … from`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(pipelineDir)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)\.js"/gms)]
      .map((m) => path.resolve(path.dirname(file), `${m[1]}.ts`))
      .filter((target) => target.startsWith(pipelineDir + path.sep));
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as a list of paths relative to src/pipeline. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push(stack.slice(stack.indexOf(next)).map((f) => path.relative(pipelineDir, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

it("src/pipeline has no import cycle", () => {
  const graph = importGraph();
  expect(graph.size).toBeGreaterThan(10);
  expect(graph.get(path.join(pipelineDir, "loop.ts"))).toContain(path.join(pipelineDir, "augmentStage.ts")); // the parser sees imports
  expect(cycles(graph)).toEqual([]);
});
