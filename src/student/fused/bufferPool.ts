/**
 * Float32Arrays kept for reuse, by length: the block ops take their activations and scratch space here and
 * give them back when the backward is done, so a training step allocates (and the garbage collector frees)
 * almost nothing. A buffer taken and never given back (a forward with no backward) is simply collected.
 * Contents of a taken buffer are whatever was there: every user writes it in full before reading.
 */
import { outputArray } from "../../backend/nativeAddon.js";

export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private heldFloats = 0;

  take(length: number): Float32Array {
    const buffer = this.free.get(length)?.pop();
    if (!buffer) return outputArray(length);
    this.heldFloats -= length;
    return buffer;
  }

  give(buffer: Float32Array): void {
    const list = this.free.get(buffer.length);
    if (list) list.push(buffer);
    else this.free.set(buffer.length, [buffer]);
    this.heldFloats += buffer.length;
  }

  /** Floats held for reuse now. */
  get held(): number {
    return this.heldFloats;
  }

  /** Drops every kept buffer (after training, so their memory goes back). */
  clear(): void {
    this.free.clear();
    this.heldFloats = 0;
  }
}
