/**
 * Merged export: a full GGUF of the base with a LoRA adapter folded in, W' = W + scale · B·A, which llama.cpp
 * (or ollama) runs with no adapter. Every metadata key of the base is kept except general.file_type (the
 * mix of types changes). Tensor types:
 *   - adapted tensors are written F32: re-encoding W' as F16 or a quantized type would round the small
 *     LoRA update away and lose parity with "base + adapter";
 *   - other tensors keep the base's type when it re-encodes losslessly (F32, F16, BF16), else F32
 *     (the exact dequantized values; re-quantizing is not guaranteed to give the same bytes).
 * The whole model is held in memory as float32 while writing: fine for student-sized models.
 */
import { GgmlType } from "./ggmlType.js";
import type { LoraAdapterTensors } from "./adapter.js";
import { checkAdapterFitsBase } from "./adapter.js";
import { flattenMetadata } from "./metadataFlatten.js";
import { ggufMetadataEntry } from "./metadataTypes.js";
import { openGguf } from "./openGguf.js";
import { codecFor } from "./quant/index.js";
import { writeGguf, type GgufTensorToWrite } from "./writeGguf.js";

const losslessTypes = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

export interface MergeSummary {
  /** Base tensors that received the LoRA update (written F32). */
  merged: string[];
  /** Tensors written F32 although the base stored them in another type. */
  widenedToF32: string[];
}

/** Writes base + adapter as one GGUF at outPath. `userScale` multiplies alpha / r, as in llama.cpp. */
export async function writeMergedModel(
  basePath: string,
  adapter: LoraAdapterTensors,
  adapterPath: string,
  outPath: string,
  userScale = 1,
): Promise<MergeSummary> {
  const base = await openGguf(basePath);
  checkAdapterFitsBase(adapter, adapterPath, base);
  const pairs = new Map(adapter.pairs.map((p) => [p.baseName, p]));
  const summary: MergeSummary = { merged: [], widenedToF32: [] };
  const tensors: GgufTensorToWrite[] = [];
  for (const info of base.tensors) {
    const data = await base.readTensor(info.name);
    const pair = pairs.get(info.name);
    if (pair) {
      // llama.cpp: scale = user scale · alpha / r, or the user scale alone when alpha is absent (0).
      const scale = adapter.alpha ? (userScale * adapter.alpha) / pair.rank : userScale;
      addLowRankUpdate(data, pair.a, pair.b, pair.nIn, pair.nOut, pair.rank, scale);
      summary.merged.push(info.name);
    }
    const keep = !pair && losslessTypes.has(info.type) && codecFor(info.type) !== undefined;
    if (!keep && info.type !== GgmlType.F32) summary.widenedToF32.push(info.name);
    tensors.push({ name: info.name, shape: info.shape, type: keep ? info.type : GgmlType.F32, data });
  }
  const metadata = Object.entries(flattenMetadata(base.metadata))
    .filter(([key]) => key !== "general.file_type")
    .map(([key, value]) => ggufMetadataEntry(key, value));
  await writeGguf(outPath, { metadata, tensors });
  return summary;
}

/** w [n_out][n_in] += scale · b [n_out][r] · a [r][n_in], in place. */
export function addLowRankUpdate(w: Float32Array, a: Float32Array, b: Float32Array, nIn: number, nOut: number, rank: number, scale: number): void {
  const row = new Float64Array(nIn);
  for (let o = 0; o < nOut; o++) {
    row.fill(0);
    for (let k = 0; k < rank; k++) {
      const s = b[o * rank + k]!;
      if (s === 0) continue;
      const aRow = k * nIn;
      for (let i = 0; i < nIn; i++) row[i]! += s * a[aRow + i]!;
    }
    const wRow = o * nIn;
    for (let i = 0; i < nIn; i++) w[wRow + i]! += scale * row[i]!;
  }
}
