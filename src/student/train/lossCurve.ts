/**
 * The bookkeeping of a training loop, the same for LoRA and full-parameter training: one LossPoint per
 * optimizer step, real-token throughput, wall time.
 */

/** One point of the loss curve (one optimizer step). */
export interface LossPoint {
  step: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  /** Real (non-padding) tokens this step processed. */
  tokens: number;
  /** Milliseconds since training started, at the end of this step. */
  elapsedMs: number;
}

export class LossCurve {
  readonly points: LossPoint[] = [];
  private readonly started = performance.now();
  private tokens = 0;

  /** Records one optimizer step (`step` counted from 0) and returns its point. */
  record(step: number, epoch: number, learningRate: number, result: { loss: number; gradNorm: number; realTokens: number }): LossPoint {
    this.tokens += result.realTokens;
    const point: LossPoint = {
      step: step + 1,
      epoch: epoch + 1,
      loss: result.loss,
      learningRate,
      gradNorm: result.gradNorm,
      tokens: result.realTokens,
      elapsedMs: performance.now() - this.started,
    };
    this.points.push(point);
    return point;
  }

  get seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  get tokensPerSecond(): number {
    const seconds = this.seconds;
    return seconds > 0 ? this.tokens / seconds : 0;
  }
}
