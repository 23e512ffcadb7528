/**
 * The trainable LoRA weights of one student (Hu et al. 2021): for each adapted projection with frozen
 * weight W [n_out, n_in],
 *     y = x·Wᵀ + (alpha / r) · (dropout(x)·Aᵀ)·Bᵀ,   A [r, n_in], B [n_out, r].
 * A starts Kaiming-uniform (PEFT's init: U(±1/√n_in)), B starts at zero, so a new adapter changes nothing.
 * A is row-major [r][n_in], which is byte for byte the ggml tensor `<name>.lora_a` of shape [n_in, r];
 * B is [n_out][r] = ggml `<name>.lora_b` [r, n_out]: no transposes on export or import.
 */
import * as tf from "@tensorflow/tfjs";
import type { LoraAdapterTensors, LoraTensorPair } from "../../gguf/adapter.js";
import { UsageError } from "../../errors.js";
import { SeededRandom } from "../train/seededRandom.js";
import { loraTargets, type LoraTarget } from "./loraTargets.js";

export interface LoraConfig {
  /** Rank r of A and B. Default 8. */
  rank: number;
  /** Scale numerator: the update is multiplied by alpha / r. Default 16. */
  alpha: number;
  /** Dropout on the adapter's input during training. Default 0. */
  dropout: number;
  /** Projections to adapt. Default all seven. */
  targets: LoraTarget[];
}

export const defaultLoraConfig: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: [...loraTargets] };

/** One adapted projection: the base tensor's name and the shape of its weight W [n_out, n_in]. */
export interface LoraSite {
  name: string;
  nIn: number;
  nOut: number;
}

/** What the model's forward pass takes (H2's contract): per base tensor name, A, B and the scale. */
export type LoraForwardMap = Map<string, { a: tf.Tensor2D; b: tf.Tensor2D; scale: number }>;

interface LoraPair {
  site: LoraSite;
  a: tf.Variable<tf.Rank.R2>; // [r, n_in]
  b: tf.Variable<tf.Rank.R2>; // [n_out, r]
}

export class LoraAdapter {
  private constructor(
    readonly rank: number,
    readonly alpha: number,
    readonly dropout: number,
    private readonly pairs: Map<string, LoraPair>,
  ) {}

  /** A fresh adapter: A Kaiming-uniform from the seed, B zero. */
  static create(sites: readonly LoraSite[], config: Pick<LoraConfig, "rank" | "alpha" | "dropout">, seed: number): LoraAdapter {
    checkConfig(config);
    const random = new SeededRandom(seed);
    const pairs = new Map<string, LoraPair>();
    for (const site of sites) {
      // kaiming_uniform_(a=√5) on A [r, n_in]: bound = gain·√(3/fan_in) with gain = √(2/(1+5)), i.e. 1/√n_in.
      const bound = 1 / Math.sqrt(site.nIn);
      const a = new Float32Array(config.rank * site.nIn);
      for (let i = 0; i < a.length; i++) a[i] = random.uniform(-bound, bound);
      pairs.set(site.name, {
        site,
        a: variableFrom(a, [config.rank, site.nIn]),
        b: variableFrom(new Float32Array(site.nOut * config.rank), [site.nOut, config.rank]),
      });
    }
    return new LoraAdapter(config.rank, config.alpha, config.dropout, pairs);
  }

  /** An adapter from plain tensors (an adapter GGUF read back), for resuming or evaluating. */
  static fromTensors(tensors: LoraAdapterTensors, dropout = 0): LoraAdapter {
    const ranks = new Set(tensors.pairs.map((p) => p.rank));
    if (ranks.size > 1) throw new UsageError(`adapter mixes LoRA ranks ${[...ranks].join(", ")}; one rank per adapter is supported`);
    const rank = tensors.pairs[0]?.rank ?? defaultLoraConfig.rank;
    const pairs = new Map<string, LoraPair>();
    for (const p of tensors.pairs) {
      const site = { name: p.baseName, nIn: p.nIn, nOut: p.nOut };
      pairs.set(p.baseName, {
        site,
        a: variableFrom(p.a, [p.rank, p.nIn]),
        b: variableFrom(p.b, [p.nOut, p.rank]),
      });
    }
    // An adapter without alpha means scale 1 in llama.cpp; alpha = r gives the same scale here.
    return new LoraAdapter(rank, tensors.alpha || rank, dropout, pairs);
  }

  /** alpha / r, the factor llama.cpp applies too (adapter scale 1). */
  get scale(): number {
    return this.alpha / this.rank;
  }

  get sites(): LoraSite[] {
    return [...this.pairs.values()].map((p) => p.site);
  }

  /** The trainable variables, A then B per site, in a fixed order (the optimizer's order). */
  get variables(): tf.Variable[] {
    return [...this.pairs.values()].flatMap((p) => [p.a, p.b]);
  }

  /** What the model's forward takes; `userScale` multiplies alpha / r, as llama.cpp's adapter scale. */
  forwardMap(userScale = 1): LoraForwardMap {
    const scale = this.scale * userScale;
    return new Map([...this.pairs].map(([name, p]) => [name, { a: p.a as tf.Tensor2D, b: p.b as tf.Tensor2D, scale }]));
  }

  /** Plain named tensors for the adapter GGUF writer (gguf/ knows nothing of tfjs); read with `data()`, as a GPU backend requires. */
  async toTensors(architecture: string): Promise<LoraAdapterTensors> {
    const pairs: LoraTensorPair[] = await Promise.all(
      [...this.pairs.values()].map(async (p) => ({
        baseName: p.site.name,
        rank: this.rank,
        nIn: p.site.nIn,
        nOut: p.site.nOut,
        a: (await p.a.data()) as Float32Array,
        b: (await p.b.data()) as Float32Array,
      })),
    );
    return { architecture, alpha: this.alpha, pairs };
  }

  dispose(): void {
    for (const p of this.pairs.values()) {
      p.a.dispose();
      p.b.dispose();
    }
    this.pairs.clear();
  }
}

/** A trainable variable holding a copy of the values (the staging tensor is freed at once). */
function variableFrom(values: Float32Array, shape: [number, number]): tf.Variable<tf.Rank.R2> {
  const initial = tf.tensor2d(values, shape);
  // No tfjs variable name: names are process-global, and two adapters on one base may live at once.
  const variable = tf.variable(initial, true);
  initial.dispose();
  return variable;
}

function checkConfig(config: Pick<LoraConfig, "rank" | "alpha" | "dropout">): void {
  if (!Number.isInteger(config.rank) || config.rank < 1) throw new UsageError(`--rank: expected a positive integer, got ${config.rank}`);
  if (!Number.isFinite(config.alpha) || config.alpha <= 0) throw new UsageError(`--alpha: expected a positive number, got ${config.alpha}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new UsageError(`--dropout: expected a number in [0, 1), got ${config.dropout}`);
}
