/**
 * GGUF v3 writer (the layout of ggml's gguf.cpp): header, key/value metadata, tensor infos, padding to
 * `general.alignment`, then each tensor's data at an aligned offset. Tensor data is quantized and written
 * in chunks of rows, so a model is never held twice in memory; the file appears under its name only when whole.
 */
import type { FileHandle } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { withAtomicFile } from "../util/atomicWrite.js";
import { GgmlType, ggmlTypeName } from "./ggmlType.js";
import { type GgufMetadataEntry, type GgufMetaType, ggufTypeId, ggufTypeSize } from "./metadataTypes.js";
import { codecFor } from "./quant/index.js";
import { alignUp, elementCount, maxTensorDims, tensorByteLength } from "./tensorLayout.js";

export interface GgufTensorToWrite {
  name: string;
  /** ggml order: shape[0] = ne[0] is the contiguous dimension. */
  shape: number[];
  type: GgmlType;
  /** Row-major, ne[0] fastest; quantized by the writer. */
  data: Float32Array;
  /**
   * The tensor's bytes already in `type`'s block layout (e.g. from llama.cpp's quantizer, for a type this project
   * reads but does not write): written as they are, `data` is then not quantized.
   */
  blocks?: Uint8Array;
  /**
   * Makes the blocks when the tensor is written, for files too large to hold (a 7B model as float32 is 27 GB):
   * `data` may then be empty.
   */
  produceBlocks?: () => Uint8Array;
}

export interface GgufToWrite {
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorToWrite[];
  /** Data alignment in bytes (default 32, or `general.alignment` when the metadata has it). */
  alignment?: number;
}

const defaultAlignment = 32;
/** ggml's GGML_MAX_NAME (64) counts the terminating NUL. */
const maxTensorNameBytes = 63;
/** Quantize and write at most about this many bytes at a time. */
const chunkBytes = 4 << 20;

export async function writeGguf(path: string, file: GgufToWrite): Promise<void> {
  const fail = (detail: string): never => {
    throw new UsageError(`writing GGUF ${path}: ${detail}`);
  };
  const metadata = withAlignment(file.metadata, file.alignment, fail);
  const alignment = Number(metadata.find((e) => e.key === "general.alignment")?.value ?? defaultAlignment);
  const tensors = file.tensors.map((tensor) => planTensor(tensor, fail));
  checkUniqueNames(metadata.map((e) => e.key), "metadata key", fail);
  checkUniqueNames(tensors.map((t) => t.tensor.name), "tensor name", fail);

  let dataOffset = 0;
  for (const planned of tensors) {
    planned.offset = dataOffset;
    dataOffset = alignUp(dataOffset + planned.byteLength, alignment);
  }
  const header = new ByteWriter();
  header.bytes(Buffer.from("GGUF", "latin1"));
  header.u32(3);
  header.u64(BigInt(tensors.length));
  header.u64(BigInt(metadata.length));
  for (const entry of metadata) writeEntry(header, entry, fail);
  for (const { tensor, offset } of tensors) {
    header.string(tensor.name);
    header.u32(tensor.shape.length);
    for (const d of tensor.shape) header.u64(BigInt(d));
    header.u32(tensor.type);
    header.u64(BigInt(offset));
  }
  const headerBytes = header.finish();
  const dataStart = alignUp(headerBytes.length, alignment);

  await withAtomicFile(path, async (handle) => {
    await writeAt(handle, headerBytes, 0);
    for (const planned of tensors) await writeTensorData(handle, planned, dataStart + planned.offset);
    // Padding (header to data section, after each tensor) is zeros up to the aligned end, as gguf.cpp writes it.
    await handle.truncate(dataStart + dataOffset);
  });
}

interface PlannedTensor {
  tensor: GgufTensorToWrite;
  byteLength: number;
  offset: number;
}

