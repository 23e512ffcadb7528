/**
 * Reads a dataset file into plain records, each with the line it came from: JSONL (one object a line),
 * a JSON array (or an object holding one under `data` / `examples` / `train`), or CSV / TSV with a header.
 * Malformed input is a DataFormatError naming the file and line.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { DataFormatError, MissingFileError } from "../errors.js";

export type FileFormat = "jsonl" | "json" | "csv" | "tsv";

export interface SourceRecord {
  /** 1-based line in the file where the record starts (JSON arrays: its 1-based index). */
  line: number;
  /** 1-based position among the file's records: the stable part of an example id. */
  ordinal: number;
  fields: Record<string, unknown>;
}

export interface RecordFile {
  file: string;
  format: FileFormat;
  records: SourceRecord[];
}

export function formatOf(file: string): FileFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".json") return "json";
  if (ext === ".csv") return "csv";
  if (ext === ".tsv") return "tsv";
  throw new DataFormatError(file, undefined, `unknown file type "${ext || "(none)"}": expected .jsonl, .json, .csv or .tsv`);
}

export async function readRecords(file: string): Promise<RecordFile> {
  const format = formatOf(file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new MissingFileError(file, "data file");
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text.trim()) throw new DataFormatError(file, undefined, "empty file: no records");
  const records = format === "jsonl" ? jsonlRecords(file, text) : format === "json" ? jsonRecords(file, text) : csvRecords(file, text, format);
  if (records.length === 0) throw new DataFormatError(file, undefined, "empty file: no records");
  return { file, format, records };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonlRecords(file: string, text: string): SourceRecord[] {
  const records: SourceRecord[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DataFormatError(file, i + 1, `not valid JSON (${(error as Error).message}); expected one JSON object per line`);
    }
    if (!isPlainObject(value)) throw new DataFormatError(file, i + 1, `expected a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`);
    records.push({ line: i + 1, ordinal: records.length + 1, fields: value });
  }
  return records;
}

function jsonRecords(file: string, text: string): SourceRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(file, undefined, `not valid JSON (${(error as Error).message})${text.trimStart().startsWith("{") ? "; if this is JSON Lines, name it .jsonl" : ""}`);
  }
  const list = Array.isArray(value) ? value : isPlainObject(value) ? (value.data ?? value.examples ?? value.train) : undefined;
  if (!Array.isArray(list)) {
    throw new DataFormatError(file, undefined, 'expected a JSON array of objects (or an object with a "data", "examples" or "train" array)');
  }
  return list.map((item, i) => {
    if (!isPlainObject(item)) throw new DataFormatError(file, undefined, `record ${i + 1}: expected a JSON object, got ${typeof item}`);
    return { line: i + 1, ordinal: i + 1, fields: item };
  });
}

function csvRecords(file: string, text: string, format: "csv" | "tsv"): SourceRecord[] {
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parseCsv(text, {
      columns: (header: string[]) => header.map((h) => h.trim()),
      delimiter: format === "tsv" ? "\t" : ",",
      skip_empty_lines: true,
      relax_quotes: format === "tsv",
      info: true,
    }) as typeof rows;
  } catch (error) {
    const err = error as Error & { lines?: number };
    throw new DataFormatError(file, err.lines, `not valid ${format.toUpperCase()}: ${err.message}`);
  }
  // csv-parse counts the line a record ends on; a data row's ordinal is its index after the header.
  return rows.map((row, i) => ({ line: row.info.lines, ordinal: i + 1, fields: row.record }));
}
