/**
 * `npm run bench -- <name> [--json] [options]`: runs benchmarks/<name>.ts, prints its table, and
 * writes benchmarks/results/<name>.json. With --json the table goes to stderr and stdout holds only
 * the result object, on one line (so the last stdout line is the JSON).
 *
 * A benchmark module default-exports a `Benchmark`: `run` measures and returns the result object
 * (which names the machine, see machine.ts), `table` turns it into rows for people.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface BenchmarkResult {
  results: object[];
  machine: object;
  [field: string]: unknown;
}

export interface Benchmark<R extends BenchmarkResult = BenchmarkResult> {
  description: string;
  /** `args`: the command line after the benchmark's name, --json removed. Progress goes to `log`. */
  run(args: string[], log: (line: string) => void): Promise<R>;
  table(result: R): { header: string[]; rows: (string | number)[][] };
}

const benchmarksDir = path.dirname(fileURLToPath(import.meta.url));

function available(): string[] {
  return readdirSync(benchmarksDir)
    .filter((f) => f.endsWith(".ts") && !["main.ts", "machine.ts", "peers.ts"].includes(f) && !f.endsWith(".d.ts"))
    .map((f) => f.replace(/\.ts$/, ""));
}

function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padStart(widths[c]!)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const [name, ...rest] = argv.filter((a) => a !== "--json");
  const names = available();
  if (!name || !names.includes(name)) {
    process.stderr.write(`usage: npm run bench -- <name> [--json]\nbenchmarks: ${names.join(", ") || "(none)"}\n`);
    return 2;
  }
  const module = (await import(pathToFileURL(path.join(benchmarksDir, `${name}.ts`)).href)) as { default: Benchmark };
  const benchmark = module.default;
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`${name}: ${benchmark.description}`);
  // Made before the run: a benchmark may write files of its own there (ablations' plot).
  const resultsDir = path.join(benchmarksDir, "results");
  mkdirSync(resultsDir, { recursive: true });
  const result = await benchmark.run(rest, log);

  const file = path.join(resultsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);

  const { header, rows } = benchmark.table(result);
  log(formatTable(header, rows));
  log(`written: ${path.relative(process.cwd(), file)}`);
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
