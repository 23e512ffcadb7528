/**
 * Keys and values of the positions already seen, per block, so generation feeds one new token per step
 * instead of the whole sequence again. Keys are stored after RoPE, as llama.cpp's KV cache holds them.
 * The cache owns its tensors: they survive the forward pass's tf.tidy and are freed by `dispose`.
 */
import * as tf from "@tensorflow/tfjs";

export class KvCache {
  private keys: (tf.Tensor4D | undefined)[]; // per block: [B, S, Hkv, Dk]
  private values: (tf.Tensor4D | undefined)[]; // per block: [B, S, Hkv, Dv]
  /** Positions held (S). */
  length = 0;

  constructor(readonly nLayer: number) {
    this.keys = new Array(nLayer).fill(undefined);
    this.values = new Array(nLayer).fill(undefined);
  }

  /**
   * Appends the new positions of one block and returns all of them: [B, S + T, Hkv, D]. Called inside the
   * forward pass's tidy; the returned tensors are kept (they outlive it) and the previous ones freed.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const allK = tf.keep(oldK ? tf.concat([oldK, k], 1) : k.clone());
    const allV = tf.keep(oldV ? tf.concat([oldV, v], 1) : v.clone());
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = allK;
    this.values[layer] = allV;
    return { k: allK, v: allV };
  }

  /** Called once per forward pass, after every block appended its T positions. */
  advance(t: number): void {
    this.length += t;
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values].filter((x): x is tf.Tensor4D => x !== undefined));
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.length = 0;
  }
}
