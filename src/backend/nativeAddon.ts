/**
 * The compiled addon of native/ (built by `npm install` through node-gyp) and its JavaScript face.
 * Loading never throws: a missing or broken build gives the reason, and the caller falls back to
 * the pure-JS tfjs kernels.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Activation codes of native/src/gemm/gemm.h (enum class Activation). */
export const nativeActivation = {
  linear: 0,
  relu: 1,
  relu6: 2,
  elu: 3,
  leakyrelu: 4,
  prelu: 5,
  sigmoid: 6,
} as const;
export type NativeActivationName = keyof typeof nativeActivation;

export interface NativeAddon {
  /**
   * c[b] = op(a[b % batchA]) · op(b[b % batchB]) (+ bias, then activation), written into c.
   * a: [batchA, m, k] (or [batchA, k, m] transposed), b: [batchB, k, n] (or [batchB, n, k]), c: [batch, m, n];
   * bias and prelu weights have 1 or n elements.
   */
  matMul(
    a: Float32Array, b: Float32Array, c: Float32Array,
    batch: number, batchA: number, batchB: number, m: number, n: number, k: number,
    transposeA: boolean, transposeB: boolean,
    bias: Float32Array | null, activation: number, leakyAlpha: number, prelu: Float32Array | null,
  ): void;
  /** c [m, n] += op(a) · op(b): a [m, k] (or [k, m] transposed), b [k, n] (or [n, k]). */
  matMulAccumulate(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transposeA: boolean, transposeB: boolean): void;
  /** The micro-kernel family in use: "AVX-512 FMA", "AVX2 FMA" or "portable". */
  gemmIsa(): string;
  /** Switches the micro-kernel family; false when this CPU lacks it. */
  selectGemmIsa(isa: "avx512" | "avx2" | "portable"): boolean;
  // Fused kernels (native/src/fused): outputs are caller-allocated Float32Arrays, written in place.
  /** y = x · rsqrt(mean(x²) + eps) · w per row; rstd [rows] keeps the rsqrt for the backward. x, y: [rows, n]. */
  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, rows: number, n: number, eps: number): void;
  rmsNormBackward(
    dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array, dw: Float32Array, rows: number, n: number,
  ): void;
  /** x, out: [positions, heads, d]; cos, sin: [positions, nRot/2]; neox pairs (i, i + nRot/2), else (2i, 2i+1). */
  rope(
    x: Float32Array, cos: Float32Array, sin: Float32Array, out: Float32Array,
    positions: number, heads: number, d: number, nRot: number, neox: boolean, inverse: boolean,
  ): void;
  /** out = silu(g) · u, element-wise. */
  swiglu(g: Float32Array, u: Float32Array, out: Float32Array): void;
  swigluBackward(dy: Float32Array, g: Float32Array, u: Float32Array, dg: Float32Array, du: Float32Array): void;
  /**
   * Grouped-query attention: q [b, t, h, dk], k [b, s, hkv, dk], v [b, s, hkv, dv], bias [biasBatch, t, s] or null,
   * out [b, t, h, dv], probs [b, h, t, s] (softmax weights, kept for the backward).
   */
  attention(
    q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, biasBatch: number,
    out: Float32Array, probs: Float32Array,
    b: number, t: number, s: number, h: number, hkv: number, dk: number, dv: number, scale: number,
    /** The bias is exactly the causal mask (t = s, biasBatch 1): the blocks above the diagonal are skipped. */
    causal?: boolean,
  ): void;
  attentionBackward(
    dout: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array,
    b: number, t: number, s: number, h: number, hkv: number, dkSize: number, dvSize: number, scale: number, causal?: boolean,
  ): void;
  /** out = a op b (op 0 add, 1 subtract, 2 multiply, 3 divide); a and b repeat with periods that divide out's length. */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /**
   * One AdamW step (src/student/train/AdamW.ts applyValues, bit for bit): m and v updated in place, the new
   * parameters written to out.
   */
  adamw(
    param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array,
    gradScale: number, beta1: number, beta2: number, epsilon: number, decay: number, stepSize: number, sqrtC2: number,
  ): void;
  /**
   * Weighted cross-entropy per row of logits [rows, vocab]: loss[r] = w[r]·(lse[r] − logits[r, target[r]]),
   * lse kept for the backward; rows with weight 0 are skipped.
   */
  crossEntropy(logits: Float32Array, targets: Int32Array, weights: Float32Array, lse: Float32Array, loss: Float32Array, rows: number, vocab: number): void;
  /** grad = scale · w · (softmax − onehot(target)) per row (0 where w = 0). */
  crossEntropyBackward(
    logits: Float32Array, targets: Int32Array, weights: Float32Array, lse: Float32Array, grad: Float32Array, rows: number, vocab: number, scale: number,
  ): void;
  /** The row-loop family of the fused kernels ("avx512", "avx2", "generic"): follows selectGemmIsa. */
  fusedIsa(): string;
  // Quantized base weights (native/src/quant, native/src/gemm/gemm_quant.cc): W is a ggml weight of wRows rows of
  // wCols values (ne0 = wCols) in its GGUF encoding, a Uint8Array of exactly wRows × row-bytes (any byteOffset).
  /**
   * transposeW: c[m, wRows] (= or +=) a[m, wCols] · Wᵀ (+ bias[wRows]); else c[m, wCols] (= or +=) a[m, wRows] · W.
   * Bit for bit matMul / matMulAccumulate on the dequantized W (the GEMM packs its B panels from the blocks).
   * bias only with accumulate = false. Throws TypeError / RangeError on a bad type, length or argument.
   */
  matMulQuantized(
    a: Float32Array, w: Uint8Array, wType: number, wRows: number, wCols: number, c: Float32Array, m: number,
    transposeW: boolean, accumulate: boolean, bias: Float32Array | null,
  ): void;
  /** out[i·wCols, (i+1)·wCols) = row rowIds[i] of W, dequantized as llama.cpp does (ids checked against wRows). */
  dequantizeRows(w: Uint8Array, wType: number, wRows: number, wCols: number, rowIds: Int32Array, out: Float32Array): void;
  /** The ggml type ids matMulQuantized and dequantizeRows take. */
  quantizedTypes(): number[];
  /**
   * The whole file as an external ArrayBuffer over a read-only private mmap (unmapped when collected): file-backed
   * pages, not a heap copy. READ ONLY: writing into it faults and kills the process. Throws an Error with the
   * system's reason on failure, and "not supported" on platforms without mmap.
   */
  mapFile(path: string): ArrayBuffer;
  /** Total threads doing kernel work, the calling thread included. */
  setThreads(count: number): void;
  threads(): number;
}

