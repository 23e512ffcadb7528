/**
 * One transformer block of the frozen base, LoRA terms inside, as ONE op with its gradient: the forward and
 * the backward are each a straight sequence of native kernel calls on plain arrays (RMSNorm, the seven
 * projections with their low-rank terms, qk-norm, RoPE, attention, SwiGLU, the two residuals), with no tfjs
 * op, tensor or tape entry in between. Per block and step that replaces ~40 tfjs ops (and their gradient
 * ops, adds and reshapes) by one, and the activations the backward needs live in buffers reused across
 * steps (bufferPool.ts) instead of fresh arrays for the garbage collector.
 *
 * The same arithmetic as the per-op path of StudentModel.forward (the fused ops of this folder): the order of
 * every product and sum is theirs, so values and gradients match the tfjs composition to float32 rounding.
 *     h = norm(x);  q, k, v = lin(h);  [q, k = qkNorm(q, k)];  q, k = rope(q, k);  a = attention(q, k, v)
 *     x1 = x + lin_o(a);  f = norm(x1);  y = x1 + lin_down(silu(lin_gate(f)) · lin_up(f))
 * with lin(z) = z·Wᵀ (+ b) + s·(z·Aᵀ)·Bᵀ. Gradients flow to x and to every A and B; W, biases and norm
 * weights are frozen (the op is only used when none of them is a trainable variable).
 */
import * as tf from "@tensorflow/tfjs";
import type { NativeAddon } from "../../backend/nativeAddon.js";
import { outputArray } from "../../backend/nativeAddon.js";
import type { LlamaConfig } from "../config.js";
import { type Linear, type LoraContext, maskedScore } from "../layers.js";
import type { BlockWeights } from "../weights.js";
import { StoredMatrix } from "../StoredMatrix.js";
import { type WeightValues, weightProduct } from "../storedProduct.js";
import { BufferPool } from "./bufferPool.js";
import { activeFusedKernels, float32Values, nativeWeight, weightValues } from "./nativeFused.js";

/** The architectures the block op computes (gemma's post-norms, GELU and soft-caps, phi3's fused projections: the tfjs composition). */
export const nativeBlockArchitectures: readonly string[] = ["llama", "qwen2", "qwen3"];

/** Activation buffers of the block ops, reused from step to step. */
export const blockBuffers = new BufferPool();

/** One projection of the block: frozen weight [nOut, nIn], optional bias, optional LoRA pair (an op input). */
interface Projection {
  nIn: number;
  nOut: number;
  w: WeightValues;
  bias: Float32Array | null;
  lora?: { input: number; r: number; scale: number };
}

const sites = ["attnQ", "attnK", "attnV", "attnOutput", "ffnGate", "ffnUp", "ffnDown"] as const;
type Site = (typeof sites)[number];

function frozen(t: tf.Tensor | undefined): boolean {
  return !(t instanceof tf.Variable && t.trainable);
}

/**
 * The block as one op: x [B, T, E] → [B, T, E]; undefined when the native kernels are not active or the case is
 * not covered (LoRA dropout while training, a trainable base tensor, a KV cache, a non-float32 tensor).
 */
