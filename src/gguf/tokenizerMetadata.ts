/**
 * The tokenizer of an existing GGUF (every `tokenizer.*` key) as entries ready for `writeGguf`, each with the
 * type llama.cpp expects, so a model this project writes tokenizes exactly as the source file does.
 */
import { readGgufFileInfo } from "node-llama-cpp";
import { GgufFormatError } from "../errors.js";
import { checkGgufFile } from "./headerCheck.js";
import { flattenMetadata } from "./metadataFlatten.js";
import { ggufMetadataEntry, type GgufMetadataEntry } from "./metadataTypes.js";

export async function tokenizerMetadataFrom(ggufPath: string): Promise<GgufMetadataEntry[]> {
  await checkGgufFile(ggufPath);
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(ggufPath, { readTensorInfo: false, logWarnings: false, spliceSplitFiles: false, sourceType: "filesystem" });
  } catch (error) {
    throw new GgufFormatError(ggufPath, `node-llama-cpp could not read its metadata: ${error instanceof Error ? error.message : String(error)}`);
  }
  const flat = flattenMetadata(info.metadata as unknown as Record<string, unknown>);
  const entries = Object.entries(flat)
    .filter(([key]) => key.startsWith("tokenizer."))
    .map(([key, value]) => ggufMetadataEntry(key, value));
  if (!entries.some((e) => e.key === "tokenizer.ggml.model")) throw new GgufFormatError(ggufPath, "it has no tokenizer (no tokenizer.ggml.model key)");
  return entries;
}
