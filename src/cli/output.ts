/**
 * Output rules shared by every command: with --json, stdout carries exactly one JSON object and nothing else
 * (human text goes to stderr); without it, a person reads stdout.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Human-readable text: to stdout normally, to stderr when stdout is reserved for JSON. */
export function say(json: boolean | undefined, text: string): void {
  (json ? process.stderr : process.stdout).write(`${text}\n`);
}

export const jsonOption = {
  json: { type: "boolean", default: false, describe: "print one JSON object on stdout and nothing else there" },
} as const;
