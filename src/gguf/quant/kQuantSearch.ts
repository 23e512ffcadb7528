/**
 * The scale searches of ggml's k-quants (ggml-quants.c), used by the Q4_K and Q6_K quantizers:
 * make_qkx2_quants (asymmetric: scale and min, weighted least squares over a small grid of scales) and
 * make_qx_quants (symmetric, rmse_type 1: weights x^2, a grid of 19 scales around nmax / max).
 */
import { nearestInt } from "./rounding.js";

/** Values below this count as an all-zero group (GROUP_MAX_EPS). */
export const groupMaxEps = 1e-15;

/**
 * Quantizes x[0..n) to L[i] in [0, nmax] with x ≈ scale * L - min; returns { scale, min } (min >= 0 is
 * subtracted). `laux` is scratch of length n.
 */
export function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, weights: Float32Array, L: Uint8Array, laux: Uint8Array,
  rmin: number, rdelta: number, nstep: number,
): { scale: number; min: number } {
  let min = x[0]!;
  let max = x[0]!;
  let sumW = weights[0]!;
  let sumX = sumW * x[0]!;
  for (let i = 1; i < n; i++) {
    if (x[i]! < min) min = x[i]!;
    if (x[i]! > max) max = x[i]!;
    const w = weights[i]!;
    sumW += w;
    sumX += w * x[i]!;
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, 0, n);
    return { scale: 0, min: -min };
  }
  // x - min, recomputed only when a better fit moves min (ggml's trial scales use the current min).
  const shifted = scratch(n);
  for (let i = 0; i < n; i++) shifted[i] = x[i]! - min;
  let iscale = nmax / (max - min);
  let scale = 1 / iscale;
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = clampedNearest(iscale * shifted[i]!, nmax);
    L[i] = l;
    const diff = scale * l + min - x[i]!;
    bestError += weights[i]! * diff * diff;
  }
  for (let is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = clampedNearest(iscale * shifted[i]!, nmax);
      laux[i] = l;
      const wl = weights[i]! * l;
      sumL += wl;
      sumL2 += wl * l;
      sumXL += wl * x[i]!;
    }
    const D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      let thisScale = (sumW * sumXL - sumX * sumL) / D;
      let thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      let error = 0;
      for (let i = 0; i < n; i++) {
        const diff = thisScale * laux[i]! + thisMin - x[i]!;
        error += weights[i]! * diff * diff;
      }
      if (error < bestError) {
        for (let i = 0; i < n; i++) L[i] = laux[i]!;
        bestError = error;
        scale = thisScale;
        min = thisMin;
        for (let i = 0; i < n; i++) shifted[i] = x[i]! - min;
      }
    }
  }
  return { scale: Math.fround(scale), min: Math.fround(-min) };
}

/** nearestInt(v) clamped to [0, nmax], inlined for the search loops. */
function clampedNearest(v: number, nmax: number): number {
  let l = Math.round(v);
  if (l - v === 0.5 && (l & 1) !== 0) l -= 1;
  return l < 0 ? 0 : l > nmax ? nmax : l;
}

let scratchBuffer = new Float64Array(32);
function scratch(n: number): Float64Array {
  if (scratchBuffer.length < n) scratchBuffer = new Float64Array(n);
  return scratchBuffer;
}

/**
 * Quantizes x[0..n) symmetrically to L[i] in [0, 2 nmax) with x ≈ scale * (L - nmax); returns scale
 * (negative when the largest-magnitude value is positive, as in ggml).
 */
export function makeQxQuants(n: number, nmax: number, x: Float32Array, L: Uint8Array): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[i]!);
    if (ax > amax) {
      amax = ax;
      max = x[i]!;
    }
  }
  if (amax < groupMaxEps) {
    L.fill(0, 0, n);
    return 0;
  }
  const clamp = (l: number) => Math.max(-nmax, Math.min(nmax - 1, l));
  let iscale = -nmax / max;
  let sumLX = 0;
  let sumL2 = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(iscale * x[i]!));
    L[i] = l + nmax;
    const w = x[i]! * x[i]!;
    sumLX += w * x[i]! * l;
    sumL2 += w * l * l;
  }
  let scale = sumL2 ? sumLX / sumL2 : 0;
  let best = scale * sumLX;
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = -(nmax + 0.1 * is) / max;
    sumLX = 0;
    sumL2 = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(iscale * x[i]!));
      const w = x[i]! * x[i]!;
      sumLX += w * x[i]! * l;
      sumL2 += w * l * l;
    }
    if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
      for (let i = 0; i < n; i++) L[i] = nmax + clamp(nearestInt(iscale * x[i]!));
      scale = sumLX / sumL2;
      best = scale * sumLX;
    }
  }
  return Math.fround(scale);
}