function planTensor(tensor: GgufTensorToWrite, fail: (detail: string) => never): PlannedTensor {
  const what = `tensor "${tensor.name}"`;
  if (!tensor.name || Buffer.byteLength(tensor.name) > maxTensorNameBytes) {
    fail(`${what}: a tensor name must be 1 to ${maxTensorNameBytes} bytes`);
  }
  if (tensor.shape.length < 1 || tensor.shape.length > maxTensorDims) fail(`${what}: expected 1 to ${maxTensorDims} dimensions, got ${tensor.shape.length}`);
  if (!tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) fail(`${what}: every dimension must be a positive integer, got [${tensor.shape}]`);
  const given = tensor.blocks ?? tensor.produceBlocks;
  if (!given && !codecFor(tensor.type)) fail(`${what}: writing ${ggmlTypeName(tensor.type)} is not supported (pass its quantized blocks)`);
  if (!tensor.produceBlocks && tensor.data.length !== elementCount(tensor.shape)) {
    fail(`${what}: shape [${tensor.shape}] holds ${elementCount(tensor.shape)} values but data has ${tensor.data.length}`);
  }
  const byteLength = tensorByteLength(tensor.shape, tensor.type);
  if (typeof byteLength === "string") return fail(`${what}: ${byteLength}`);
  if (tensor.blocks && tensor.blocks.length !== byteLength) fail(`${what}: ${byteLength} bytes of ${ggmlTypeName(tensor.type)} blocks expected, got ${tensor.blocks.length}`);
  return { tensor, byteLength, offset: 0 };
}

/** Quantizes and writes one tensor a chunk of rows at a time. */
async function writeTensorData(handle: FileHandle, planned: PlannedTensor, position: number): Promise<void> {
  const { tensor, byteLength } = planned;
  if (tensor.blocks) return writeAt(handle, tensor.blocks, position);
  if (tensor.produceBlocks) {
    const blocks = tensor.produceBlocks();
    if (blocks.length !== byteLength) throw new UsageError(`tensor "${tensor.name}": produced ${blocks.length} bytes of blocks, expected ${byteLength}`);
    return writeAt(handle, blocks, position);
  }
  const codec = codecFor(tensor.type)!;
  const rowValues = tensor.shape[0]!;
  const rowBytes = (rowValues / codec.blockSize) * codec.typeSize;
  const rows = byteLength / rowBytes;
  const rowsPerChunk = Math.max(1, Math.floor(chunkBytes / rowBytes));
  const buffer = new Uint8Array(Math.min(rows, rowsPerChunk) * rowBytes);
  for (let row = 0; row < rows; row += rowsPerChunk) {
    const chunkRows = Math.min(rowsPerChunk, rows - row);
    const out = buffer.subarray(0, chunkRows * rowBytes);
    codec.quantize(tensor.data.subarray(row * rowValues, (row + chunkRows) * rowValues), out);
    await writeAt(handle, out, position + row * rowBytes);
  }
}

async function writeAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/** The metadata with `general.alignment` present when the alignment is not ggml's default. */
function withAlignment(metadata: GgufMetadataEntry[], alignment: number | undefined, fail: (detail: string) => never): GgufMetadataEntry[] {
  const entry = metadata.find((e) => e.key === "general.alignment");
  if (entry) {
    const value = Number(entry.value);
    if (entry.type !== "u32") fail(`metadata "general.alignment" must be u32 (llama.cpp reads it so), got ${entry.type}`);
    if (alignment !== undefined && alignment !== value) fail(`alignment ${alignment} disagrees with general.alignment = ${value}`);
    checkAlignment(value, fail);
    return metadata;
  }
  if (alignment === undefined || alignment === defaultAlignment) return metadata;
  checkAlignment(alignment, fail);
  return [...metadata, { key: "general.alignment", type: "u32", value: alignment }];
}

function checkAlignment(alignment: number, fail: (detail: string) => never): void {
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0 || alignment > 1 << 20) {
    fail(`alignment must be a power of two up to 1 MiB, got ${alignment}`);
  }
}

function checkUniqueNames(names: string[], what: string, fail: (detail: string) => never): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) fail(`duplicate ${what} "${name}"`);
    seen.add(name);
  }
}

