/**
 * Float64 reference for batched matmul with the tfjs cpu kernel's batch rule (outer dimensions
 * flattened, batch b reads A[b % batchA] and B[b % batchB]), and the error measures the native
 * kernel tests use.
 */
export interface ProductShape {
  batch: number;
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * value: the product in float64; scale: sum_p |A(i,p)| |B(p,j)| per element, the size a float32
 * rounding error of that element is measured against. Both [batch, rows.length, n]: only the rows
 * asked for (all by default), so big products can be checked on a sample of rows.
 */
export function referenceMatMul(a: ArrayLike<number>, b: ArrayLike<number>, s: ProductShape, rows?: number[]) {
  const { batch, m, n, k } = s;
  const rowList = rows ?? Array.from({ length: m }, (_, i) => i);
  const value = new Float64Array(batch * rowList.length * n);
  const scale = new Float64Array(batch * rowList.length * n);
  const bRows = new Float64Array(k * n); // B(p, j) of one batch entry, row-major
  const bAbs = new Float64Array(k * n);
  for (let bi = 0; bi < batch; bi++) {
    const aBase = (bi % s.batchA) * m * k;
    const bBase = (bi % s.batchB) * k * n;
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) {
        bRows[p * n + j] = b[bBase + (s.transposeB ? j * k + p : p * n + j)]!;
        bAbs[p * n + j] = Math.abs(bRows[p * n + j]!);
      }
    }
    rowList.forEach((i, r) => {
      const c = (bi * rowList.length + r) * n;
      for (let p = 0; p < k; p++) {
        const aip = a[aBase + (s.transposeA ? p * m + i : i * k + p)]!;
        const absA = Math.abs(aip);
        const row = p * n;
        for (let j = 0; j < n; j++) {
          value[c + j]! += aip * bRows[row + j]!;
          scale[c + j]! += absA * bAbs[row + j]!;
        }
      }
    });
  }
  return { value, scale };
}

/** The given rows of a [batch, m, n] result, as [batch, rows.length, n]. */
export function pickRows(values: ArrayLike<number>, batch: number, m: number, n: number, rows: number[]): Float32Array {
  const out = new Float32Array(batch * rows.length * n);
  for (let bi = 0; bi < batch; bi++) {
    rows.forEach((i, r) => {
      for (let j = 0; j < n; j++) out[(bi * rows.length + r) * n + j] = values[(bi * m + i) * n + j]!;
    });
  }
  return out;
}

/** max over elements of |x - ref| / sum_p |a||b| (0 where the scale is 0 and x equals ref). */
export function maxScaledError(x: ArrayLike<number>, ref: { value: Float64Array; scale: Float64Array }): number {
  let worst = 0;
  for (let i = 0; i < ref.value.length; i++) {
    const diff = Math.abs(x[i]! - ref.value[i]!);
    if (diff === 0) continue;
    worst = Math.max(worst, ref.scale[i]! > 0 ? diff / ref.scale[i]! : Infinity);
  }
  return worst;
}

/** ‖x - y‖₂ / ‖y‖₂ (0 when both are zero). */
export function relativeError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    diff += (x[i]! - y[i]!) ** 2;
    norm += y[i]! ** 2;
  }
  if (diff === 0) return 0;
  return Math.sqrt(diff / norm);
}
