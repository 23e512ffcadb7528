/** What the loop tells whoever watches it: the live view in a terminal, or nothing in tests. */
import cliProgress from "cli-progress";
import type { IterationMetrics } from "./iterationMetrics.js";

export interface LoopObserver {
  /** A stage of iteration t starts; `total` is the number of progress units when known. */
  stage(t: number, name: string, total?: number): void;
  progress(units: number): void;
  /** The current stage's total changed (augmentation learns its number of requests as it goes). */
  setTotal?(total: number): void;
  iterationDone(metrics: IterationMetrics): void;
  close(): void;
}

export const silentObserver: LoopObserver = { stage() {}, progress() {}, iterationDone() {}, close() {} };

/** The live view on stderr: the current stage with a progress bar, and a line per finished iteration. */
export class TerminalObserver implements LoopObserver {
  private bar: cliProgress.SingleBar | undefined;
  private last: IterationMetrics | undefined;

  constructor(private readonly iterations: number) {}

  stage(t: number, name: string, total?: number): void {
    this.bar?.stop();
    this.bar = undefined;
    const accuracies = this.last ? `  (last: seed ${percent(this.last.seed_accuracy)}, test ${percent(this.last.test_accuracy)})` : "";
    if (total === undefined) {
      process.stderr.write(`[iteration ${t + 1}/${this.iterations}] ${name}${accuracies}\n`);
      return;
    }
    this.bar = new cliProgress.SingleBar(
      { format: `[iteration ${t + 1}/${this.iterations}] ${name.padEnd(10)} {bar} {value}/{total} {eta_formatted}${accuracies}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0);
  }

  progress(units: number): void {
    this.bar?.increment(units);
  }

  setTotal(total: number): void {
    this.bar?.setTotal(total);
  }

  iterationDone(m: IterationMetrics): void {
    this.bar?.stop();
    this.bar = undefined;
    this.last = m;
    process.stderr.write(
      `[iteration ${m.t + 1}/${this.iterations}] seed accuracy ${percent(m.seed_accuracy)}, test accuracy ${percent(m.test_accuracy)}, ` +
        `train size ${m.train_size}${m.train_dropped ? ` (${m.train_dropped} longer than the training length, left out)` : ""}, wrong ${m.sources}, new examples kept ${m.kept}` +
        (m.wanted ? ` of ${m.wanted} (${m.rounds_used} teacher rounds${m.short_sources ? `, ${m.short_sources} sources short by ${m.missing_examples}` : ""})` : "") +
        `${Object.keys(m.dropped).length ? `, dropped ${Object.entries(m.dropped).map(([reason, n]) => `${reason} ${n}`).join(", ")}` : ""}\n`,
    );
  }

  close(): void {
    this.bar?.stop();
  }
}

export function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
