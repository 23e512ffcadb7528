/** One iteration's numbers, as metrics.json, the live view and the report read them. */
export interface IterationMetrics {
  t: number;
  seed_accuracy: number;
  test_accuracy: number;
  train_size: number;
  /** Examples of the training data longer than the run's training length (the trainer leaves them out). */
  train_dropped: number;
  /** Examples sent to the teacher (wrong seed examples) and what came back. */
  sources: number;
  kept: number;
  dropped: Record<string, number>;
  /** New examples asked for (k per source; the one-shot ablation's total), teacher requests, retry rounds
   *  used, and the sources still short of k after the last round with the examples they miss. */
  wanted: number;
  teacher_requests: number;
  rounds_used: number;
  short_sources: number;
  missing_examples: number;
}
