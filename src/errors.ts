/**
 * Typed errors. Every error a user can cause by bad input is one of these: it names the file, the line or
 * field, and what was expected, and the CLI turns it into a message and a non-zero exit (no stack trace).
 */
export class Llm2llmError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A GGUF file that cannot be read: bad magic, unsupported version, truncated, hostile sizes. */
export class GgufFormatError extends Llm2llmError {
  constructor(readonly file: string, detail: string) {
    super(`${file}: not a readable GGUF file: ${detail}`);
  }
}

/** A GGUF file that is well formed but holds something this project does not implement. */
export class UnsupportedModelError extends Llm2llmError {
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}

/** A data file (JSONL, JSON, CSV) that cannot be used: names the file and the line or field. */
export class DataFormatError extends Llm2llmError {
  constructor(readonly file: string, readonly line: number | undefined, detail: string) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${detail}`);
  }
}

/** A command-line option or config value that cannot be used. */
export class UsageError extends Llm2llmError {}

/** A file that should exist and does not. */
export class MissingFileError extends Llm2llmError {
  constructor(readonly file: string, what: string) {
    super(`${what} not found: ${file}`);
  }
}

/** A LoRA adapter that does not fit the base model: another architecture, a missing tensor, other shapes. */
export class AdapterMismatchError extends Llm2llmError {
  constructor(readonly adapterFile: string, readonly modelFile: string, detail: string) {
    super(`${adapterFile}: this adapter does not fit the model ${modelFile}: ${detail}`);
  }
}
