/**
 * The teacher's id for provenance: sha256 of the model file, streamed (a 7B GGUF is gigabytes, so never read
 * whole). Hashing a large file takes seconds, so results are cached per path + size + mtime for the life of
 * the process: loading the same teacher every iteration costs the hash once.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";

const cache = new Map<string, Promise<string>>();

export async function sha256OfFile(file: string): Promise<string> {
  const resolved = path.resolve(file);
  const info = await stat(resolved);
  const key = `${resolved}\0${info.size}\0${info.mtimeMs}`;
  let hash = cache.get(key);
  if (!hash) {
    hash = streamHash(resolved);
    cache.set(key, hash);
    hash.catch(() => cache.delete(key));
  }
  return hash;
}

function streamHash(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export function sha256OfText(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
