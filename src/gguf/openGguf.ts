/**
 * A GGUF file opened for reading: metadata and tensor table from node-llama-cpp's `readGgufFileInfo` (after
 * `checkGgufFile` has checked every size against the file), tensor data read on demand with positioned reads
 * and dequantized to float32.
 */
import { open } from "node:fs/promises";
import { readGgufFileInfo } from "node-llama-cpp";
import { GgufFormatError, UnsupportedModelError } from "../errors.js";
import { GgmlType, ggmlTypeName } from "./ggmlType.js";
import { checkGgufFile } from "./headerCheck.js";
import { decoderFor, readableTensorTypes } from "./quant/index.js";
import { checkTensorInfo } from "./tensorChecks.js";

export interface GgufTensorInfo {
  name: string;
  /** ggml order: shape[0] = ne[0] is the contiguous dimension. */
  shape: number[];
  type: GgmlType;
  /** Absolute byte offset of the tensor's data in the file. */
  fileOffset: number;
  byteLength: number;
}

export interface GgufFile {
  path: string;
  version: number;
  fileSize: number;
  /** node-llama-cpp's nested metadata object (metadata.general.architecture, metadata.llama.attention.head_count). */
  metadata: Record<string, unknown>;
  /** general.architecture ("" for a file without one). */
  architecture: string;
  tensors: GgufTensorInfo[];
  tensor(name: string): GgufTensorInfo | undefined;
  /** Dequantized, row-major with ne[0] fastest: a ggml [n_in, n_out] weight reads as a JS [n_out][n_in] matrix. */
  readTensor(name: string): Promise<Float32Array>;
  /** The tensor's bytes as the file stores them (its ggml blocks). */
  readTensorBytes(name: string): Promise<Uint8Array>;
}

export async function openGguf(path: string): Promise<GgufFile> {
  const summary = await checkGgufFile(path);
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false, sourceType: "filesystem" });
  } catch (error) {
    throw new GgufFormatError(path, `node-llama-cpp could not read its metadata: ${error instanceof Error ? error.message : String(error)}`);
  }
  const tensors: GgufTensorInfo[] = (info.tensorInfo ?? []).map((t) => {
    const checked = checkTensorInfo(path, {
      name: t.name, dims: t.dimensions, type: t.ggmlType, offset: t.offset,
      dataStart: summary.dataStart, alignment: summary.alignment, fileSize: summary.fileSize,
    });
    if (checked.fileOffset !== Number(t.fileOffset)) {
      throw new GgufFormatError(path, `tensor "${t.name}": data offset disagreement (${checked.fileOffset} vs node-llama-cpp's ${t.fileOffset})`);
    }
    return { name: t.name, shape: checked.shape, type: t.ggmlType as number as GgmlType, fileOffset: checked.fileOffset, byteLength: checked.byteLength };
  });
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const metadata = info.metadata as unknown as Record<string, unknown>;
  const general = metadata.general as Record<string, unknown> | undefined;
  return {
    path,
    version: info.version,
    fileSize: summary.fileSize,
    metadata,
    architecture: typeof general?.architecture === "string" ? general.architecture : "",
    tensors,
    tensor: (name) => byName.get(name),
    readTensor: (name) => {
      const tensor = byName.get(name);
      if (!tensor) return Promise.reject(new UnsupportedModelError(path, `no tensor named "${name}" in this file`));
      return readTensorData(path, tensor);
    },
    readTensorBytes: async (name) => {
      const tensor = byName.get(name);
      if (!tensor) throw new UnsupportedModelError(path, `no tensor named "${name}" in this file`);
      const bytes = new Uint8Array(tensor.byteLength);
      const handle = await open(path, "r");
      try {
        await readFully(path, tensor.name, handle, bytes, tensor.fileOffset);
      } finally {
        await handle.close();
      }
      return bytes;
    },
  };
}

/** Fills `bytes` from `position` on (a read may return less than asked). */
async function readFully(path: string, name: string, handle: Awaited<ReturnType<typeof open>>, bytes: Uint8Array, position: number): Promise<void> {
  let filled = 0;
  while (filled < bytes.length) {
    const length = Math.min(bytes.length - filled, 1 << 30);
    const { bytesRead } = await handle.read(bytes, filled, length, position + filled);
    if (bytesRead === 0) throw new GgufFormatError(path, `tensor "${name}": the file ended at byte ${position + filled} (changed since it was opened?)`);
    filled += bytesRead;
  }
}

/** Read and decode this many bytes at a time, so a large tensor's raw bytes are never held whole. */
const chunkBytes = 8 << 20;

async function readTensorData(path: string, tensor: GgufTensorInfo): Promise<Float32Array> {
  const codec = decoderFor(tensor.type);
  if (!codec) {
    const supported = readableTensorTypes().map(ggmlTypeName).join(", ");
    throw new UnsupportedModelError(
      path,
      `tensor "${tensor.name}" has type ${ggmlTypeName(tensor.type)}, which llm2llm's student does not read (it reads ${supported}); ` +
        `llama.cpp runs it (use this file as the teacher, or requantize it with llama-quantize to one of those types)`,
    );
  }
  let elements = 1;
  for (const d of tensor.shape) elements *= d;
  const out = new Float32Array(elements);
  // Whole blocks per chunk: a chunk boundary never splits a block.
  const blocksPerChunk = Math.max(1, Math.floor(chunkBytes / codec.typeSize));
  const totalBlocks = tensor.byteLength / codec.typeSize;
  const buffer = new Uint8Array(Math.min(totalBlocks, blocksPerChunk) * codec.typeSize);
  const handle = await open(path, "r");
  try {
    for (let block = 0; block < totalBlocks; block += blocksPerChunk) {
      const blocks = Math.min(blocksPerChunk, totalBlocks - block);
      const bytes = buffer.subarray(0, blocks * codec.typeSize);
      const position = tensor.fileOffset + block * codec.typeSize;
      await readFully(path, tensor.name, handle, bytes, position);
      codec.dequantize(bytes, out.subarray(block * codec.blockSize, (block + blocks) * codec.blockSize));
    }
  } finally {
    await handle.close();
  }
  return out;
}
