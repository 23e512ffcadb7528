/**
 * The run directory (DESIGN.md §8):
 *   runs/<name>/config.json, events.jsonl, metrics.json, report.html, report.md
 *   runs/<name>/iterations/<t>/{train.jsonl, adapter.gguf, eval-seed.jsonl, eval-test.jsonl, augmented.jsonl, metrics.json}
 * Every file is written atomically, so "the file exists" means "the stage finished": that is what resume reads.
 */
import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { writeJsonAtomic, writeJsonlAtomic } from "../util/atomicWrite.js";

export type IterationFile = "train.jsonl" | "adapter.gguf" | "eval-seed.jsonl" | "eval-train.jsonl" | "eval-test.jsonl" | "augmented.jsonl" | "augment-drops.json" | "augment-rounds.json" | "metrics.json";

export class RunDirectory {
  constructor(readonly root: string) {}

  get configPath(): string {
    return path.join(this.root, "config.json");
  }
  get metricsPath(): string {
    return path.join(this.root, "metrics.json");
  }
  get eventsPath(): string {
    return path.join(this.root, "events.jsonl");
  }

  iterationDir(t: number): string {
    return path.join(this.root, "iterations", String(t));
  }

  file(t: number, name: IterationFile): string {
    return path.join(this.iterationDir(t), name);
  }

  has(t: number, name: IterationFile): boolean {
    return existsSync(this.file(t, name));
  }

  async create(): Promise<void> {
    await mkdir(path.join(this.root, "iterations"), { recursive: true });
    await this.removeLeftoverTemporaries();
  }

  /** A killed writer leaves only hidden `.<name>.<hex>.tmp` files behind; they are never read, only removed. */
  private async removeLeftoverTemporaries(): Promise<void> {
    const dirs = [this.root, ...(await this.iterationNumbers()).map((t) => this.iterationDir(t))];
    for (const dir of dirs) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        if (name.startsWith(".") && name.endsWith(".tmp")) await rm(path.join(dir, name), { force: true });
      }
    }
  }

  async iterationNumbers(): Promise<number[]> {
    const names = await readdir(path.join(this.root, "iterations")).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  async readJson<T>(file: string): Promise<T> {
    return JSON.parse(await readFile(file, "utf8")) as T;
  }

  async readJsonl<T>(file: string): Promise<T[]> {
    const text = await readFile(file, "utf8");
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as T);
  }

  writeJson(file: string, value: unknown): Promise<void> {
    return writeJsonAtomic(file, value);
  }

  writeJsonl(file: string, rows: Iterable<unknown>): Promise<void> {
    return writeJsonlAtomic(file, rows);
  }

  /** Appends one event line; the log is append-only and never rewritten. */
  async event(event: Record<string, unknown>): Promise<void> {
    await appendFile(this.eventsPath, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  }
}
