/**
 * `--task` → a Task: a kind (`math`, `classification`, `multiple-choice`), a preset named after a dataset
 * (`gsm8k`, `sst2`, `trec`, `snips`, `casehold`) or a JSON config file.
 */
import { existsSync } from "node:fs";
import { UsageError } from "../errors.js";
import { ClassificationTask } from "./classificationTask.js";
import { MathTask } from "./mathTask.js";
import { MultipleChoiceTask } from "./multipleChoiceTask.js";
import { loadTaskConfig } from "./taskConfig.js";
import { isTaskKind, PRESETS, TASK_KINDS, type TaskSpec } from "./taskSpec.js";
import type { TaskDefinition } from "./types.js";

export interface ResolveTaskOptions {
  /** Label set read from the data; used when the task names none. */
  labels?: readonly string[];
  /** Multiple choice: choice count seen in the data; used when the task names none. */
  choiceCount?: number;
}

/** The TaskSpec a `--task` value names, without building the task (no labels needed yet). */
export function taskSpecFor(nameOrKind: string): TaskSpec {
  const preset = PRESETS[nameOrKind.toLowerCase()];
  if (preset) return preset;
  if (isTaskKind(nameOrKind)) return { name: nameOrKind, kind: nameOrKind };
  if (nameOrKind.endsWith(".json") || existsSync(nameOrKind)) return loadTaskConfig(nameOrKind);
  throw new UsageError(
    `unknown task "${nameOrKind}": expected a kind (${TASK_KINDS.join(", ")}), a preset (${Object.keys(PRESETS).join(", ")}) or a task config .json file`,
  );
}

export function buildTask(spec: TaskSpec, options: ResolveTaskOptions = {}): TaskDefinition {
  const common = { name: spec.name, promptTemplate: spec.promptTemplate, answerWord: spec.answerWord };
  switch (spec.kind) {
    case "math":
      return new MathTask(common);
    case "classification": {
      const labels = spec.labels ?? options.labels;
      if (!labels) throw new UsageError(`task ${spec.name}: classification needs a label set, read from the data or given in the task config`);
      return new ClassificationTask({ ...common, labels, labelWords: spec.labelWords });
    }
    case "multiple-choice":
      return new MultipleChoiceTask({ ...common, choiceCount: spec.choiceCount ?? options.choiceCount });
  }
}

/** The factory: `resolveTask("sst2")`, `resolveTask("classification", { labels })`, `resolveTask("my-task.json")`. */
export function resolveTask(nameOrKind: string, options: ResolveTaskOptions = {}): TaskDefinition {
  return buildTask(taskSpecFor(nameOrKind), options);
}
