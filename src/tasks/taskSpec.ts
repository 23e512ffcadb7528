/**
 * A task as plain data: kind, prompt template, answer word, label words. Presets are named after the
 * paper's datasets; a custom task is the same object read from a JSON file.
 */
import type { TaskKind } from "../seams.js";
import type { FieldMapping } from "../data/fieldMapping.js";
import { GSM8K_PROMPT } from "./mathTask.js";
import { MULTIPLE_CHOICE_PROMPT } from "./multipleChoiceTask.js";

export interface TaskSpec {
  name: string;
  kind: TaskKind;
  promptTemplate?: string;
  answerWord?: string;
  /** Closed label set; when absent (classification) it is read from the data. */
  labels?: string[];
  labelWords?: Record<string, string>;
  choiceCount?: number;
  /** How the dataset's fields map to question / answer / label / choices, when detection cannot tell. */
  fields?: FieldMapping;
}

export const TASK_KINDS: readonly TaskKind[] = ["math", "classification", "multiple-choice"];

/** The paper's five datasets; prompt words from the official LLM2LLM `train.py` (`PROMPT_DICT`). */
export const PRESETS: Readonly<Record<string, TaskSpec>> = {
  gsm8k: { name: "gsm8k", kind: "math", promptTemplate: GSM8K_PROMPT, answerWord: "Answer" },
  sst2: {
    name: "sst2",
    kind: "classification",
    answerWord: "Sentiment",
    promptTemplate: "{question}\nSentiment:",
    labels: ["negative", "positive"],
    // GLUE / Hugging Face copies store 0 and 1.
    labelWords: { "0": "negative", "1": "positive" },
  },
  trec: {
    name: "trec",
    kind: "classification",
    answerWord: "Class",
    promptTemplate: "{question}\nClass:",
    labels: ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
    // Hugging Face `trec` coarse_label order.
    labelWords: { "0": "ABBR", "1": "ENTY", "2": "DESC", "3": "HUM", "4": "LOC", "5": "NUM" },
  },
  snips: {
    name: "snips",
    kind: "classification",
    answerWord: "Intent",
    promptTemplate: "{question}\nIntent:",
    labels: ["AddToPlaylist", "BookRestaurant", "GetWeather", "PlayMusic", "RateBook", "SearchCreativeWork", "SearchScreeningEvent"],
  },
  casehold: {
    name: "casehold",
    kind: "multiple-choice",
    answerWord: "Answer",
    promptTemplate: MULTIPLE_CHOICE_PROMPT,
    choiceCount: 5,
  },
};

export function isTaskKind(value: string): value is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(value);
}
