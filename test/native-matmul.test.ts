/**
 * The native matmul kernels (native/, src/backend/nativeMatMul.ts) against float64 references and
 * against the tfjs cpu backend's own JavaScript kernels: every transpose and batch-broadcast case,
 * odd and prime sizes from 1 to 1000, the fused bias + activations, gradients through tf.grads,
 * every micro-kernel family this CPU has, and 1 vs 2 threads. Inputs are fresh random numbers each run.
 *
 * The addon is built by `npm install` / `npm ci`; if it is missing these tests fail and say why
 * (set LLM2LLM_NATIVE_OPTIONAL=1 to skip them on a machine without a C++ toolchain).
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { nativeAddon, nativeKernelsActive, setNativeThreads } from "../src/backend/nativeKernels.js";
import { maxScaledError, pickRows, referenceMatMul, relativeError, type ProductShape } from "./helpers/matmulReference.js";
import { setUpNativeKernels, withJsKernels } from "./helpers/nativeKernelSetup.js";

const { registered, optional, tolerance, defaultThreads } = await setUpNativeKernels("native-matmul");

function productShape(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): ProductShape {
  const size = (shape: number[]) => shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const [ar, br] = [aShape.length, bShape.length];
  const batchA = size(aShape);
  const batchB = size(bShape);
  return {
    batch: Math.max(batchA, batchB), batchA, batchB,
    m: transposeA ? aShape[ar - 1]! : aShape[ar - 2]!,
    n: transposeB ? bShape[br - 2]! : bShape[br - 1]!,
    k: transposeA ? aShape[ar - 2]! : aShape[ar - 1]!,
    transposeA, transposeB,
  };
}

/**
 * Native matMul vs the float64 reference and (when `againstJs`) vs the tfjs JS kernel. Products
 * with more than `sampleAbove` rows are compared on 40 random rows (all columns, all batches).
 */
async function checkMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean, againstJs = true) {
  const label = `[${aShape}]${transposeA ? "ᵀ" : ""} x [${bShape}]${transposeB ? "ᵀ" : ""}`;
  const a = tf.randomUniform(aShape, -1, 1);
  const b = tf.randomUniform(bShape, -1, 1);
  const native = tf.matMul(a, b, transposeA, transposeB);
  const values = await native.data();
  const shape = productShape(aShape, bShape, transposeA, transposeB);
  const sampleAbove = 200;
  const rows = shape.m > sampleAbove ? Array.from({ length: 40 }, () => randomInt(shape.m)) : undefined;
  const ref = referenceMatMul(await a.data(), await b.data(), shape, rows);
  const checked = rows ? pickRows(values, shape.batch, shape.m, shape.n, rows) : values;
  expect(maxScaledError(checked, ref), label).toBeLessThanOrEqual(tolerance);
  expect(relativeError(checked, ref.value), label).toBeLessThanOrEqual(tolerance);
  if (againstJs) {
    const js = withJsKernels(() => tf.matMul(a, b, transposeA, transposeB));
    expect(native.shape, label).toEqual(js.shape);
    expect(relativeError(values, await js.data()), label).toBeLessThanOrEqual(tolerance);
    js.dispose();
  }
  tf.dispose([a, b, native]);
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}

const transposes: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const oddSizes = [1, 2, 3, 5, 7, 11, 13, 16, 17, 31, 32, 33, 47, 64, 97, 127, 131];
const shapeOf = (rows: number, cols: number, transposed: boolean) => (transposed ? [cols, rows] : [rows, cols]);

/** A logical [rows x cols] matrix stored row-major, or transposed ([cols x rows]). */
function storeMatrix(rows: number, cols: number, transposed: boolean, at: (i: number, j: number) => number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[transposed ? j * rows + i : i * cols + j] = at(i, j);
  return out;
}

describe("native addon", () => {
  it.skipIf(optional && !registered.ok)("is built and registered into the tfjs cpu backend", () => {
    expect(registered.ok ? "ok" : registered.reason).toBe("ok");
    expect(nativeKernelsActive()).toBe(true);
  });
});