export function nativeTransformerBlock(
  x: tf.Tensor3D,
  block: BlockWeights,
  c: LlamaConfig,
  angles: { cos: tf.Tensor; sin: tf.Tensor },
  bias: tf.Tensor,
  lora: LoraContext | undefined,
  /** Recompute the block's activations in the backward instead of keeping them (gradient checkpointing). */
  checkpoint = false,
): tf.Tensor3D | undefined {
  if (!nativeBlockArchitectures.includes(c.architecture)) return undefined;
  const addon = activeFusedKernels();
  if (!addon || x.dtype !== "float32" || x.size === 0) return undefined;
  if (lora && lora.training && lora.dropout > 0) return undefined;
  const [b, t, e] = x.shape;
  const n = b * t;
  const { nHead: h, nHeadKv: hkv, headDimK: dk, headDimV: dv, nRot } = c;
  const half = nRot / 2;
  if (bias.rank !== 4 || bias.shape[1] !== 1 || bias.shape[2] !== t || bias.shape[3] !== t) return undefined; // no cache
  const biasBatch = bias.shape[0]!;
  if ((biasBatch !== 1 && biasBatch !== b) || h % hkv !== 0 || nRot % 2 !== 0 || nRot > dk) return undefined;
  if (angles.cos.size !== n * half || angles.sin.size !== n * half) return undefined;
  const norms = [block.attnNorm, block.ffnNorm, block.attnQNorm, block.attnKNorm];
  const linears = sites.map((s) => block[s]);
  const floatWeights = linears.map((l) => l.weight).filter((w): w is tf.Tensor2D => !(w instanceof StoredMatrix));
  const all = [x, bias, angles.cos, angles.sin, ...norms, ...floatWeights, ...linears.map((l) => l.bias)].filter((v) => v !== undefined);
  if (!all.every((v) => v.dtype === "float32" && frozen(v))) return undefined;
  if (!linears.every((l) => nativeWeight(l.weight))) return undefined;
  if (block.attnQNorm?.size !== block.attnKNorm?.size || (block.attnQNorm && block.attnQNorm.size !== dk)) return undefined;

  const inputs: tf.Tensor[] = [x];
  const projections = {} as Record<Site, Projection>;
  for (const site of sites) {
    const linear: Linear = block[site];
    const [nOut, nIn] = linear.weight.shape;
    const projection: Projection = { nIn, nOut, w: weightValues(linear.weight), bias: linear.bias ? float32Values(linear.bias) : null };
    const pair = lora?.weights.get(linear.name);
    if (pair) {
      const r = pair.a.shape[0];
      if (pair.a.dtype !== "float32" || pair.b.dtype !== "float32" || pair.a.shape[1] !== nIn || pair.b.shape[0] !== nOut || pair.b.shape[1] !== r) {
        return undefined;
      }
      projection.lora = { input: inputs.length, r, scale: pair.scale };
      inputs.push(pair.a, pair.b);
    }
    projections[site] = projection;
  }
  if (projections.attnQ.nOut !== h * dk || projections.attnK.nOut !== hkv * dk || projections.attnV.nOut !== hkv * dv) return undefined;
  if (projections.attnQ.nIn !== e || projections.attnOutput.nIn !== h * dv || projections.attnOutput.nOut !== e) return undefined;
  if (projections.ffnDown.nOut !== e || projections.ffnGate.nOut !== projections.ffnUp.nOut || projections.ffnDown.nIn !== projections.ffnUp.nOut) {
    return undefined;
  }

  const biasValues = float32Values(bias);
  const causal = biasBatch === 1 && isCausalMask(biasValues, t);
  const shape: BlockShape = { n, e, f: projections.ffnUp.nOut, b, t, h, hkv, dk, dv, nRot, neox: c.ropeType === "neox", eps: c.rmsEps, biasBatch, causal };
  const constants: BlockConstants = {
    attnNorm: float32Values(block.attnNorm),
    ffnNorm: float32Values(block.ffnNorm),
    qNorm: block.attnQNorm ? float32Values(block.attnQNorm) : null,
    kNorm: block.attnKNorm ? float32Values(block.attnKNorm) : null,
    cos: float32Values(angles.cos),
    sin: float32Values(angles.sin),
    bias: biasValues,
    projections,
  };
  const op = tf.customGrad((...args) => {
    const values = (args.slice(0, inputs.length) as tf.Tensor[]).map(float32Values);
    const { y, saved } = blockForward(addon, shape, constants, values);
    // Checkpointing: keep only the block's input (tfjs holds it for the op) and compute the rest again in the
    // backward, the same kernels on the same values, so the same bits. One block's activations live at a time.
    if (checkpoint) giveBack(saved);
    const gradFunc = (dy: tf.Tensor) => {
      const kept = checkpoint ? recomputeSaved(addon, shape, constants, values) : saved;
      const grads = blockBackward(addon, shape, constants, values, kept, float32Values(dy));
      return grads.map((g, i) => tf.tensor(g, inputs[i]!.shape, "float32"));
    };
    return { value: tf.tensor(y, x.shape, "float32"), gradFunc };
  });
  return op(...inputs) as tf.Tensor3D;
}

