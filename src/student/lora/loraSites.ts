/** The projections of a student model that a LoRA config adapts, with their weight shapes. */
import type { StudentModel } from "../StudentModel.js";
import { projectionOf } from "../weights.js";
import type { LoraSite } from "./LoraAdapter.js";
import { targetTensorName, type LoraTarget } from "./loraTargets.js";

/** Every (layer, target) projection, layer by layer: e.g. blk.0.attn_q.weight [n_out, n_in]. */
export function loraSitesOf(model: StudentModel, targets: readonly LoraTarget[]): LoraSite[] {
  const sites: LoraSite[] = [];
  for (let layer = 0; layer < model.config.nLayer; layer++) {
    for (const target of targets) {
      const projection = projectionOf(model.weights, layer, targetTensorName[target] as Parameters<typeof projectionOf>[2]);
      const [nOut, nIn] = projection.weight.shape;
      sites.push({ name: projection.name, nIn, nOut });
    }
  }
  return sites;
}
