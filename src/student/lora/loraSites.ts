/** The projections of a student model that a LoRA config adapts, with their weight shapes. */
import type { StudentModel } from "../StudentModel.js";
import { projectionOf } from "../weights.js";
import type { LoraSite } from "./LoraAdapter.js";
import { targetTensorName, type LoraTarget } from "./loraTargets.js";

/**
 * Every (layer, target) projection, layer by layer: e.g. blk.0.attn_q.weight [n_out, n_in]. Where a model fuses
 * projections (phi3), targets that share a tensor give one site: q, k or v → blk.N.attn_qkv.weight, gate or up →
 * blk.N.ffn_up.weight.
 */
export function loraSitesOf(model: StudentModel, targets: readonly LoraTarget[]): LoraSite[] {
  const sites: LoraSite[] = [];
  for (let layer = 0; layer < model.config.nLayer; layer++) {
    for (const target of targets) {
      const projection = projectionOf(model.weights, layer, targetTensorName[target] as Parameters<typeof projectionOf>[2]);
      if (sites.some((s) => s.name === projection.name)) continue;
      const [nOut, nIn] = projection.weight.shape;
      sites.push({ name: projection.name, nIn, nOut });
    }
  }
  return sites;
}