interface BlockShape {
  n: number; // rows: B·T
  e: number;
  f: number;
  b: number;
  t: number;
  h: number;
  hkv: number;
  dk: number;
  dv: number;
  nRot: number;
  neox: boolean;
  eps: number;
  biasBatch: number;
  /** The bias is exactly the causal mask: attention skips the blocks above the diagonal. */
  causal: boolean;
}

const causalMasks = new WeakMap<Float32Array, boolean>();

/** Whether a [T, T] bias is 0 on and below the diagonal and maskedScore above (no padding): no row is fully masked. */
function isCausalMask(bias: Float32Array, t: number): boolean {
  let known = causalMasks.get(bias);
  if (known === undefined) {
    known = bias.length === t * t;
    for (let i = 0; known && i < t; i++) for (let j = 0; j < t; j++) if (bias[i * t + j] !== (j > i ? maskedScore : 0)) known = false;
    causalMasks.set(bias, known);
  }
  return known;
}

interface BlockConstants {
  attnNorm: Float32Array;
  ffnNorm: Float32Array;
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
  cos: Float32Array;
  sin: Float32Array;
  bias: Float32Array;
  projections: Record<Site, Projection>;
}

/** What the forward keeps for the backward (pool buffers, handed back when the backward is done). */
type Saved = Record<string, Float32Array>;

function giveBack(saved: Saved): void {
  for (const buffer of Object.values(saved)) blockBuffers.give(buffer);
}

/** The forward again for its saved activations; its y (already the op's output) goes to a pool buffer, not new memory. */
function recomputeSaved(addon: NativeAddon, s: BlockShape, k: BlockConstants, values: Float32Array[]): Saved {
  const y = blockBuffers.take(s.n * s.e);
  const { saved } = blockForward(addon, s, k, values, y);
  blockBuffers.give(y);
  return saved;
}

/** out (=, or += when `accumulate`) input·Wᵀ (+ bias) + s·(input·Aᵀ)·Bᵀ; returns s·input·Aᵀ [n, r] (for the backward). */
function projectForward(
  addon: NativeAddon,
  p: Projection,
  values: Float32Array[],
  input: Float32Array,
  n: number,
  out: Float32Array,
  accumulate: boolean,
): Float32Array | undefined {
  if (!accumulate) weightProduct(addon, input, p.w, out, n, p.nOut, p.nIn, true, false, p.bias);
  else if (!p.bias) weightProduct(addon, input, p.w, out, n, p.nOut, p.nIn, true, true);
  else {
    const tmp = blockBuffers.take(n * p.nOut);
    weightProduct(addon, input, p.w, tmp, n, p.nOut, p.nIn, true, false, p.bias);
    addon.binary(0, out, tmp, out);
    blockBuffers.give(tmp);
  }
  if (!p.lora) return undefined;
  const { input: at, r, scale } = p.lora;
  const down = blockBuffers.take(n * r);
  addon.matMul(input, values[at]!, down, 1, 1, 1, n, r, p.nIn, false, true, null, 0, 0, null); // x·Aᵀ
  for (let i = 0; i < down.length; i++) down[i]! *= scale;
  addon.matMulAccumulate(down, values[at + 1]!, out, n, p.nOut, r, false, true); // += down·Bᵀ
  return down;
}

/**
 * The backward of one projection: dIn (=, or += when `accumulate`) dOut·W + g·A with g = s·dOut·B, and the
 * LoRA gradients dA = gᵀ·input, dB = dOutᵀ·down into grads (fresh arrays, handed to tfjs).
 */
