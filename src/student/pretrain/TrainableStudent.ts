/**
 * A student whose every weight is a trainable tf.Variable: full-parameter training (pretraining a toy model
 * from scratch), where LoRA training keeps the base frozen. It is the same StudentModel (the same forward,
 * the same GGUF tensor names and layouts), built from an in-memory tensor source and then given variables
 * in place of its frozen tensors, so what is trained is exactly what llama.cpp later runs.
 */
import * as tf from "@tensorflow/tfjs";
import { GgmlType, type GgufTensorToWrite } from "../../gguf/index.js";
import type { Linear } from "../layers.js";
import { StudentModel } from "../StudentModel.js";
import { float32Weight } from "../StoredMatrix.js";
import { type GgufTensorSource, isFusedBlock, type StudentWeights } from "../weights.js";
import { llamaMetadata, llamaTensors, nestedMetadata, type LlamaShape, type ShapedTensor } from "./modelShape.js";
import { registerFastSegmentSum } from "./segmentSumKernel.js";

export interface TrainableParameter {
  name: string;
  variable: tf.Variable;
  role: ShapedTensor["role"];
}

export class TrainableStudent {
  private constructor(
    readonly model: StudentModel,
    readonly shape: LlamaShape,
    /** In llama.cpp's tensor order (token_embd, blk.0.*, …, output_norm, output). */
    readonly parameters: TrainableParameter[],
  ) {}

  /** A model of this shape holding `values` (tensor name → row-major data), every tensor a variable. */
  static async create(shape: LlamaShape, values: ReadonlyMap<string, Float32Array>): Promise<TrainableStudent> {
    if (tf.getBackend() === "cpu") registerFastSegmentSum(); // the embedding gradient
    const tensors = llamaTensors(shape);
    const source: GgufTensorSource = {
      path: "memory:trainable-student",
      metadata: nestedMetadata(llamaMetadata(shape, "trainable")),
      tensors: tensors.map((t) => ({ name: t.name, shape: [...t.shape].reverse() })),
      readTensor: async (name) => values.get(name)!,
    };
    const model = await StudentModel.fromGguf(source);
    const variables = makeVariables(model.weights);
    const parameters = tensors.map((t) => ({ name: t.name, role: t.role, variable: variables.get(t.name)! }));
    return new TrainableStudent(model, shape, parameters);
  }

  get variables(): tf.Variable[] {
    return this.parameters.map((p) => p.variable);
  }

  /** The weights as GGUF tensors (matrices in `matrixType`, norms always F32, as llama.cpp's converters do). */
  ggufTensors(matrixType: GgmlType.F32 | GgmlType.F16): GgufTensorToWrite[] {
    return this.parameters.map((p) => ({
      name: p.name,
      shape: [...p.variable.shape].reverse(),
      type: p.role === "norm" ? GgmlType.F32 : matrixType,
      data: p.variable.dataSync() as Float32Array,
    }));
  }

  dispose(): void {
    this.model.dispose(); // the variables are the model's tensors now
  }
}

/** Replaces every tensor of the weights by a variable holding it (in place); returns them by GGUF name. */
function makeVariables(weights: StudentWeights): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const swap = <T extends tf.Tensor>(name: string, tensor: T): T => {
    const variable = tf.variable(tensor, true);
    tensor.dispose();
    out.set(name, variable);
    return variable as unknown as T;
  };
  const swapLinear = (linear: Linear) => {
    linear.weight = swap(linear.name, float32Weight(linear.weight));
  };
  const tied = weights.output.weight === weights.tokenEmbd;
  weights.tokenEmbd = swap("token_embd.weight", float32Weight(weights.tokenEmbd));
  if (tied) weights.output.weight = weights.tokenEmbd;
  else swapLinear(weights.output);
  weights.outputNorm = swap("output_norm.weight", weights.outputNorm);
  weights.blocks.forEach((block, i) => {
    if (isFusedBlock(block)) throw new Error("full-parameter training builds llama models only (no fused projections)");
    block.attnNorm = swap(`blk.${i}.attn_norm.weight`, block.attnNorm);
    block.ffnNorm = swap(`blk.${i}.ffn_norm.weight`, block.ffnNorm);
    for (const linear of [block.attnQ, block.attnK, block.attnV, block.attnOutput, block.ffnGate, block.ffnUp, block.ffnDown]) swapLinear(linear);
  });
  return out;
}
