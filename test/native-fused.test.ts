/**
 * The fused native kernels (native/src/fused, src/student/fused) and the native element-wise kernels
 * against the plain tfjs composition run on tfjs's own JavaScript kernels: RMSNorm, RoPE (normal and NeoX,
 * partial rotation), grouped-query attention (causal, with a KV-cache offset, with padding masks, Dk ≠ Dv),
 * the SwiGLU gate, the LoRA projection, the masked cross-entropy, element-wise Add / Sub / Multiply / RealDiv,
 * row gathers; values and gradients (tf.grads through the custom ops vs through the composition), odd
 * and prime sizes, fresh random inputs each run; every row-loop family this CPU runs; 1 vs 2 threads bit
 * for bit; and the fallback to the composition when the native kernels are off.
 *
 * The addon is built by `npm install`; if it is missing these tests fail and say why
 * (set LLM2LLM_NATIVE_OPTIONAL=1 to skip them on a machine without a C++ toolchain).
 */
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { nativeAddon, nativeKernelsActive, setNativeThreads } from "../src/backend/nativeKernels.js";
import type { RopeType } from "../src/student/config.js";
import { nativeAttention } from "../src/student/fused/attention.js";
import { nativeMaskedCrossEntropy } from "../src/student/fused/crossEntropy.js";
import { nativeLoraLinear } from "../src/student/fused/loraLinear.js";
import { nativeRmsNorm } from "../src/student/fused/rmsNorm.js";
import { nativeRope } from "../src/student/fused/rope.js";
import { nativeSwiglu } from "../src/student/fused/swiglu.js";
import { adamWStep, nativeAdamWStep } from "../src/student/train/AdamW.js";
import {
  attention,
  attentionBias,
  attentionComposed,
  linear,
  type LoraContext,
  rmsNorm,
  rmsNormComposed,
  rope,
  ropeAngles,
  ropeComposed,
  swiglu,
  swigluComposed,
} from "../src/student/layers.js";
import { maskedCrossEntropy } from "../src/student/train/maskedCrossEntropy.js";
import { relativeError } from "./helpers/matmulReference.js";
import { setUpNativeKernels, withJsKernels } from "./helpers/nativeKernelSetup.js";

const { registered, optional, tolerance, defaultThreads } = await setUpNativeKernels("native-fused");

type Op = (...inputs: tf.Tensor[]) => tf.Tensor;

/** The op's value and its gradients w.r.t. every input under a fixed random upstream gradient. */
function valueAndGrads(op: Op, inputs: tf.Tensor[], upstream: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const value = op(...inputs);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), upstream)))(inputs);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/**
 * The fused op (native kernels on) against the composition on tfjs's JS kernels: value and every gradient
 * within `tolerance` (‖x − y‖ / ‖y‖). Also checks that the fused path really ran.
 */
function expectMatchesComposition(label: string, fused: Op, composed: Op, nativeRan: () => boolean, inputs: tf.Tensor[]) {
  expect(nativeRan(), `${label}: the native kernel runs`).toBe(true);
  const shape = tf.tidy(() => fused(...inputs).shape);
  const upstream = tf.randomNormal(shape);
  const ours = valueAndGrads(fused, inputs, upstream);
  const reference = withJsKernels(() => valueAndGrads(composed, inputs, upstream));
  ours.forEach((values, i) => {
    const what = i === 0 ? "value" : `gradient ${i - 1}`;
    expect(values.length, `${label} ${what}`).toBe(reference[i]!.length);
    expect(relativeError(values, reference[i]!), `${label} ${what}`).toBeLessThanOrEqual(tolerance);
  });
  upstream.dispose();
}

/** Same bits for values and gradients with 1 and 2 threads. */
function expectThreadIndependent(label: string, op: Op, inputs: tf.Tensor[]) {
  const upstream = tf.tidy(() => tf.randomNormal(op(...inputs).shape));
  setNativeThreads(1);
  const one = valueAndGrads(op, inputs, upstream);
  setNativeThreads(2);
  const two = valueAndGrads(op, inputs, upstream);
  setNativeThreads(defaultThreads);
  one.forEach((x, i) => {
    const y = two[i]!;
    let differing = x.length === y.length ? 0 : Infinity;
    for (let j = 0; j < x.length; j++) if (!Object.is(x[j], y[j])) differing++;
    expect(differing, `${label} output ${i}`).toBe(0);
  });
  upstream.dispose();
}

const rand = (shape: number[], scale = 1) => tf.randomNormal(shape, 0, scale);

