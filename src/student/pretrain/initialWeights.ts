/**
 * Seeded initial weights of a llama model trained from scratch, GPT-2 style (Radford et al. 2019; nanoGPT's
 * _init_weights): every matrix N(0, 0.02²), the two projections that write into the residual stream
 * (attn_output, ffn_down) scaled by 1/√(2·n_layer) so the stream's variance does not grow with depth, norms 1.
 * Values come from the project's seeded generator, so the same seed gives the same bytes on every machine.
 */
import { SeededRandom } from "../train/seededRandom.js";
import { llamaTensors, type LlamaShape } from "./modelShape.js";

const std = 0.02;

/** Tensor name → row-major values (JS [rows, cols] = ggml [cols, rows]). */
export function initialWeights(shape: LlamaShape, seed: number): Map<string, Float32Array> {
  const random = new SeededRandom(seed);
  const gaussian = () => {
    // Box–Muller; 1 − u keeps the logarithm finite.
    const u = 1 - random.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
  };
  const residualStd = std / Math.sqrt(2 * shape.nLayer);
  const weights = new Map<string, Float32Array>();
  for (const t of llamaTensors(shape)) {
    const values = new Float32Array(t.shape.reduce((a, b) => a * b, 1));
    if (t.role === "norm") values.fill(1);
    else {
      const s = t.role === "residualOut" ? residualStd : std;
      for (let i = 0; i < values.length; i++) values[i] = s * gaussian();
    }
    weights.set(t.name, values);
  }
  return weights;
}
