/**
 * LoRA adapters as llama.cpp loads them (llama-adapter.cpp, convert_lora_to_gguf.py): a GGUF with
 *   general.type = "adapter", general.architecture = the base's, adapter.type = "lora",
 *   adapter.lora.alpha (f32; llama.cpp's scale = user scale · alpha / r, r = lora_a's ne[1]),
 * and for every adapted base tensor W (ggml shape [n_in, n_out]) the pair
 *   "<W's name>.lora_a"  F32, ggml shape [n_in, r]   (row-major [r][n_in])
 *   "<W's name>.lora_b"  F32, ggml shape [r, n_out]  (row-major [n_out][r])
 * so that W·x + scale · B·(A·x) in ggml's mul_mat convention. Plain named Float32Arrays only: this layer
 * knows nothing of the student.
 */
import { existsSync } from "node:fs";
import { AdapterMismatchError, GgufFormatError, MissingFileError } from "../errors.js";
import { GgmlType } from "./ggmlType.js";
import { ggufMetadataEntry } from "./metadataTypes.js";
import { openGguf, type GgufFile, type GgufTensorInfo } from "./openGguf.js";
import { writeGguf } from "./writeGguf.js";

/** One adapted tensor: A [r, n_in] and B [n_out, r], row-major. */
export interface LoraTensorPair {
  /** The base tensor's name, e.g. "blk.0.attn_q.weight". */
  baseName: string;
  rank: number;
  nIn: number;
  nOut: number;
  a: Float32Array;
  b: Float32Array;
}

export interface LoraAdapterTensors {
  /** The base model's general.architecture (llama.cpp refuses an adapter of another architecture). */
  architecture: string;
  /** adapter.lora.alpha; 0 means "absent" (llama.cpp then uses scale 1). */
  alpha: number;
  pairs: LoraTensorPair[];
  /** general.name, optional. */
  name?: string;
}

export const loraASuffix = ".lora_a";
export const loraBSuffix = ".lora_b";

export async function writeLoraAdapter(path: string, adapter: LoraAdapterTensors): Promise<void> {
  const metadata = [
    ggufMetadataEntry("general.architecture", adapter.architecture),
    ggufMetadataEntry("general.type", "adapter"),
    ...(adapter.name ? [ggufMetadataEntry("general.name", adapter.name)] : []),
    ggufMetadataEntry("adapter.type", "lora"),
    ggufMetadataEntry("adapter.lora.alpha", adapter.alpha),
  ];
  const tensors = adapter.pairs.flatMap((p) => [
    { name: p.baseName + loraASuffix, shape: [p.nIn, p.rank], type: GgmlType.F32, data: p.a },
    { name: p.baseName + loraBSuffix, shape: [p.rank, p.nOut], type: GgmlType.F32, data: p.b },
  ]);
  await writeGguf(path, { metadata, tensors });
}

/** Reads an adapter GGUF back into plain tensors; anything llama.cpp would refuse is refused here too. */
export async function readLoraAdapter(path: string): Promise<LoraAdapterTensors> {
  if (!existsSync(path)) throw new MissingFileError(path, "adapter file");
  const file = await openGguf(path);
  const general = (file.metadata.general ?? {}) as Record<string, unknown>;
  const adapterMeta = (file.metadata.adapter ?? {}) as Record<string, unknown>;
  if (general.type !== "adapter") throw new GgufFormatError(path, `general.type is ${JSON.stringify(general.type)}, expected "adapter" (is this a full model?)`);
  if (adapterMeta.type !== "lora") throw new GgufFormatError(path, `adapter.type is ${JSON.stringify(adapterMeta.type)}, expected "lora"`);
  const alphaValue = (adapterMeta.lora as Record<string, unknown> | undefined)?.alpha;
  const alpha = typeof alphaValue === "number" ? alphaValue : 0;

  const halves = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
  for (const t of file.tensors) {
    const suffix = t.name.endsWith(loraASuffix) ? "a" : t.name.endsWith(loraBSuffix) ? "b" : undefined;
    if (suffix === undefined) {
      if (t.name.endsWith("_norm.weight")) continue; // llama.cpp skips these too
      throw new GgufFormatError(path, `tensor "${t.name}" is neither <name>.lora_a nor <name>.lora_b`);
    }
    const base = t.name.slice(0, -loraASuffix.length);
    const pair = halves.get(base) ?? {};
    pair[suffix] = t;
    halves.set(base, pair);
  }
  const pairs: LoraTensorPair[] = [];
  for (const [baseName, { a, b }] of halves) {
    if (!a || !b) throw new GgufFormatError(path, `LoRA pair for "${baseName}" is missing its ${a ? "lora_b" : "lora_a"} tensor`);
    if (a.shape.length !== 2 || b.shape.length !== 2) throw new GgufFormatError(path, `LoRA tensors of "${baseName}" must be 2-D`);
    const [nIn, rank] = a.shape as [number, number];
    const [rankB, nOut] = b.shape as [number, number];
    if (rank !== rankB) {
      throw new GgufFormatError(path, `"${baseName}": lora_a is [${a.shape}] and lora_b [${b.shape}]; expected lora_a [n_in, r] and lora_b [r, n_out]`);
    }
    pairs.push({ baseName, rank, nIn, nOut, a: await file.readTensor(a.name), b: await file.readTensor(b.name) });
  }
  if (pairs.length === 0) throw new GgufFormatError(path, "the adapter holds no LoRA tensors");
  return {
    architecture: file.architecture,
    alpha,
    pairs,
    ...(typeof general.name === "string" ? { name: general.name } : {}),
  };
}

/**
 * Checks an adapter against its base the way llama.cpp does (same architecture, every adapted tensor
 * present with ggml shape [n_in, n_out]), so a mismatch is one clear error instead of a failed load.
 */
export function checkAdapterFitsBase(adapter: LoraAdapterTensors, adapterPath: string, base: GgufFile): void {
  const fail = (detail: string): never => {
    throw new AdapterMismatchError(adapterPath, base.path, detail);
  };
  if (adapter.architecture !== base.architecture) {
    fail(`the adapter is for architecture "${adapter.architecture}", the model is "${base.architecture}"`);
  }
  for (const p of adapter.pairs) {
    const w = base.tensor(p.baseName);
    if (!w) fail(`the model has no tensor "${p.baseName}"`);
    const [nIn, nOut] = w!.shape;
    if (w!.shape.length !== 2 || nIn !== p.nIn || nOut !== p.nOut) {
      fail(`"${p.baseName}" is [${w!.shape}] in the model but the adapter's lora_a/lora_b imply [${p.nIn}, ${p.nOut}]`);
    }
  }
}