// ---- cases: [label, fused op, composed op, native-ran check, inputs]
type Case = [string, Op, Op, () => boolean, () => tf.Tensor[]];

function rmsNormCase(shape: number[], eps: number): Case {
  const fused: Op = (x, w) => rmsNorm(x!, w as tf.Tensor1D, eps);
  const composed: Op = (x, w) => rmsNormComposed(x!, w as tf.Tensor1D, eps);
  const ran = () => tf.tidy(() => nativeRmsNorm(tf.ones(shape), tf.ones([shape.at(-1)!]) as tf.Tensor1D, eps) !== undefined);
  return [`rmsNorm [${shape}]`, fused, composed, ran, () => [rand(shape, 2), rand([shape.at(-1)!])]];
}

function ropeCase(b: number, t: number, h: number, d: number, nRot: number, type: RopeType, past = 0): Case {
  const positions = tf.tidy(() => tf.add(tf.range(past, past + t, 1, "int32").reshape([1, t]), tf.zeros([b, t], "int32"))) as tf.Tensor2D;
  const angles = ropeAngles(positions, nRot, 10000, 1);
  positions.dispose();
  const fused: Op = (x) => rope(x as tf.Tensor4D, angles, nRot, type);
  const composed: Op = (x) => ropeComposed(x as tf.Tensor4D, angles, nRot, type);
  const ran = () => tf.tidy(() => nativeRope(tf.ones([b, t, h, d]) as tf.Tensor4D, angles, nRot, type) !== undefined);
  return [`rope ${type} [${b},${t},${h},${d}] nRot ${nRot}`, fused, composed, ran, () => [rand([b, t, h, d])]];
}

function attentionCase(b: number, t: number, past: number, h: number, hkv: number, dk: number, dv: number, padded = false): Case {
  const s = past + t;
  const keyMask = padded
    ? tf.tensor2d(Array.from({ length: b }, (_, i) => Array.from({ length: s }, (_, j) => (j < i % 3 ? 0 : 1))), [b, s])
    : undefined;
  const bias = attentionBias(t, past, keyMask);
  keyMask?.dispose();
  const fused: Op = (q, k, v) => attention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, bias);
  const composed: Op = (q, k, v) => attentionComposed(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, bias);
  const ran = () =>
    tf.tidy(() => nativeAttention(tf.ones([b, t, h, dk]) as tf.Tensor4D, tf.ones([b, s, hkv, dk]) as tf.Tensor4D, tf.ones([b, s, hkv, dv]) as tf.Tensor4D, bias) !== undefined);
  return [
    `attention B${b} T${t} past${past} H${h} Hkv${hkv} Dk${dk} Dv${dv}${padded ? " padded" : ""}`,
    fused, composed, ran,
    () => [rand([b, t, h, dk]), rand([b, s, hkv, dk]), rand([b, s, hkv, dv])],
  ];
}

function swigluCase(shape: number[]): Case {
  const ran = () => tf.tidy(() => nativeSwiglu(tf.ones(shape), tf.ones(shape)) !== undefined);
  return [`swiglu [${shape}]`, swiglu, swigluComposed, ran, () => [rand(shape, 4), rand(shape)]];
}

function loraLinearCase(n: number, nIn: number, nOut: number, r: number, withBias: boolean): Case {
  const weight = rand([nOut, nIn], 0.1) as tf.Tensor2D;
  const bias = withBias ? (rand([nOut]) as tf.Tensor1D) : undefined;
  const proj = { name: "blk.0.attn_q.weight", weight, ...(bias ? { bias } : {}) };
  const scale = 16 / r;
  // The same function of (x, A, B) either way: linear() takes the fused path when it can.
  const op: Op = (x, a, b) => {
    const lora: LoraContext = { weights: new Map([[proj.name, { a: a as tf.Tensor2D, b: b as tf.Tensor2D, scale }]]), dropout: 0, training: true };
    return linear(x!, proj, lora);
  };
  const ran = () => tf.tidy(() => nativeLoraLinear(tf.ones([n, nIn]), weight, bias, tf.ones([r, nIn]), tf.ones([nOut, r]), scale) !== undefined);
  return [`LoRA linear N${n} ${nIn}→${nOut} r${r}${withBias ? " +bias" : ""}`, op, op, ran, () => [rand([n, nIn]), rand([r, nIn]), rand([nOut, r], 0.1)]];
}

