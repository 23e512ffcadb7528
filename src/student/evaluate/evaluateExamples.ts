/**
 * Scores a student on {prompt, completion} examples: greedy by default, a prediction is correct when the
 * generated text, trimmed, equals the completion, trimmed, or by the caller's `score` (a task's own
 * extraction, src/tasks/scoreCompletion.ts); prefix match (output starts with the completion) is counted
 * beside it. All prompts go to the generator at once, so the llama.cpp engine can decode them in parallel.
 */
import type { SamplingOptions, StudentGenerator } from "../../seams.js";
import type { PromptCompletion } from "../train/trainingData.js";

export interface Prediction {
  /** 1-based line of the example in its data file. */
  line: number;
  prompt: string;
  /** The gold completion. */
  completion: string;
  /** What the student generated. */
  output: string;
  correct: boolean;
  /** The output starts with the gold completion (trimmed). */
  prefix: boolean;
}

export interface EvaluationSummary {
  engine: string;
  n: number;
  correct: number;
  accuracy: number;
  /** Outputs that start with the gold completion. */
  prefixCorrect: number;
  prefixAccuracy: number;
  seconds: number;
  examplesPerSecond: number;
}

export function isCorrectCompletion(output: string, completion: string): boolean {
  return output.trim() === completion.trim();
}

export function isPrefixCompletion(output: string, completion: string): boolean {
  const gold = completion.trim();
  return gold.length > 0 && output.trim().startsWith(gold);
}

export async function evaluateExamples(
  generator: StudentGenerator,
  examples: readonly PromptCompletion[],
  sampling: SamplingOptions,
  onDone?: (index: number) => void,
  score: (output: string, completion: string) => boolean = isCorrectCompletion,
): Promise<{ predictions: Prediction[]; summary: EvaluationSummary }> {
  const started = performance.now();
  const outputs = await generator.generate(
    examples.map((e) => e.prompt),
    sampling,
    onDone,
  );
  const seconds = (performance.now() - started) / 1000;
  const predictions = examples.map((e, i) => ({
    line: e.line,
    prompt: e.prompt,
    completion: e.completion,
    output: outputs[i]!,
    correct: score(outputs[i]!, e.completion),
    prefix: isPrefixCompletion(outputs[i]!, e.completion),
  }));
  const correct = predictions.filter((p) => p.correct).length;
  const prefixCorrect = predictions.filter((p) => p.prefix).length;
  return {
    predictions,
    summary: {
      engine: generator.engine,
      n: predictions.length,
      correct,
      accuracy: predictions.length ? correct / predictions.length : 0,
      prefixCorrect,
      prefixAccuracy: predictions.length ? prefixCorrect / predictions.length : 0,
      seconds,
      examplesPerSecond: seconds > 0 ? predictions.length / seconds : 0,
    },
  };
}
