/**
 * Linear warmup then cosine decay, the usual LoRA fine-tuning schedule:
 *   step < warmup:  lr = peak · (step + 1) / warmup
 *   after:          lr = min + (peak − min) · ½ (1 + cos(π · progress)),  progress 0 → 1 over the rest.
 * `step` counts optimizer steps from 0.
 */
export interface LearningRateSchedule {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  /** Floor of the cosine. Default 0. */
  min?: number;
}

export function learningRateAt(schedule: LearningRateSchedule, step: number): number {
  const { peak, warmupSteps, totalSteps } = schedule;
  const min = schedule.min ?? 0;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const decaySteps = Math.max(1, totalSteps - warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