/**
 * A Float32Array for a native kernel to fill completely: not zeroed first (Buffer.allocUnsafeSlow), which
 * saves a pass over memory per output; never use it for an array that is not written in full.
 */
export function outputArray(length: number): Float32Array {
  return new Float32Array(Buffer.allocUnsafeSlow(length * 4).buffer, 0, length);
}

export const nativeAddonPath = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../native/build/Release/llm2llm_native.node",
);

let loaded: { ok: true; addon: NativeAddon } | { ok: false; reason: string } | undefined;

/** The addon, loaded once per process, or why it is not there. */
export function loadNativeAddon(): { ok: true; addon: NativeAddon } | { ok: false; reason: string } {
  if (loaded) return loaded;
  if (!existsSync(nativeAddonPath)) {
    loaded = {
      ok: false,
      reason: `native addon not built (${path.relative(process.cwd(), nativeAddonPath)} missing; run \`npm run build:native\`, which needs g++, make and python3)`,
    };
    return loaded;
  }
  try {
    loaded = { ok: true, addon: createRequire(import.meta.url)(nativeAddonPath) as NativeAddon };
  } catch (error) {
    loaded = { ok: false, reason: `native addon failed to load: ${error instanceof Error ? error.message : String(error)}` };
  }
  return loaded;
}