function crossEntropyCase(b: number, t: number, vocab: number): Case {
  const targets = tf.tensor2d(Array.from({ length: b * t }, () => Math.floor(Math.random() * vocab)), [b, t], "int32");
  const mask = tf.tensor2d(Array.from({ length: b * t }, (_, i) => (i % 3 === 0 ? 0 : 1)), [b, t], "float32");
  const normaliser = b * t;
  // With the native kernels off, maskedCrossEntropy is its JavaScript row loop: the reference.
  const op: Op = (logits) => maskedCrossEntropy(logits as tf.Tensor3D, targets, mask, normaliser);
  const ran = () => tf.tidy(() => nativeMaskedCrossEntropy(tf.ones([b, t, vocab]), targets, mask, normaliser) !== undefined);
  return [`cross-entropy [${b},${t},${vocab}]`, op, op, ran, () => [rand([b, t, vocab], 3)]];
}

function runCase([label, fused, composed, ran, makeInputs]: Case) {
  const inputs = makeInputs();
  expectMatchesComposition(label, fused, composed, ran, inputs);
  tf.dispose(inputs);
}

describe.skipIf(!registered.ok && optional)("native fused kernels", () => {
  afterAll(() => setNativeThreads(defaultThreads));

  it("has the addon (built by npm install)", () => {
    expect(registered.ok ? "built" : registered.reason).toBe("built");
    expect(nativeKernelsActive()).toBe(true);
  });

  it("RMSNorm equals the composition, values and gradients (x and weight)", () => {
    // (n of 1 or 2 is left out: there dx cancels (n = 1: g·r·eps/(x² + eps)) to a few ulps of its terms in any float32 form.)
    for (const c of [rmsNormCase([3, 5], 1e-5), rmsNormCase([3, 7, 37], 1e-5), rmsNormCase([2, 5, 3, 97], 1e-6), rmsNormCase([131, 1000], 1e-5)]) runCase(c);
  });

  it("RoPE equals the composition, normal and NeoX pairing, full and partial rotation", () => {
    for (const type of ["normal", "neox"] as const) {
      runCase(ropeCase(2, 13, 5, 34, 34, type));
      runCase(ropeCase(1, 7, 3, 10, 6, type, 11));
      runCase(ropeCase(3, 1, 1, 2, 2, type, 5));
    }
  });

  it("grouped-query attention equals the composition: causal, after a cache, padded, Dk ≠ Dv", () => {
    runCase(attentionCase(2, 13, 0, 6, 2, 10, 10));
    runCase(attentionCase(1, 17, 0, 3, 3, 16, 16));
    runCase(attentionCase(2, 5, 7, 5, 1, 8, 12));
    runCase(attentionCase(3, 11, 0, 4, 2, 6, 6, true));
    runCase(attentionCase(1, 1, 0, 1, 1, 1, 1));
    runCase(attentionCase(2, 67, 0, 2, 1, 37, 37));
  });

  it("the LoRA projection x·Wᵀ + s·(x·Aᵀ)·Bᵀ equals the composition, with and without bias", () => {
    for (const c of [loraLinearCase(37, 29, 53, 8, false), loraLinearCase(1, 1, 1, 1, true), loraLinearCase(257, 130, 67, 3, true)]) runCase(c);
  });

  it("leaves a trainable W to the composition, which gives W its gradient", () => {
    const w = tf.variable(rand([5, 7]), true);
    expect(tf.tidy(() => nativeLoraLinear(tf.ones([3, 7]), w as tf.Variable<tf.Rank.R2>, undefined, tf.ones([2, 7]), tf.ones([5, 2]), 1))).toBeUndefined();
    w.dispose();
  });

  it("gathers embedding rows like the JS kernel, and fails on bad ids as it does", async () => {
    const table = rand([97, 33]);
    const cases: [tf.Tensor, number][] = [
      [tf.tensor1d([0, 96, 5, 5, 40], "int32"), 0],
      [tf.tensor2d([[3, 1], [2, 95]], undefined, "int32"), 0],
      [tf.tensor1d([1, 2, 1], "int32"), -2],
    ];
    for (const [ids, axis] of cases) {
      const ours = tf.gather(table, ids, axis);
      const js = withJsKernels(() => tf.gather(table, ids, axis));
      expect(ours.shape).toEqual(js.shape);
      expect(Array.from(await ours.data())).toEqual(Array.from(await js.data()));
      tf.dispose([ids, ours, js]);
    }
    const wide = rand([3, 40, 17]); // gather along a middle axis
    const ids = tf.tensor1d([39, 0, 7], "int32");
    expect(Array.from(await tf.gather(wide, ids, 1).data())).toEqual(Array.from(await withJsKernels(() => tf.gather(wide, ids, 1)).data()));
    const bad = tf.tensor1d([0, 97], "int32");
    const message = (fn: () => unknown) => { try { fn(); return "no error"; } catch (e) { return (e as Error).message; } };
    expect(message(() => tf.gather(table, bad))).toBe(message(() => withJsKernels(() => tf.gather(table, bad))));
    tf.dispose([table, wide, ids, bad]);
  });

  it("the masked cross-entropy equals the JavaScript one, value and gradient", () => {
    for (const c of [crossEntropyCase(2, 7, 131), crossEntropyCase(1, 1, 2), crossEntropyCase(3, 17, 1031)]) runCase(c);
  });

  it("AdamW's native step gives the JavaScript loop's bits, over many steps and with clipping", () => {
    const n = 5000;
    const random = (scale: number) => Float32Array.from({ length: n }, () => (Math.random() * 2 - 1) * scale);
    const param = random(1);
    const [jsParam, jsM, jsV] = [param.slice(), new Float32Array(n), new Float32Array(n)];
    const [nativeParam, nativeM, nativeV] = [param.slice(), new Float32Array(n), new Float32Array(n)];
    for (let t = 1; t <= 20; t++) {
      const grad = random(t % 3 === 0 ? 1e-6 : 3);
      const lr = 1e-3 * t;
      const h = { gradScale: t % 2 ? 1 : 0.37, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, decay: 1 - lr * 0.01, stepSize: lr / (1 - 0.9 ** t), sqrtC2: Math.sqrt(1 - 0.999 ** t) };
      const [jsNext, nativeNext] = [new Float32Array(n), new Float32Array(n)];
      adamWStep(h, jsParam, grad, jsM, jsV, jsNext);
      nativeAdamWStep(nativeAddon()!)(h, nativeParam, grad, nativeM, nativeV, nativeNext);
      for (const [x, y, name] of [[jsNext, nativeNext, "param"], [jsM, nativeM, "m"], [jsV, nativeV, "v"]] as const) {
        let differing = 0;
        for (let i = 0; i < n; i++) if (!Object.is(x[i], y[i])) differing++;
        expect(differing, `step ${t}, ${name}`).toBe(0);
      }
      jsParam.set(jsNext);
      nativeParam.set(nativeNext);
    }
    expect(Array.from(jsParam.slice(0, 4))).not.toEqual(Array.from(param.slice(0, 4)));
  });

  it("SwiGLU equals the composition", () => {
    for (const shape of [[1], [7, 131], [3, 5, 1009]]) runCase(swigluCase(shape));
  });

  it("Add, Sub, Multiply and RealDiv equal the JS kernels for same shapes, scalars and trailing broadcasts; other broadcasts fall back", async () => {
    const pairs: [number[], number[]][] = [
      [[1000], [1000]], [[17, 257], [17, 257]], [[17, 257], []], [[], [3, 331]], [[31, 67], [67]], [[1, 67], [29, 67]],
      [[5, 7, 67], [7, 67]], [[29, 1], [29, 67]], [[2, 1, 9], [2, 13, 9]], [[300], [1]],
    ];
    for (const [aShape, bShape] of pairs) {
      const a = rand(aShape);
      const b = rand(bShape);
      for (const op of [tf.add, tf.sub, tf.mul, tf.div]) {
        const ours = op(a, b);
        const js = withJsKernels(() => op(a, b));
        expect(ours.shape).toEqual(js.shape);
        // One rounding per element either way: exactly the same floats.
        expect(Array.from(await ours.data()), `${op.name} [${aShape}] [${bShape}]`).toEqual(Array.from(await js.data()));
        tf.dispose([ours, js]);
      }
      tf.dispose([a, b]);
    }
  });

  it("is correct with every row-loop family this CPU runs", () => {
    const addon = nativeAddon()!;
    const keyOf: Record<string, "avx512" | "avx2" | "portable"> = { "AVX-512 FMA": "avx512", "AVX2 FMA": "avx2", portable: "portable" };
    const original = keyOf[addon.gemmIsa()]!;
    try {
      for (const isa of ["avx512", "avx2", "portable"] as const) {
        if (!addon.selectGemmIsa(isa)) continue;
        runCase(rmsNormCase([5, 67], 1e-5));
        runCase(ropeCase(2, 9, 3, 18, 18, "normal"));
        runCase(attentionCase(2, 19, 0, 4, 2, 12, 12));
        runCase(swigluCase([3, 401]));
        runCase(loraLinearCase(29, 31, 43, 4, true));
        runCase(crossEntropyCase(2, 5, 257));
      }
    } finally {
      addon.selectGemmIsa(original);
    }
  });

  it("gives bit-identical values and gradients with 1 and 2 threads", () => {
    const cases = [
      rmsNormCase([300, 97], 1e-5),
      ropeCase(4, 64, 6, 34, 34, "neox"),
      attentionCase(3, 61, 0, 6, 2, 16, 16),
      swigluCase([50_003]),
      loraLinearCase(300, 129, 257, 8, false),
      crossEntropyCase(4, 33, 509),
    ];
    for (const [label, fused, , , makeInputs] of cases) {
      const inputs = makeInputs();
      expectThreadIndependent(label, fused, inputs);
      tf.dispose(inputs);
    }
  });

  it("attention's products (unpacked, blocked by query rows) carry the packed GEMM's bits: out = P·V, dV = Σ Pᵀ·dO", () => {
    const addon = nativeAddon()!;
    const random = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
    // [b, t, heads, d] layout: head `head` of batch entry `bi` as a contiguous [t, d] copy.
    const headOf = (x: Float32Array, bi: number, t: number, heads: number, head: number, d: number) => {
      const out = new Float32Array(t * d);
      for (let i = 0; i < t; i++) out.set(x.subarray(((bi * t + i) * heads + head) * d, ((bi * t + i) * heads + head + 1) * d), i * d);
      return out;
    };
    const differing = (x: Float32Array, y: Float32Array) => x.reduce((n, v, i) => n + (Object.is(v, y[i]) ? 0 : 1), 0);
    // t = 300 runs the forward's P·V in two depth blocks; the dV check keeps t <= 256 (the causal dV starts each key
    // block's depth at its first query, so its depth blocks line up with the full product's only within one block).
    const cases: [number, number, number, number, number, boolean, boolean][] = [
      [2, 300, 4, 2, 64, true, false],
      [1, 130, 6, 2, 32, false, false],
      [2, 200, 4, 2, 32, true, true],
      [1, 77, 3, 3, 40, false, true],
    ];
    for (const [b, t, h, hkv, d, causal, checkDv] of cases) {
      const q = random(b * t * h * d), k = random(b * t * hkv * d), v = random(b * t * hkv * d);
      const bias = causal ? null : random(t * t);
      const out = new Float32Array(b * t * h * d), probs = new Float32Array(b * h * t * t);
      addon.attention(q, k, v, bias, 1, out, probs, b, t, t, h, hkv, d, d, 1 / Math.sqrt(d), causal);
      const dOut = random(out.length);
      const [dq, dk, dv] = [new Float32Array(q.length), new Float32Array(k.length), new Float32Array(v.length)];
      addon.attentionBackward(dOut, q, k, v, probs, dq, dk, dv, b, t, t, h, hkv, d, d, 1 / Math.sqrt(d), causal);
      const label = `b ${b} t ${t} h ${h}/${hkv} d ${d}${causal ? " causal" : ""}`;
      for (let bi = 0; bi < b; bi++) {
        for (let kvh = 0; kvh < hkv; kvh++) {
          const vh = headOf(v, bi, t, hkv, kvh, d);
          const dvSum = new Float32Array(t * d);
          for (let g = 0; g < h / hkv; g++) {
            const head = kvh * (h / hkv) + g;
            const p = probs.subarray((bi * h + head) * t * t, (bi * h + head + 1) * t * t);
            const pv = new Float32Array(t * d);
            addon.matMul(p, vh, pv, 1, 1, 1, t, d, t, false, false, null, 0, 0, null);
            expect(differing(pv, headOf(out, bi, t, h, head, d)), `${label}: out of head ${head}`).toBe(0);
            const dOutHead = headOf(dOut, bi, t, h, head, d);
            if (g === 0) addon.matMul(p, dOutHead, dvSum, 1, 1, 1, t, d, t, true, false, null, 0, 0, null);
            else addon.matMulAccumulate(p, dOutHead, dvSum, t, d, t, true, false);
          }
          if (checkDv) expect(differing(dvSum, headOf(dv, bi, t, hkv, kvh, d)), `${label}: dV of KV head ${kvh}`).toBe(0);
        }
      }
    }
  });

  it("falls back to the composition when the native kernels are off", () => {
    const x = rand([3, 8]);
    withJsKernels(() => {
      expect(nativeKernelsActive()).toBe(false);
      expect(tf.tidy(() => nativeRmsNorm(x, tf.ones([8]) as tf.Tensor1D, 1e-5))).toBeUndefined();
      expect(tf.tidy(() => nativeSwiglu(x, x))).toBeUndefined();
    });
    x.dispose();
  });
});
