/**
 * Scores a student on {prompt, completion} examples: greedy by default, a prediction is correct when the
 * generated text, trimmed, equals the completion, trimmed. All prompts go to the generator at once, so the
 * llama.cpp engine can decode them in parallel.
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
}

export interface EvaluationSummary {
  engine: string;
  n: number;
  correct: number;
  accuracy: number;
  seconds: number;
  examplesPerSecond: number;
}

export function isCorrectCompletion(output: string, completion: string): boolean {
  return output.trim() === completion.trim();
}

export async function evaluateExamples(
  generator: StudentGenerator,
  examples: readonly PromptCompletion[],
  sampling: SamplingOptions,
  onDone?: (index: number) => void,
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
    correct: isCorrectCompletion(outputs[i]!, e.completion),
  }));
  const correct = predictions.filter((p) => p.correct).length;
  return {
    predictions,
    summary: {
      engine: generator.engine,
      n: predictions.length,
      correct,
      accuracy: predictions.length ? correct / predictions.length : 0,
      seconds,
      examplesPerSecond: seconds > 0 ? predictions.length / seconds : 0,
    },
  };
}
