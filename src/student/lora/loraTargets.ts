/**
 * Which projections carry a LoRA adapter, in the short names users type (q, k, v, o, gate, up, down) and
 * llama.cpp's tensor names they stand for (`blk.<i>.attn_q.weight` ...). The adapter GGUF names its tensors
 * `<base tensor name>.lora_a` / `.lora_b`, so these base names are the keys everywhere. A model with fused
 * projections (phi3) has no attn_q/k/v or ffn_gate: q, k or v adapt its attn_qkv, gate or up its ffn_up
 * (loraSites.ts), each fused matrix whole.
 */
import { UsageError } from "../../errors.js";

export const loraTargets = ["q", "k", "v", "o", "gate", "up", "down"] as const;
export type LoraTarget = (typeof loraTargets)[number];

/** llama.cpp's tensor name (between `blk.<i>.` and `.weight`) for each target. */
export const targetTensorName: Record<LoraTarget, string> = {
  q: "attn_q",
  k: "attn_k",
  v: "attn_v",
  o: "attn_output",
  gate: "ffn_gate",
  up: "ffn_up",
  down: "ffn_down",
};

/** `blk.3.attn_q.weight` for layer 3, target q. */
export function baseTensorName(layer: number, target: LoraTarget): string {
  return `blk.${layer}.${targetTensorName[target]}.weight`;
}

/** Parses `q,k,v,o` (or `all`); an unknown name is a UsageError naming the option. */
export function parseTargets(text: string, option = "--targets"): LoraTarget[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 1 && names[0] === "all") return [...loraTargets];
  if (names.length === 0) throw new UsageError(`${option}: expected a comma-separated subset of ${loraTargets.join(",")}`);
  const out: LoraTarget[] = [];
  for (const name of names) {
    if (!(loraTargets as readonly string[]).includes(name)) {
      throw new UsageError(`${option}: unknown target "${name}"; expected a subset of ${loraTargets.join(",")}`);
    }
    if (!out.includes(name as LoraTarget)) out.push(name as LoraTarget);
  }
  return out;
}
