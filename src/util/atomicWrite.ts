/**
 * Crash-safe file writes: write to a temporary name beside the target, fsync, then rename. A reader (or a
 * resumed run) sees either the old file or the whole new one, never a half file.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";

/** The temporary name used while writing `target`; hidden and recognisable so leftovers can be cleaned. */
export function temporaryNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Writes `content` to `target` atomically. */
export async function writeFileAtomic(target: string, content: string | Uint8Array): Promise<void> {
  await withAtomicFile(target, async (handle) => {
    await handle.writeFile(content);
  });
}

/** Runs `write` on a handle to a temporary file, then makes it `target`; on failure the target is untouched. */
export async function withAtomicFile<T>(target: string, write: (handle: import("node:fs/promises").FileHandle) => Promise<T>): Promise<T> {
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = temporaryNameFor(target);
  const handle = await open(temporary, "w");
  try {
    const result = await write(handle);
    await handle.sync();
    await handle.close();
    await rename(temporary, target);
    return result;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

export async function writeJsonlAtomic(target: string, rows: Iterable<unknown>): Promise<void> {
  let text = "";
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  await writeFileAtomic(target, text);
}
