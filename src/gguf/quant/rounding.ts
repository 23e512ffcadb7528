/** The integer roundings ggml's quantizers use, reproduced for JS numbers. */

/** ggml's nearest_int: round half to even (it adds 1.5 * 2^23 in float32). */
export function nearestInt(x: number): number {
  const r = Math.round(x);
  // Math.round sends halves up; ggml's float addition sends them to the even neighbour.
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** C's roundf: halves away from zero. */
export function roundAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