function projectBackward(
  addon: NativeAddon,
  p: Projection,
  values: Float32Array[],
  grads: Float32Array[],
  input: Float32Array,
  down: Float32Array | undefined,
  dOut: Float32Array,
  n: number,
  dIn: Float32Array,
  accumulate: boolean,
): void {
  weightProduct(addon, dOut, p.w, dIn, n, p.nOut, p.nIn, false, accumulate); // dOut·W
  if (!p.lora || !down) return;
  const { input: at, r, scale } = p.lora;
  const g = blockBuffers.take(n * r);
  addon.matMul(dOut, values[at + 1]!, g, 1, 1, 1, n, r, p.nOut, false, false, null, 0, 0, null); // dOut·B
  for (let i = 0; i < g.length; i++) g[i]! *= scale;
  const dB = outputArray(p.nOut * r);
  addon.matMul(dOut, down, dB, 1, 1, 1, p.nOut, r, n, true, false, null, 0, 0, null); // dOutᵀ·down
  const dA = outputArray(r * p.nIn);
  addon.matMul(g, input, dA, 1, 1, 1, r, p.nIn, n, true, false, null, 0, 0, null); // gᵀ·input
  addon.matMulAccumulate(g, values[at]!, dIn, n, p.nIn, r, false, false); // dIn += g·A
  grads[at] = dA;
  grads[at + 1] = dB;
  blockBuffers.give(g);
}

/** The forward; `out` receives y (default a fresh array: y becomes the op's output tensor). */
function blockForward(addon: NativeAddon, s: BlockShape, k: BlockConstants, values: Float32Array[], out?: Float32Array): { y: Float32Array; saved: Saved } {
  const { n, e, f, h, hkv, dk, dv } = s;
  const p = k.projections;
  const x = values[0]!;
  const take = (length: number) => blockBuffers.take(length);
  const saved: Saved = {};
  // Attention half.
  const hIn = (saved.h = take(n * e));
  addon.rmsNorm(x, k.attnNorm, hIn, (saved.rstd1 = take(n)), n, e, s.eps);
  const q = (saved.q = take(n * h * dk));
  const kk = (saved.k = take(n * hkv * dk));
  const v = (saved.v = take(n * hkv * dv));
  const downs: Record<string, Float32Array | undefined> = {};
  downs.attnQ = projectForward(addon, p.attnQ, values, hIn, n, q, false);
  downs.attnK = projectForward(addon, p.attnK, values, hIn, n, kk, false);
  downs.attnV = projectForward(addon, p.attnV, values, hIn, n, v, false);
  let qPre = q;
  let kPre = kk;
  if (k.qNorm && k.kNorm) {
    qPre = saved.qn = take(q.length);
    kPre = saved.kn = take(kk.length);
    addon.rmsNorm(q, k.qNorm, qPre, (saved.rstdQ = take(n * h)), n * h, dk, s.eps);
    addon.rmsNorm(kk, k.kNorm, kPre, (saved.rstdK = take(n * hkv)), n * hkv, dk, s.eps);
  }
  const qr = (saved.qr = take(q.length));
  const kr = (saved.kr = take(kk.length));
  addon.rope(qPre, k.cos, k.sin, qr, n, h, dk, s.nRot, s.neox, false);
  addon.rope(kPre, k.cos, k.sin, kr, n, hkv, dk, s.nRot, s.neox, false);
  const attended = (saved.attended = take(n * h * dv));
  const probs = (saved.probs = take(s.b * h * s.t * s.t));
  addon.attention(qr, kr, v, k.bias, s.biasBatch, attended, probs, s.b, s.t, s.t, h, hkv, dk, dv, 1 / Math.sqrt(dk), s.causal);
  const x1 = (saved.x1 = take(n * e));
  x1.set(x);
  downs.attnOutput = projectForward(addon, p.attnOutput, values, attended, n, x1, true); // x1 = x + o
  // Feed-forward half.
  const fIn = (saved.f = take(n * e));
  addon.rmsNorm(x1, k.ffnNorm, fIn, (saved.rstd2 = take(n)), n, e, s.eps);
  const g = (saved.g = take(n * f));
  const u = (saved.u = take(n * f));
  downs.ffnGate = projectForward(addon, p.ffnGate, values, fIn, n, g, false);
  downs.ffnUp = projectForward(addon, p.ffnUp, values, fIn, n, u, false);
  const gated = (saved.gated = take(n * f));
  addon.swiglu(g, u, gated);
  const y = out ?? outputArray(n * e);
  y.set(x1);
  downs.ffnDown = projectForward(addon, p.ffnDown, values, gated, n, y, true); // y = x1 + down
  for (const [site, down] of Object.entries(downs)) if (down) saved[`down.${site}`] = down;
  return { y, saved };
}

