/**
 * Initial weights of a model grown from a smaller one of the same width: every tensor the smaller GGUF has is
 * copied (its blocks become the first blocks), the extra blocks keep their seeded random init except the two
 * projections that write into the residual stream, which start at zero — so the grown model starts out
 * computing exactly what the smaller one does, and training only adds to it.
 */
import { UsageError } from "../../src/errors.js";
import { openGguf } from "../../src/gguf/index.js";
import { initialWeights } from "../../src/student/pretrain/initialWeights.js";
import { llamaTensors, type LlamaShape } from "../../src/student/pretrain/modelShape.js";

export async function grownWeights(smallerPath: string, shape: LlamaShape, seed: number): Promise<Map<string, Float32Array>> {
  const weights = initialWeights(shape, seed);
  const smaller = await openGguf(smallerPath);
  const copied = new Set<string>();
  for (const tensor of smaller.tensors) {
    const target = weights.get(tensor.name);
    const values = await smaller.readTensor(tensor.name);
    if (!target || target.length !== values.length) {
      throw new UsageError(`${smallerPath}: tensor ${tensor.name} (${values.length} values) does not fit the grown model's shape`);
    }
    weights.set(tensor.name, values);
    copied.add(tensor.name);
  }
  for (const t of llamaTensors(shape)) {
    if (!copied.has(t.name) && t.role === "residualOut") weights.get(t.name)!.fill(0);
  }
  return weights;
}