function writeEntry(out: ByteWriter, entry: GgufMetadataEntry, fail: (detail: string) => never): void {
  const what = `metadata "${entry.key}"`;
  if (!(entry.type in ggufTypeId)) fail(`${what}: unknown type "${entry.type}"`);
  out.string(entry.key);
  out.u32(ggufTypeId[entry.type]);
  if (entry.type !== "array") {
    writeValue(out, entry.type, entry.value, what, fail);
    return;
  }
  const elementType = entry.arrayType;
  if (!elementType || !(elementType in ggufTypeId) || (elementType as string) === "array") {
    fail(`${what}: an array needs arrayType, one of the 12 scalar types (nested arrays are not written)`);
  }
  const values = entry.value;
  if (!Array.isArray(values) && !(ArrayBuffer.isView(values) && !(values instanceof DataView))) fail(`${what}: expected an array`);
  const list = values as ArrayLike<unknown>;
  out.u32(ggufTypeId[elementType!]);
  out.u64(BigInt(list.length));
  for (let i = 0; i < list.length; i++) writeValue(out, elementType!, list[i], `${what}[${i}]`, fail);
}

const integerRanges: Partial<Record<GgufMetaType, [bigint, bigint]>> = {
  u8: [0n, 0xffn], i8: [-0x80n, 0x7fn], u16: [0n, 0xffffn], i16: [-0x8000n, 0x7fffn],
  u32: [0n, 0xffffffffn], i32: [-0x80000000n, 0x7fffffffn],
  u64: [0n, 0xffffffffffffffffn], i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
};

function writeValue(out: ByteWriter, type: GgufMetaType, value: unknown, what: string, fail: (detail: string) => never): void {
  const range = integerRanges[type];
  if (range) {
    const isInteger = typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value));
    if (!isInteger) fail(`${what}: expected an integer for ${type}, got ${describe(value)}`);
    const v = BigInt(value as number | bigint);
    if (v < range[0] || v > range[1]) fail(`${what}: ${v} is out of range for ${type}`);
    out.integer(type, v);
  } else if (type === "f32" || type === "f64") {
    if (typeof value !== "number") fail(`${what}: expected a number for ${type}, got ${describe(value)}`);
    if (type === "f32") out.f32(value as number);
    else out.f64(value as number);
  } else if (type === "bool") {
    if (typeof value !== "boolean") fail(`${what}: expected a boolean, got ${describe(value)}`);
    out.u8(value ? 1 : 0);
  } else {
    if (typeof value !== "string") fail(`${what}: expected a string, got ${describe(value)}`);
    out.string(value as string);
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value.slice(0, 40)) : `${typeof value} ${String(value).slice(0, 40)}`;
}

/** A growable little-endian byte buffer for the header. */
class ByteWriter {
  private buffer = Buffer.alloc(1 << 16);
  private length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + n));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() may replace this.buffer, so it runs before this.buffer is read.
  bytes(b: Uint8Array): void { const at = this.reserve(b.length); this.buffer.set(b, at); }
  u8(v: number): void { const at = this.reserve(1); this.buffer.writeUInt8(v, at); }
  u32(v: number): void { const at = this.reserve(4); this.buffer.writeUInt32LE(v, at); }
  u64(v: bigint): void { const at = this.reserve(8); this.buffer.writeBigUInt64LE(v, at); }
  f32(v: number): void { const at = this.reserve(4); this.buffer.writeFloatLE(v, at); }
  f64(v: number): void { const at = this.reserve(8); this.buffer.writeDoubleLE(v, at); }
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(BigInt(bytes.length));
    this.bytes(bytes);
  }
  integer(type: GgufMetaType, v: bigint): void {
    const size = ggufTypeSize[type as keyof typeof ggufTypeSize];
    const at = this.reserve(size);
    if (size === 8) {
      if (type === "u64") this.buffer.writeBigUInt64LE(v, at);
      else this.buffer.writeBigInt64LE(v, at);
    } else if (type.startsWith("u")) this.buffer.writeUIntLE(Number(v), at, size);
    else this.buffer.writeIntLE(Number(v), at, size);
  }
  finish(): Buffer { return this.buffer.subarray(0, this.length); }
}
