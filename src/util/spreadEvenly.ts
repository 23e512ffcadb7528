/** `total` as `parts` counts that differ by at most one, the larger ones first (10 over 3: 4, 3, 3). */
export function spreadEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
