/**
 * Training data as {prompt, completion} JSONL, one example per line. Every bad line is a DataFormatError
 * that names the file and the line. Tokenization follows DESIGN.md §3: prompt and completion are tokenized
 * separately and their ids concatenated (+ EOS after the completion), so the loss mask is exact.
 */
import { existsSync, readFileSync } from "node:fs";
import { DataFormatError, MissingFileError, UsageError } from "../../errors.js";
import { UntokenizableTextError } from "../../gguf/vocabularyCoverage.js";

export interface PromptCompletion {
  prompt: string;
  completion: string;
  /** 1-based line in the source file, for messages. */
  line: number;
}

/** What tokenization needs of the student tokenizer (StudentTokenizer has it). */
export interface TrainingTokenizer {
  tokenize(text: string, options?: { addBos?: boolean; continuation?: boolean }): number[];
  readonly eos: number | undefined;
}

/** One tokenized example: ids = prompt ids ++ completion ids ++ [EOS]. */
export interface TokenizedExample {
  ids: number[];
  /** How many leading ids are prompt (never in the loss). */
  promptLength: number;
  line: number;
}

export function readPromptCompletionJsonl(file: string): PromptCompletion[] {
  if (!existsSync(file)) throw new MissingFileError(file, "data file");
  const lines = readFileSync(file, "utf8").split("\n");
  const out: PromptCompletion[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new DataFormatError(file, line, `not valid JSON (${(error as Error).message}); expected one {"prompt": ..., "completion": ...} object per line`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new DataFormatError(file, line, `expected a JSON object with string fields "prompt" and "completion"`);
    }
    const record = value as Record<string, unknown>;
    for (const field of ["prompt", "completion"] as const) {
      if (typeof record[field] !== "string") {
        throw new DataFormatError(file, line, `field "${field}" must be a string, got ${record[field] === undefined ? "nothing" : typeof record[field]}`);
      }
    }
    out.push({ prompt: record.prompt as string, completion: record.completion as string, line });
  });
  if (out.length === 0) throw new DataFormatError(file, undefined, "no examples: expected at least one JSON line with \"prompt\" and \"completion\"");
  return out;
}

/**
 * Tokenizes every example. Examples longer than maxLength tokens are left out and counted (truncating
 * would teach the student half answers); it is an error when none fit.
 */
export function tokenizeExamples(
  examples: readonly PromptCompletion[],
  tokenizer: TrainingTokenizer,
  maxLength: number,
  file = "data",
): { examples: TokenizedExample[]; tooLong: number } {
  if (tokenizer.eos === undefined) throw new UsageError("the model's tokenizer has no EOS token; cannot mark where a completion ends");
  const out: TokenizedExample[] = [];
  let tooLong = 0;
  for (const example of examples) {
    const where = (field: string) => `${file}:${example.line} (field "${field}")`;
    const prompt = withSource(where("prompt"), () => tokenizer.tokenize(example.prompt));
    // Tokenized on its own so the loss mask is exact, as a continuation so the ids are those of prompt + completion.
    const completion = withSource(where("completion"), () => tokenizer.tokenize(example.completion, { addBos: false, continuation: true }));
    const ids = [...prompt, ...completion, tokenizer.eos];
    if (ids.length > maxLength) {
      tooLong += 1;
      continue;
    }
    out.push({ ids, promptLength: prompt.length, line: example.line });
  }
  if (out.length === 0) {
    throw new DataFormatError(file, undefined, `every example is longer than --max-len ${maxLength} tokens; raise --max-len`);
  }
  return { examples: out, tooLong };
}

/** Text outside the vocabulary: the error says which file, line and field it came from. */
function withSource<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw error instanceof UntokenizableTextError ? error.at(where) : error;
  }
}
