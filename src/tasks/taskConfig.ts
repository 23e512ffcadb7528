/**
 * Custom tasks from a JSON file, validated with zod; an error names the file and the key.
 *
 * ```json
 * { "name": "tickets", "kind": "classification", "answerWord": "Queue",
 *   "labels": ["billing", "bug", "account"], "fields": { "input": "body", "label": "queue" } }
 * ```
 * `extends` starts from a preset (`"extends": "trec"`) and overrides what the file sets.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { DataFormatError, MissingFileError } from "../errors.js";
import { PRESETS, TASK_KINDS, type TaskSpec } from "./taskSpec.js";

const fieldName = z.string().min(1);

const taskConfigSchema = z
  .object({
    name: z.string().min(1),
    kind: z.enum(TASK_KINDS as [string, ...string[]]).optional(),
    extends: z.enum(Object.keys(PRESETS) as [string, ...string[]]).optional(),
    promptTemplate: z.string().includes("{question}", { message: "must contain {question}" }).optional(),
    answerWord: z.string().min(1).optional(),
    labels: z
      .array(z.string().min(1))
      .min(2)
      .refine((labels) => new Set(labels).size === labels.length, { message: "labels must be distinct" })
      .optional(),
    labelWords: z.record(z.string(), z.string().min(1)).optional(),
    choiceCount: z.number().int().min(2).max(26).optional(),
    fields: z
      .object({ input: fieldName, output: fieldName, label: fieldName, choices: fieldName, id: fieldName })
      .partial()
      .strict()
      .optional(),
  })
  .strict()
  .refine((config) => config.kind !== undefined || config.extends !== undefined, {
    message: 'set "kind" (math, classification, multiple-choice) or "extends" (a preset)',
    path: ["kind"],
  });

export function loadTaskConfig(file: string): TaskSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new MissingFileError(file, "task config");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(file, undefined, `task config is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = taskConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.length ? issue.path.join(".") : "(top level)";
    const unknown = issue.code === "unrecognized_keys" ? ` ${issue.keys.map((k) => `"${k}"`).join(", ")}` : "";
    throw new DataFormatError(file, undefined, `task config key "${key}": ${issue.message}${unknown}`);
  }
  const { extends: base, ...config } = parsed.data;
  const preset = base ? PRESETS[base] : undefined;
  const kind = (config.kind ?? preset?.kind)! as TaskSpec["kind"];
  if (preset && config.kind && config.kind !== preset.kind) {
    throw new DataFormatError(file, undefined, `task config key "kind": "${config.kind}" contradicts "extends": "${base}" (${preset.kind})`);
  }
  return { ...preset, ...config, kind } as TaskSpec;
}