function blockBackward(
  addon: NativeAddon,
  s: BlockShape,
  k: BlockConstants,
  values: Float32Array[],
  saved: Saved,
  dy: Float32Array,
): Float32Array[] {
  const { n, e, f, h, hkv, dk, dv } = s;
  const p = k.projections;
  const grads: Float32Array[] = new Array(values.length);
  const take = (length: number) => blockBuffers.take(length);
  const scratch: Float32Array[] = [];
  const temp = (length: number) => {
    const buffer = take(length);
    scratch.push(buffer);
    return buffer;
  };
  const down = (site: Site) => saved[`down.${site}`];
  // y = x1 + down(gated): dx1 starts as dy.
  const dx1 = temp(n * e);
  dx1.set(dy);
  const dGated = temp(n * f);
  projectBackward(addon, p.ffnDown, values, grads, saved.gated!, down("ffnDown"), dy, n, dGated, false);
  // dg overwrites g and du the spent `gated` (2·n·f floats fewer at the step's peak): swiglu_backward_span reads
  // g[i] and u[i] before it writes dg[i] last, and `gated` is no input.
  const dg = saved.g!;
  const du = saved.gated!;
  addon.swigluBackward(dGated, saved.g!, saved.u!, dg, du);
  const df = temp(n * e);
  projectBackward(addon, p.ffnGate, values, grads, saved.f!, down("ffnGate"), dg, n, df, false);
  projectBackward(addon, p.ffnUp, values, grads, saved.f!, down("ffnUp"), du, n, df, true);
  const dNorm = temp(n * e);
  const dwScratch = temp(Math.max(e, dk));
  addon.rmsNormBackward(df, saved.x1!, k.ffnNorm, saved.rstd2!, dNorm, dwScratch.subarray(0, e), n, e);
  addon.binary(0, dx1, dNorm, dx1);
  // x1 = x + o(attended).
  const dAttended = temp(n * h * dv);
  projectBackward(addon, p.attnOutput, values, grads, saved.attended!, down("attnOutput"), dx1, n, dAttended, false);
  const dqr = temp(n * h * dk);
  const dkr = temp(n * hkv * dk);
  const dv_ = temp(n * hkv * dv);
  addon.attentionBackward(dAttended, saved.qr!, saved.kr!, saved.v!, saved.probs!, dqr, dkr, dv_, s.b, s.t, s.t, h, hkv, dk, dv, 1 / Math.sqrt(dk), s.causal);
  let dq = temp(dqr.length);
  let dk_ = temp(dkr.length);
  addon.rope(dqr, k.cos, k.sin, dq, n, h, dk, s.nRot, s.neox, true);
  addon.rope(dkr, k.cos, k.sin, dk_, n, hkv, dk, s.nRot, s.neox, true);
  if (k.qNorm && k.kNorm) {
    const [dqIn, dkIn] = [temp(dq.length), temp(dk_.length)];
    addon.rmsNormBackward(dq, saved.q!, k.qNorm, saved.rstdQ!, dqIn, dwScratch.subarray(0, dk), n * h, dk);
    addon.rmsNormBackward(dk_, saved.k!, k.kNorm, saved.rstdK!, dkIn, dwScratch.subarray(0, dk), n * hkv, dk);
    [dq, dk_] = [dqIn, dkIn];
  }
  const dh = temp(n * e);
  projectBackward(addon, p.attnQ, values, grads, saved.h!, down("attnQ"), dq, n, dh, false);
  projectBackward(addon, p.attnK, values, grads, saved.h!, down("attnK"), dk_, n, dh, true);
  projectBackward(addon, p.attnV, values, grads, saved.h!, down("attnV"), dv_, n, dh, true);
  const dx = outputArray(n * e);
  addon.rmsNormBackward(dh, values[0]!, k.attnNorm, saved.rstd1!, dx, dwScratch.subarray(0, e), n, e);
  addon.binary(0, dx, dx1, dx);
  grads[0] = dx;
  for (const buffer of scratch) blockBuffers.give(buffer);
  giveBack(saved);
  return grads;
}
