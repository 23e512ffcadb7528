/**
 * Parser for the paper's free-text teacher output (official `generate_data.py` asks for
 * `1. Question: … / Answer: … / #### N`). Tolerant of what models write instead: `Question 1:`, `Q1:`,
 * `**Question 1:**`, `### Question 1`, plain `1.` items, `Text:` / `Sentence:` / `Utterance:` questions,
 * `Label:` / `Intent:` / `Sentiment:` answers (and the task's own answer word), choices as `(A) …` lines.
 * It only cuts the text into candidates; whether they are any good is for the filters after it.
 */
import type { TaskKind } from "../seams.js";

export interface Candidate {
  question: string;
  answer: string;
  choices?: string[];
}

export interface FreeTextParse {
  candidates: Candidate[];
  /** Blocks that started a question but had no answer. */
  withoutAnswer: number;
  /** Set when the completion stopped at max tokens and its last block was discarded (as the official code does). */
  truncatedDropped: boolean;
}

const BOLD = String.raw`(?:\*\*|__)?`;
const NUMBER = String.raw`(?:#?\s*\d{1,3})?`;
const LIST = String.raw`(?:[-*]\s+|#{1,4}\s*|\d{1,3}\s*[.)]\s*)?`;
const QUESTION_WORDS = ["question", "q", "problem", "text", "sentence", "utterance", "query", "input", "example", "prompt", "new question"];
const ANSWER_WORDS = ["answer", "a", "solution", "rationale", "label", "class", "intent", "sentiment", "category", "output", "correct answer"];

function markerPattern(words: string[]): RegExp {
  const alternatives = [...words].sort((a, b) => b.length - a.length).map((w) => w.replace(/\s+/g, "\\s+")).join("|");
  return new RegExp(String.raw`^\s*${LIST}${BOLD}\s*(?:${alternatives})\s*${NUMBER}\s*${BOLD}\s*[:：]\s*${BOLD}\s*`, "i");
}

export interface FreeTextOptions {
  kind: TaskKind;
  /** The task's answer word (`Intent`), accepted as an answer marker besides the usual ones. */
  answerWord?: string;
  /** The completion stopped at max tokens: its last block is cut off. */
  truncated?: boolean;
}

export function parseFreeText(text: string, options: FreeTextOptions): FreeTextParse {
  const questionMarker = markerPattern(QUESTION_WORDS);
  // In multiple choice `A:` may start a choice, so the one-letter answer marker is off there.
  const answerWords = ANSWER_WORDS.filter((w) => options.kind !== "multiple-choice" || w !== "a");
  const answerMarker = markerPattern(options.answerWord ? [...answerWords, options.answerWord.toLowerCase()] : answerWords);
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let blocks = splitBlocks(lines, (line) => questionMarker.test(line) && !answerMarker.test(line), questionMarker);
  if (blocks.length === 0) {
    // No `Question:` markers: numbered items (`1. …`), or one unnumbered block.
    const numbered = /^\s*(?:\*\*)?\d{1,3}\s*[.)]\s+/;
    blocks = splitBlocks(lines, (line) => numbered.test(line), numbered);
    if (blocks.length === 0 && lines.some((line) => answerMarker.test(line))) blocks = [dropPreamble(lines)];
  }
  let truncatedDropped = false;
  if (options.truncated && blocks.length > 0) {
    blocks.pop();
    truncatedDropped = true;
  }
  const candidates: Candidate[] = [];
  let withoutAnswer = 0;
  for (const block of blocks) {
    const candidate = readBlock(block, answerMarker, options.kind);
    if (candidate) candidates.push(candidate);
    else withoutAnswer++;
  }
  return { candidates, withoutAnswer, truncatedDropped };
}

/** Blocks of lines, each starting at a marker line (with the marker removed); text before the first is preamble. */
function splitBlocks(lines: string[], isStart: (line: string) => boolean, marker: RegExp): string[][] {
  const blocks: string[][] = [];
  for (const line of lines) {
    if (isStart(line)) blocks.push([line.replace(marker, "")]);
    else blocks.at(-1)?.push(line);
  }
  return blocks;
}

/** `Sure! Here is a similar question:` before an unmarked question. */
function dropPreamble(lines: string[]): string[] {
  const start = lines.findIndex((line) => line.trim() && !/^(sure|here|okay|ok|certainly|of course)\b.*[:!.]\s*$/i.test(line.trim()));
  return lines.slice(Math.max(start, 0));
}

function readBlock(block: string[], answerMarker: RegExp, kind: TaskKind): Candidate | undefined {
  let answerAt = block.findIndex((line, i) => i > 0 && answerMarker.test(line));
  let questionLines: string[];
  let answerLines: string[];
  if (answerAt < 0 && answerMarker.test(block[0] ?? "")) answerAt = 0;
  if (answerAt > 0) {
    questionLines = block.slice(0, answerAt);
    answerLines = [block[answerAt]!.replace(answerMarker, ""), ...block.slice(answerAt + 1)];
  } else {
    // `Question: … Answer: …` on one line, or (math) a rationale straight after a one-line question.
    const inline = /^(.*?)\s*(?:\*\*|__)?\b(?:answer|label|intent|sentiment|class)\s*\d{0,3}\s*(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*)$/is.exec(block.join("\n"));
    if (inline && inline[1]!.trim()) {
      questionLines = [inline[1]!];
      answerLines = [inline[2]!];
    } else if (kind === "math" && block.length > 1 && block.some((line) => /#{4}/.test(line))) {
      questionLines = [block[0]!];
      answerLines = block.slice(1);
    } else return undefined;
  }
  const { question, choices } = splitChoices(questionLines, kind);
  const answer = kind === "math" ? mathAnswer(answerLines) : firstLine(answerLines);
  return { question: clean(question), answer, ...(choices ? { choices } : {}) };
}

/** Multiple choice: `(A) …` / `A) …` / `A. …` lines are choices, the rest is the prompt. */
function splitChoices(lines: string[], kind: TaskKind): { question: string; choices?: string[] } {
  if (kind !== "multiple-choice") return { question: lines.join("\n") };
  const choice = /^\s*(?:\(([A-Z])\)|([A-Z])[).:])\s+(.*)$/;
  const choices: string[] = [];
  const rest: string[] = [];
  for (const line of lines) {
    const match = choice.exec(line);
    if (match) choices.push(clean(match[3]!));
    else rest.push(line);
  }
  return { question: rest.join("\n"), choices };
}

/** The rationale up to and including the first `####` line; `#### $1,200.` becomes `#### 1,200.` as written. */
function mathAnswer(lines: string[]): string {
  const kept: string[] = [];
  for (const line of lines) {
    const hash = /^(.*?)#{4}\s*(.*)$/.exec(line);
    if (hash) {
      if (hash[1]!.trim()) kept.push(hash[1]!);
      kept.push(`#### ${clean(hash[2]!)}`);
      break;
    }
    kept.push(line);
  }
  return kept.map((line) => line.trimEnd()).join("\n").replace(/\n{2,}/g, "\n").trim();
}

function firstLine(lines: string[]): string {
  return clean(lines.find((line) => line.trim()) ?? "");
}

/** Trims and removes markdown emphasis around the whole text. */
function clean(text: string): string {
  return text.trim().replace(/^(\*\*|__)(.*)\1$/s, "$2").replace(/^(\*\*|__)|(\*\*|__)$/g, "").trim();
}
