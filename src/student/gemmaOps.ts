/**
 * gemma's GELU in tfjs, in ggml's tanh form, for the gated feed-forward (llama.cpp's build_ffn with LLM_FFN_GELU,
 * LLM_FFN_PAR: ffn_down(gelu(ffn_gate(x)) · ffn_up(x))). The soft-cap is layers.ts's softcap.
 */
import * as tf from "@tensorflow/tfjs";
import { type Linear, type LoraContext, linear } from "./layers.js";

const sqrt2OverPi = 0.7978845608028654;
const geluCoefA = 0.044715;

/** 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))), ggml_gelu_f32's formula. */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.mul(x, sqrt2OverPi), tf.add(1, tf.mul(geluCoefA, tf.square(x))));
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
}

/** GELU-gated feed-forward: ffn_down(gelu(ffn_gate(x)) · ffn_up(x)). */
export function gegluFeedForward(x: tf.Tensor, gate: Linear, up: Linear, down: Linear, lora?: LoraContext): tf.Tensor {
  const g = linear(x, gate, lora); // [..., n_ff]
  const u = linear(x, up, lora); // [..., n_ff]
  return linear(tf.mul(gelu(g), u), down, lora); // [..., n_embd]
}