describe.skipIf(!registered.ok)("native matMul", () => {
  afterAll(() => setNativeThreads(defaultThreads));

  it("equals the reference and the JS kernel for odd and prime sizes, every transpose", async () => {
    for (const [transposeA, transposeB] of transposes) {
      for (let trial = 0; trial < 24; trial++) {
        const pick = () => oddSizes[randomInt(oddSizes.length)]!;
        const [m, n, k] = [pick(), pick(), pick()];
        await checkMatMul(shapeOf(m, k, transposeA), shapeOf(k, n, transposeB), transposeA, transposeB);
      }
    }
  });

  it("equals the float64 reference at sizes up to 1000, every transpose", async () => {
    for (const [transposeA, transposeB] of transposes) {
      await checkMatMul([1000, 1000], [1000, 1000], transposeA, transposeB, false);
      const [m, n, k] = [997, 613, 509];
      await checkMatMul(shapeOf(m, k, transposeA), shapeOf(k, n, transposeB), transposeA, transposeB, false);
    }
  });

  it("broadcasts batches as the tfjs kernel does", async () => {
    const [m, n, k] = [19, 23, 29];
    const cases: number[][][] = [
      [[4], []], [[], [4]], [[4], [4]], [[1], [5]], [[5], [1]], [[2, 3], [3]], [[3], [2, 3]],
      [[2, 3], [2, 3]], [[2, 3], [1, 1]], [[2, 3], [2, 1]], // the last: tfjs reads B[b % 2], not numpy's rule
    ];
    for (const [outerA = [], outerB = []] of cases) {
      for (const [transposeA, transposeB] of transposes) {
        await checkMatMul([...outerA, ...shapeOf(m, k, transposeA)], [...outerB, ...shapeOf(k, n, transposeB)], transposeA, transposeB);
      }
    }
  });

  it("leaves batch shapes the tfjs kernel cannot pair to it, with the same outcome", () => {
    const a = tf.randomUniform([2, 1, 4, 5]);
    const b = tf.randomUniform([1, 3, 5, 6]);
    const outcome = (fn: () => tf.Tensor) => {
      try {
        const t = fn();
        return { shape: t.shape, values: Array.from(t.dataSync()) };
      } catch (error) {
        return { error: String(error) };
      }
    };
    expect(outcome(() => tf.matMul(a, b))).toEqual(withJsKernels(() => outcome(() => tf.matMul(a, b))));
    tf.dispose([a, b]);
  });

  it("fuses bias and every activation like the JS _FusedMatMul kernel", async () => {
    const [m, n, k] = [37, 45, 53];
    const activations = ["linear", "relu", "relu6", "elu", "leakyrelu", "prelu", "sigmoid"] as const;
    const biasShapes = [undefined, [n], [1], [], [m, n]]; // [m, n] is not per-column: the JS kernel takes it
    for (const activation of activations) {
      for (const biasShape of biasShapes) {
        for (const preluShape of activation === "prelu" ? [[n], [1], [m, n]] : [undefined]) {
          for (const [transposeA, transposeB] of transposes) {
            const a = tf.randomUniform([3, ...shapeOf(m, k, transposeA)] as [number, number, number], -1, 1);
            const b = tf.randomUniform(shapeOf(k, n, transposeB) as [number, number], -1, 1);
            const bias = biasShape && tf.randomUniform(biasShape, -2, 2);
            const preluActivationWeights = preluShape && tf.randomUniform(preluShape, 0, 1);
            const args = { a, b, transposeA, transposeB, bias, activation, preluActivationWeights, leakyreluAlpha: 0.15 };
            const native = tf.fused.matMul(args);
            const js = withJsKernels(() => tf.fused.matMul(args));
            const label = `${activation}, bias [${biasShape}], prelu [${preluShape}], transposes ${transposeA} ${transposeB}`;
            expect(native.shape, label).toEqual(js.shape);
            expect(relativeError(await native.data(), await js.data()), label).toBeLessThanOrEqual(tolerance);
            tf.dispose([a, b, native, js, ...(bias ? [bias] : []), ...(preluActivationWeights ? [preluActivationWeights] : [])]);
          }
        }
      }
    }
  });

  it("gives the JS kernels' gradients through tf.grads (they run on the native BatchMatMul)", async () => {
    const [m, n, k] = [33, 41, 27];
    for (const [transposeA, transposeB] of transposes) {
      for (const fused of [false, true]) {
        const a = tf.randomUniform([2, ...shapeOf(m, k, transposeA)], -1, 1);
        const b = tf.randomUniform([2, ...shapeOf(k, n, transposeB)], -1, 1);
        const bias = tf.randomUniform([n], -1, 1);
        const weights = tf.randomUniform([2, m, n], -1, 1);
        // Linear + bias stays one _FusedMatMul under the tape; its gradient is BatchMatMuls.
        const product = (x: tf.Tensor, y: tf.Tensor) =>
          fused
            ? tf.fused.matMul({ a: x as tf.Tensor3D, b: y as tf.Tensor3D, transposeA, transposeB, bias })
            : tf.matMul(x, y, transposeA, transposeB);
        const gradsOf = () => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(product(x, y), weights)))([a, b]);
        expect(nativeKernelsActive()).toBe(true);
        const profile = await tf.profile(() => gradsOf());
        expect(profile.kernelNames).toContain("BatchMatMul");
        const native = gradsOf();
        const js = withJsKernels(gradsOf);
        for (let i = 0; i < 2; i++) {
          const label = `grad ${"ab"[i]}, fused ${fused}, transposes ${transposeA} ${transposeB}`;
          expect(native[i]!.shape, label).toEqual(js[i]!.shape);
          expect(relativeError(await native[i]!.data(), await js[i]!.data()), label).toBeLessThanOrEqual(tolerance);
        }
        tf.dispose([a, b, bias, weights, ...native, ...js]);
      }
    }
  });

  it("gives bit-identical results with 1 and 2 threads", async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[517, 300], [300, 1023], false, false],
      [[3, 200, 301], [250, 301], false, true],
      [[2, 300, 129], [2, 300, 77], true, false],
      [[1, 64, 700], [5, 700, 64], false, false],
      // Wide: many column slices and column blocks.
      [[200, 300], [300, 28000], false, false],
      // Tall and wide: one thread packs A in two row groups shared by three column blocks, two threads one group each.
      [[1700, 300], [300, 600], false, false],
      [[300, 1700], [600, 300], true, true],
    ];
    for (const [aShape, bShape, transposeA, transposeB] of cases) {
      const a = tf.randomUniform(aShape, -1, 1);
      const b = tf.randomUniform(bShape, -1, 1);
      setNativeThreads(1);
      const one = tf.matMul(a, b, transposeA, transposeB);
      setNativeThreads(2);
      const two = tf.matMul(a, b, transposeA, transposeB);
      const [x, y] = [await one.data(), await two.data()];
      let differing = x.length === y.length ? 0 : Infinity;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differing++;
      expect(differing, `[${aShape}] x [${bShape}]`).toBe(0);
      tf.dispose([a, b, one, two]);
    }
  });

  it("computes narrow products (LoRA's rank-8/16 side) bit for bit like the direct path, bias and += included", async () => {
    // A product with one side at most 16 wide runs through gemm.cc's narrow paths (a kernel reading A in place,
    // or the transposed product). The same product embedded in one 64 wide on that side takes the direct path;
    // the embedded part must carry the same bits.
    const addon = nativeAddon()!;
    const wide = 64;
    const cases: [number, number, number][] = [[1024, 8, 128], [1000, 16, 384], [300, 5, 1000], [8, 128, 1024], [16, 384, 300], [3, 200, 77]];
    for (const [m, n, k] of cases) {
      const smallN = n <= 16;
      const [mWide, nWide] = smallN ? [m, wide] : [wide, n];
      for (const [transposeA, transposeB] of transposes) {
        for (const mode of ["plain", "bias", "accumulate"] as const) {
          const aVals = Array.from({ length: mWide * k }, () => Math.random() * 2 - 1);
          const bVals = Array.from({ length: k * nWide }, () => Math.random() * 2 - 1);
          const cVals = Array.from({ length: mWide * nWide }, () => Math.random() * 2 - 1);
          const biasWide = mode === "bias" ? Float32Array.from({ length: nWide }, () => Math.random() * 4 - 2) : null;
          const a = storeMatrix(m, k, transposeA, (i, p) => aVals[i * k + p]!);
          const b = storeMatrix(k, n, transposeB, (p, j) => bVals[p * nWide + j]!);
          const narrow = storeMatrix(m, n, false, (i, j) => cVals[i * nWide + j]!);
          const direct = storeMatrix(mWide, nWide, false, (i, j) => cVals[i * nWide + j]!);
          const aWide = storeMatrix(mWide, k, transposeA, (i, p) => aVals[i * k + p]!);
          const bWide = storeMatrix(k, nWide, transposeB, (p, j) => bVals[p * nWide + j]!);
          if (mode === "accumulate") {
            addon.matMulAccumulate(a, b, narrow, m, n, k, transposeA, transposeB);
            addon.matMulAccumulate(aWide, bWide, direct, mWide, nWide, k, transposeA, transposeB);
          } else {
            addon.matMul(a, b, narrow, 1, 1, 1, m, n, k, transposeA, transposeB, biasWide?.slice(0, n) ?? null, 0, 0, null);
            addon.matMul(aWide, bWide, direct, 1, 1, 1, mWide, nWide, k, transposeA, transposeB, biasWide, 0, 0, null);
          }
          const label = `${m}x${n}x${k} ${transposeA} ${transposeB} ${mode}`;
          let differing = 0;
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) if (!Object.is(narrow[i * n + j], direct[i * nWide + j])) differing++;
          expect(differing, label).toBe(0);
          // And the product itself is right (float64 reference on a few entries).
          for (const [i, j] of [[0, 0], [m - 1, n - 1], [m >> 1, n >> 1]] as const) {
            let sum = mode === "accumulate" ? Math.fround(cVals[i * nWide + j]!) : (biasWide?.[j] ?? 0);
            for (let p = 0; p < k; p++) sum += Math.fround(aVals[i * k + p]!) * Math.fround(bVals[p * nWide + j]!);
            expect(Math.abs(narrow[i * n + j]! - sum), `${label} (${i}, ${j})`).toBeLessThan(1e-3);
          }
        }
      }
    }
  });

  it("computes shallow products (depth <= 16: LoRA's up-projections) bit for bit like the packed path", async () => {
    // Depth <= 16 runs through gemm.cc's shallow path (the unpacked kernel, B made row-contiguous). The same
    // product padded with zero depth to 24 takes the packed path: each FMA with a zero adds +0 to a nonzero
    // sum, so the bits must be the same.
    const addon = nativeAddon()!;
    const padded = 24;
    const cases: [number, number, number][] = [[1024, 128, 8], [1000, 384, 16], [50, 77, 3], [61, 33, 1]];
    for (const [m, n, k] of cases) {
      for (const [transposeA, transposeB] of transposes) {
        for (const mode of ["plain", "bias", "accumulate"] as const) {
          const aVals = Float32Array.from({ length: m * k }, () => Math.random() * 2 - 1);
          const bVals = Float32Array.from({ length: k * n }, () => Math.random() * 2 - 1);
          const cVals = Float32Array.from({ length: m * n }, () => Math.random() * 2 - 1);
          const bias = mode === "bias" ? Float32Array.from({ length: n }, () => Math.random() * 4 - 2) : null;
          const results = [k, padded].map((depth) => {
            const a = storeMatrix(m, depth, transposeA, (i, p) => (p < k ? aVals[i * k + p]! : 0));
            const b = storeMatrix(depth, n, transposeB, (p, j) => (p < k ? bVals[p * n + j]! : 0));
            const c = cVals.slice();
            if (mode === "accumulate") addon.matMulAccumulate(a, b, c, m, n, depth, transposeA, transposeB);
            else addon.matMul(a, b, c, 1, 1, 1, m, n, depth, transposeA, transposeB, bias, 0, 0, null);
            return c;
          });
          const label = `${m}x${n}x${k} ${transposeA} ${transposeB} ${mode}`;
          let differing = 0;
          for (let i = 0; i < m * n; i++) if (!Object.is(results[0]![i], results[1]![i])) differing++;
          expect(differing, label).toBe(0);
          for (const [i, j] of [[0, 0], [m - 1, n - 1], [m >> 1, n >> 1]] as const) {
            let sum = mode === "accumulate" ? cVals[i * n + j]! : (bias?.[j] ?? 0);
            for (let p = 0; p < k; p++) sum += aVals[i * k + p]! * bVals[p * n + j]!;
            expect(Math.abs(results[0]![i * n + j]! - sum), `${label} (${i}, ${j})`).toBeLessThan(1e-3);
          }
        }
      }
    }
  });

  it("is correct with every micro-kernel family this CPU runs", async () => {
    const addon = nativeAddon()!;
    const keyOf: Record<string, "avx512" | "avx2" | "portable"> = { "AVX-512 FMA": "avx512", "AVX2 FMA": "avx2", portable: "portable" };
    const original = keyOf[addon.gemmIsa()]!;
    try {
      for (const isa of ["avx512", "avx2", "portable"] as const) {
        if (!addon.selectGemmIsa(isa)) continue;
        for (const [transposeA, transposeB] of transposes) {
          await checkMatMul([2, ...shapeOf(131, 263, transposeA)], shapeOf(263, 97, transposeB), transposeA, transposeB);
          await checkMatMul(shapeOf(7, 300, transposeA), shapeOf(300, 45, transposeB), transposeA, transposeB);
        }
      }
    } finally {
      addon.selectGemmIsa(original);
    }
  });
});
