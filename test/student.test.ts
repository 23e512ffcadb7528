/**
 * The tfjs student on its own (no llama.cpp, no files): config from metadata, the KV cache, padding masks,
 * the LoRA term of every projection, sampling, and no tensor leaks. Parity with llama.cpp is in parity*.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import { float32Weight } from "../src/student/StoredMatrix.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnsupportedModelError } from "../src/errors.js";
import { type Architecture, configFromGguf } from "../src/student/config.js";
import { generate, sampler } from "../src/student/generate.js";
import { KvCache } from "../src/student/kvCache.js";
import { rope, ropeAngles, ropeAnglesOfRange, type LoraPair } from "../src/student/layers.js";
import { StudentModel } from "../src/student/StudentModel.js";
import { adaptableProjections, projectionOf } from "../src/student/weights.js";
import { randomModelSource } from "./helpers/randomModel.js";

const nVocab = 96;
const small = { nEmbd: 32, nLayer: 2, nHead: 4, nHeadKv: 2, nFf: 64 };

async function smallModel(architecture: Architecture, extra: object = {}): Promise<StudentModel> {
  return StudentModel.fromGguf(randomModelSource({ architecture, ...small, ...extra, seed: 7 }, nVocab));
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe("config from GGUF metadata", () => {
  const tensors = [{ name: "token_embd.weight", shape: [8, 100] }];
  const base = { context_length: 512, embedding_length: 8, block_count: 1, feed_forward_length: 16, attention: { head_count: 2, layer_norm_rms_epsilon: 1e-5 } };

  it("reads llama with GQA, tied output and defaults", () => {
    const metadata = { general: { architecture: "llama" }, llama: { ...base, attention: { ...base.attention, head_count_kv: 1 } } };
    const c = configFromGguf({ path: "x.gguf", metadata, tensors });
    expect(c).toMatchObject({ nHead: 2, nHeadKv: 1, headDimK: 4, nRot: 4, ropeFreqBase: 10000, ropeType: "normal", tiedOutput: true, nVocab: 100 });
  });

  it("reads qwen3 head size from key_length and uses NeoX RoPE", () => {
    const metadata = { general: { architecture: "qwen3" }, qwen3: { ...base, attention: { ...base.attention, key_length: 16, value_length: 16 } } };
    const c = configFromGguf({ path: "x.gguf", metadata, tensors: [...tensors, { name: "output.weight", shape: [8, 100] }] });
    expect(c).toMatchObject({ headDimK: 16, headDimV: 16, nRot: 16, ropeType: "neox", qkNorm: true, qkvBias: false, tiedOutput: false });
  });

  it("refuses an unsupported architecture, naming it and the supported ones", () => {
    const metadata = { general: { architecture: "gpt2" }, gpt2: base };
    expect(() => configFromGguf({ path: "m.gguf", metadata, tensors })).toThrowError(UnsupportedModelError);
    expect(() => configFromGguf({ path: "m.gguf", metadata, tensors })).toThrowError(/m\.gguf: architecture "gpt2".*llama, qwen2, qwen3, gemma2, gemma3, phi3/);
  });

  it("reads gemma3 as llama.cpp does: √E embedding scale, GELU, q/k norm, every 6th layer global, local RoPE base 10000", () => {
    const gemma3 = { ...base, block_count: 7, rope: { freq_base: 1e6 }, attention: { ...base.attention, sliding_window: 512 } };
    const c = configFromGguf({ path: "x.gguf", metadata: { general: { architecture: "gemma3" }, gemma3 }, tensors });
    expect(c).toMatchObject({ embeddingScale: Math.fround(Math.sqrt(8)), ffnActivation: "gelu", qkNorm: true, ropeType: "neox", ropeFreqBase: 1e6 });
    expect(c.slidingWindow).toEqual({ size: 512, layers: [true, true, true, true, true, false, true], ropeFreqBase: 10000, ropeFreqScale: 1 });
    expect(c.finalLogitSoftcap).toBeUndefined(); // only when the file says
    expect(c.attentionScale).toBeUndefined(); // 1/√key_length, what attention() does
    const perLayer = { ...gemma3, block_count: 3, attention: { ...gemma3.attention, sliding_window_pattern: [false, true, true] } };
    expect(configFromGguf({ path: "x.gguf", metadata: { general: { architecture: "gemma3" }, gemma3: perLayer }, tensors }).slidingWindow?.layers).toEqual([false, true, true]);
    const noWindow = { ...base, attention: base.attention };
    expect(configFromGguf({ path: "x.gguf", metadata: { general: { architecture: "gemma3" }, gemma3: noWindow }, tensors }).slidingWindow).toBeUndefined();
  });

  it("reads gemma2's defaults: window 4096 on every other layer, soft-caps 50 and 30, always a tied output", () => {
    const gemma2 = { ...base, block_count: 4 };
    const c = configFromGguf({ path: "x.gguf", metadata: { general: { architecture: "gemma2" }, gemma2 }, tensors: [...tensors, { name: "output.weight", shape: [8, 100] }] });
    expect(c).toMatchObject({ attnLogitSoftcap: 50, finalLogitSoftcap: 30, tiedOutput: true, qkNorm: false });
    expect(c.slidingWindow).toEqual({ size: 4096, layers: [true, false, true, false], ropeFreqBase: 10000, ropeFreqScale: 1 });
  });

  it("reads phi3: its window ignored (as llama.cpp does), rope factors held up to the original context", () => {
    const phi3 = { ...base, attention: { ...base.attention, sliding_window: 2047 }, rope: { dimension_count: 2, scaling: { attn_factor: 1.19, original_context_length: 256 } } };
    const factors = [{ name: "rope_factors_short.weight", shape: [1] }];
    const c = configFromGguf({ path: "x.gguf", metadata: { general: { architecture: "phi3" }, phi3 }, tensors: [...tensors, ...factors] });
    expect(c).toMatchObject({ nRot: 2, ropeAttnFactor: 1.19, ropeShortFactorsContext: 256, ropeType: "neox" });
    expect(c.slidingWindow).toBeUndefined();
    const wideHeads = { ...phi3, attention: { ...phi3.attention, key_length: 8, value_length: 8 } };
    expect(() => configFromGguf({ path: "m.gguf", metadata: { general: { architecture: "phi3" }, phi3: wideHeads }, tensors })).toThrowError(/m\.gguf: phi3 with head sizes 8\/8/);
  });

  it("refuses a missing hyper-parameter, naming the key", () => {
    const metadata = { general: { architecture: "llama" }, llama: { ...base, block_count: undefined } };
    expect(() => configFromGguf({ path: "m.gguf", metadata, tensors })).toThrowError(/llama\.block_count: expected a number/);
  });
});

describe("phi3's RoPE factors", () => {
  it("refuses positions past the original context, where llama.cpp would switch to rope_factors_long", async () => {
    const source = randomModelSource({ architecture: "phi3", ...small, seed: 7 }, nVocab);
    ((source.metadata as { phi3: { rope: { scaling: Record<string, number> } } }).phi3.rope.scaling).original_context_length = 8;
    const model = await StudentModel.fromGguf(source);
    try {
      tf.dispose(model.forward([[1, 2, 3, 4, 5, 6, 7, 8]]));
      expect(() => model.forward([[1, 2, 3, 4, 5, 6, 7, 8, 9]])).toThrowError(/9 positions; this model's RoPE factors hold 8 \(llama\.cpp switches to rope_factors_long/);
      const cache = new KvCache(model.config.nLayer);
      tf.dispose(model.forward([[1, 2, 3, 4, 5, 6, 7, 8]], { cache }));
      expect(() => model.forward([[9]], { cache })).toThrowError(/9 positions/);
      cache.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("RoPE pairing", () => {
  it("rotates adjacent pairs (normal) or halves (neox) by pos · base^(-2i/n)", () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]); // one position, one head, Dh 4
    const angles = ropeAngles(tf.tensor2d([[3]], undefined, "int32"), 4, 100, 1);
    const [a0, a1] = [3, 3 / 10]; // angles of the two frequencies: 3·100^0, 3·100^(-1/2)
    const rot = (u: number, v: number, a: number) => [u * Math.cos(a) - v * Math.sin(a), u * Math.sin(a) + v * Math.cos(a)];
    const normal = [...rot(1, 2, a0), ...rot(3, 4, a1)];
    const [n0, n2] = rot(1, 3, a0);
    const [n1, n3] = rot(2, 4, a1);
    const neox = [n0!, n1!, n2!, n3!];
    expect(Array.from(rope(x, angles, 4, "normal").dataSync())).toEqual(normal.map((v) => expect.closeTo(v, 5)));
    expect(Array.from(rope(x, angles, 4, "neox").dataSync())).toEqual(neox.map((v) => expect.closeTo(v, 5)));
  });

  it("computes the angles of a plain position range (no tensor ops) with ropeAngles' exact bits", () => {
    const [b, t, past, nRot] = [3, 17, 5, 64];
    const positions = tf.tensor2d(Array.from({ length: b }, () => Array.from({ length: t }, (_, i) => past + i)), undefined, "int32");
    const viaTensors = ropeAngles(positions, nRot, 10000, 0.5);
    const viaRange = ropeAnglesOfRange(b, t, past, nRot, 10000, 0.5);
    for (const key of ["cos", "sin"] as const) {
      expect(viaRange[key].shape).toEqual(viaTensors[key].shape);
      const [x, y] = [viaRange[key].dataSync(), viaTensors[key].dataSync()];
      expect(x.every((v, i) => Object.is(v, y[i])), key).toBe(true);
    }
  });
});

// gemma's sliding window (4) is shorter than the cache test's 10 tokens and the padding test's 6.
describe.each(["llama", "qwen2", "qwen3", "gemma2", "gemma3", "phi3"] as const)("StudentModel (%s, random weights)", (architecture) => {
  let model: StudentModel;
  const tokens = [5, 17, 3, 88, 42, 9, 61, 30, 2, 77];
  const extra = {
    ...(architecture === "qwen3" || architecture === "gemma3" ? { headDim: 16 } : {}),
    ...(architecture === "gemma2" || architecture === "gemma3" ? { slidingWindow: 4 } : {}),
  };
  beforeAll(async () => {
    model = await smallModel(architecture, extra);
  });
  afterAll(() => model?.dispose());

  it("gives logits [B, T, V] and is causal: a later token never changes an earlier position", () => {
    const full = model.forward([tokens]);
    expect(full.shape).toEqual([1, tokens.length, nVocab]);
    const changed = model.forward([[...tokens.slice(0, 6), 1, 1, 1, 1]]);
    expect(maxAbsDiff(full.slice([0, 0, 0], [1, 6, -1]), changed.slice([0, 0, 0], [1, 6, -1]))).toBe(0);
    expect(maxAbsDiff(full.slice([0, 6, 0], [1, 1, -1]), changed.slice([0, 6, 0], [1, 1, -1]))).toBeGreaterThan(1e-3);
    tf.dispose([full, changed]);
  });

  it("KV cache: the prompt then one token at a time gives the logits of the whole sequence at once", () => {
    const full = model.forward([tokens]);
    const cache = new KvCache(model.config.nLayer);
    const parts = [model.forward([tokens.slice(0, 4)], { cache })];
    for (const t of tokens.slice(4)) parts.push(model.forward([[t]], { cache }));
    const stepped = tf.concat(parts, 1);
    expect(cache.length).toBe(tokens.length);
    expect(maxAbsDiff(full, stepped)).toBeLessThan(1e-4);
    cache.dispose();
    tf.dispose([full, stepped, ...parts]);
  });

  it("padding mask: left- and right-padded rows of a batch match each sequence alone", () => {
    const short = tokens.slice(0, 6);
    const alone = model.forward([short]);
    const pad = 0;
    const batch = model.forward([[pad, pad, pad, pad, ...short], [...short, pad, pad, pad, pad]], {
      attentionMask: [[0, 0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]],
    });
    const left = batch.slice([0, 4, 0], [1, 6, -1]);
    const right = batch.slice([1, 0, 0], [1, 6, -1]);
    expect(maxAbsDiff(alone, left)).toBeLessThan(1e-4);
    expect(maxAbsDiff(alone, right)).toBeLessThan(1e-4);
    tf.dispose([alone, batch, left, right]);
  });

  it("LoRA: zero B changes nothing; a LoRA equals the base with W + scale·B·A folded in", async () => {
    const r = 2;
    const lora = new Map<string, LoraPair>();
    const random = (shape: [number, number], seed: number) => tf.randomNormal(shape, 0, 0.3, "float32", seed) as tf.Tensor2D;
    let seed = 1;
    for (let layer = 0; layer < model.config.nLayer; layer++) {
      for (const p of adaptableProjections) {
        const projection = projectionOf(model.weights, layer, p); // phi3: attn_q, _k and _v are one attn_qkv
        if (lora.has(projection.name)) continue;
        const [nOut, nIn] = projection.weight.shape;
        lora.set(projection.name, { a: random([r, nIn], seed++), b: tf.zeros([nOut, r]) as tf.Tensor2D, scale: 2 });
      }
    }
    const base = model.forward([tokens]);
    const zeroB = model.forward([tokens], { lora });
    expect(maxAbsDiff(base, zeroB)).toBe(0);

    for (const pair of lora.values()) {
      pair.b.dispose();
      pair.b = random([pair.b.shape[0], r], seed++);
    }
    const adapted = model.forward([tokens], { lora });
    expect(maxAbsDiff(base, adapted)).toBeGreaterThan(1e-2);

    const source = randomModelSource({ architecture, ...small, ...extra, seed: 7 }, nVocab);
    const readBase = source.readTensor;
    source.readTensor = async (name) => {
      const data = await readBase(name);
      const pair = lora.get(name);
      if (!pair) return data;
      const delta = tf.tidy(() => tf.mul(tf.matMul(pair.b, pair.a), pair.scale)); // [n_out, n_in]
      const folded = tf.tidy(() => tf.add(tf.tensor(data, delta.shape), delta));
      const out = folded.dataSync() as Float32Array;
      tf.dispose([delta, folded]);
      return out;
    };
    const merged = await StudentModel.fromGguf(source);
    const mergedLogits = merged.forward([tokens]);
    expect(maxAbsDiff(adapted, mergedLogits)).toBeLessThan(1e-3);
    merged.dispose();
    tf.dispose([base, zeroB, adapted, mergedLogits]);
    for (const pair of lora.values()) tf.dispose([pair.a, pair.b]);
  });

  it("LoRA gradients reach A and B (as tf.Variables) and leave the base weights alone", () => {
    const proj = projectionOf(model.weights, 0, "attn_v");
    const weight = float32Weight(proj.weight);
    const before = weight.dataSync().slice();
    const a = tf.variable(tf.randomNormal([2, proj.weight.shape[1]], 0, 0.1, "float32", 3));
    const b = tf.variable(tf.zeros([proj.weight.shape[0], 2]));
    const lora = new Map([[proj.name, { a: a as tf.Tensor2D, b: b as tf.Tensor2D, scale: 1 }]]);
    const { grads } = tf.variableGrads(() => tf.mean(model.forward([tokens], { lora, loraDropout: 0.1, training: true, dropoutSeed: 5 })).asScalar(), [a, b]);
    expect(Object.keys(grads).sort()).toEqual([a.name, b.name].sort());
    expect(tf.tidy(() => tf.sum(tf.abs(grads[b.name]!)).dataSync()[0]!)).toBeGreaterThan(0); // B = 0: only B's gradient is non-zero
    expect(weight.dataSync()).toEqual(before);
    tf.dispose([a, b, ...Object.values(grads)]);
  });

  it("frees every intermediate tensor: forward and generate leave the live tensor count unchanged", async () => {
    const start = tf.memory().numTensors;
    tf.dispose(model.forward([tokens, tokens], { attentionMask: [tokens.map(() => 1), tokens.map(() => 1)] }));
    await generate(model, tokens.slice(0, 3), { maxTokens: 5, temperature: 0.8, seed: 1 });
    expect(tf.memory().numTensors).toBe(start);
  });

  it("greedy generation follows the argmax of the full forward pass", async () => {
    const out = (await generate(model, tokens.slice(0, 3), { maxTokens: 6 })).tokens;
    const check = model.forward([[...tokens.slice(0, 3), ...out]]);
    const argmax = tf.tidy(() => tf.argMax(check, -1).dataSync());
    for (let i = 0; i < out.length; i++) expect(out[i]).toBe(argmax[2 + i]);
    check.dispose();
  });
});

describe("sampling", () => {
  const logits = Float32Array.from([0, 2, 1, 3, -1]);
  it("is greedy without a temperature", () => {
    expect(sampler({ maxTokens: 1 })(logits)).toBe(3);
  });
  it("is reproducible with a seed and follows softmax(logits / T)", () => {
    const draw = (seed: number) => {
      const pick = sampler({ maxTokens: 1, temperature: 1, seed });
      return Array.from({ length: 2000 }, () => pick(logits));
    };
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    const share3 = a.filter((t) => t === 3).length / a.length;
    const expected = Math.exp(3) / [0, 2, 1, 3, -1].reduce((s, x) => s + Math.exp(x), 0);
    expect(share3).toBeCloseTo(expected, 1);
  });
  it("top-k 1 and a tiny top-p are greedy", () => {
    expect(sampler({ maxTokens: 1, temperature: 5, topK: 1, seed: 3 })(logits)).toBe(3);
    expect(sampler({ maxTokens: 1, temperature: 0.5, topP: 0.01, seed: 3 })(logits)).toBe(3);
  });
  it("stops at an end-of-generation token", async () => {
    const model = await smallModel("llama");
    const first = (await generate(model, [5, 6], { maxTokens: 4 })).tokens;
    const stopped = await generate(model, [5, 6], { maxTokens: 4, isEndOfGeneration: (t) => t === first[1] });
    expect(stopped).toEqual({ tokens: first.slice(0, first.indexOf(first[1]!)), stoppedBy: "eos" });
    model.dispose();
  });
});
