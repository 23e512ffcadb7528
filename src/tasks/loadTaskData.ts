/**
 * A data file read for a task: with `--task`, the task's kind, labels, label words and field mapping drive
 * the loader; without it, the loader detects the kind and the task is built from what it found.
 */
import type { Dataset } from "../data/loadDataset.js";
import { loadDataset } from "../data/loadDataset.js";
import type { FieldMapping } from "../data/fieldMapping.js";
import { buildTask, taskSpecFor } from "./resolveTask.js";
import type { TaskDefinition } from "./types.js";

export interface TaskData {
  task: TaskDefinition;
  dataset: Dataset;
}

export async function loadTaskData(file: string, taskName?: string, fields?: FieldMapping): Promise<TaskData> {
  if (!taskName) {
    const dataset = await loadDataset(file, { fields });
    return { task: buildTask({ name: dataset.kind, kind: dataset.kind }, { labels: dataset.labels, choiceCount: dataset.choiceCount }), dataset };
  }
  const spec = taskSpecFor(taskName);
  const dataset = await loadDataset(file, {
    fields: { ...spec.fields, ...definedOnly(fields) },
    kind: spec.kind,
    labels: spec.labels,
    labelWords: spec.labelWords,
  });
  return { task: buildTask(spec, { labels: dataset.labels, choiceCount: dataset.choiceCount }), dataset };
}

function definedOnly(fields: FieldMapping | undefined): FieldMapping {
  return Object.fromEntries(Object.entries(fields ?? {}).filter(([, v]) => v !== undefined)) as FieldMapping;
}
