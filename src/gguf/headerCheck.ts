/**
 * Checks a GGUF file's structure against its size before anything trusts it. node-llama-cpp's reader
 * allocates whatever a length field says and reads zeros past the end of a file, so a truncated or hostile
 * header could make it allocate gigabytes or loop for a very long time. This walk reads only lengths and
 * types (it keeps no values but `general.alignment`), in a fixed-size window, and refuses the file at the
 * first length that does not fit in the bytes that are left.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { GgufFormatError, MissingFileError } from "../errors.js";
import { checkTensorInfo } from "./tensorChecks.js";
import { alignUp } from "./tensorLayout.js";

export interface GgufHeaderSummary {
  version: number;
  tensorCount: number;
  kvCount: number;
  fileSize: number;
  alignment: number;
  /** Where the tensor data section starts. */
  dataStart: number;
}

const headerBytes = 24;
/** Smallest possible key/value: 8-byte length + 1-byte key, 4-byte type, 1-byte value. */
const minKvBytes = 14;
/** Smallest possible tensor info: name (8 + 1), n_dims (4), one dim (8), type (4), offset (8). */
const minTensorInfoBytes = 33;
/** gguf.h type ids whose values have a fixed size. */
const fixedValueBytes: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const stringType = 8;
const arrayType = 9;
const u32Type = 4;

/** Throws MissingFileError or GgufFormatError unless `path` is a structurally sound GGUF v2/v3 file. */
export async function checkGgufFile(path: string): Promise<GgufHeaderSummary> {
  const fileStat = await stat(path).catch(() => undefined);
  if (!fileStat) throw new MissingFileError(path, "GGUF model file");
  if (!fileStat.isFile()) throw new GgufFormatError(path, "not a regular file");
  const handle = await open(path, "r");
  try {
    return await walk(path, new WindowReader(handle, fileStat.size, path));
  } finally {
    await handle.close();
  }
}

async function walk(path: string, reader: WindowReader): Promise<GgufHeaderSummary> {
  const fail = (detail: string): never => {
    throw new GgufFormatError(path, detail);
  };
  const fileSize = reader.fileSize;
  if (fileSize < headerBytes) fail(`the file is ${fileSize} bytes, shorter than the ${headerBytes}-byte GGUF header (truncated?)`);
  const magic = await reader.bytes(4);
  if (Buffer.from(magic).toString("latin1") !== "GGUF") {
    fail(`expected the magic "GGUF" at byte 0, found ${JSON.stringify(Buffer.from(magic).toString("latin1"))} (0x${Buffer.from(magic).toString("hex")})`);
  }
  const version = await reader.u32();
  if (version === 1) fail("GGUF v1 is not supported (only v2 and v3); convert the model again with a current llama.cpp");
  if (version !== 2 && version !== 3) {
    fail(`unsupported GGUF version ${version}${version > 0xffff ? " (a big-endian GGUF?)" : ""}; expected 2 or 3`);
  }
  const tensorCount = await reader.u64();
  const kvCount = await reader.u64();
  const rest = BigInt(fileSize - headerBytes);
  if (kvCount * BigInt(minKvBytes) > rest) fail(`the header claims ${kvCount} metadata entries, more than a ${fileSize}-byte file can hold (truncated or corrupt)`);
  if (tensorCount * BigInt(minTensorInfoBytes) > rest) fail(`the header claims ${tensorCount} tensors, more than a ${fileSize}-byte file can hold (truncated or corrupt)`);

  let alignment = 32;
  for (let i = 0; i < Number(kvCount); i++) {
    const where = `metadata entry ${i}`;
    const key = await reader.string(`${where} key`, 1 << 16);
    const type = await reader.u32();
    if (key === "general.alignment") {
      if (type !== u32Type) fail(`metadata "general.alignment" has type id ${type}, expected u32 (4)`);
      alignment = await reader.u32();
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) fail(`general.alignment = ${alignment} is not a power of two`);
      continue;
    }
    await skipValue(reader, type, `metadata "${key}"`, fail);
  }

  const tensors: { name: string; dims: bigint[]; type: number; offset: bigint }[] = [];
  for (let i = 0; i < Number(tensorCount); i++) {
    const name = await reader.string(`tensor info ${i} name`, 1 << 10);
    const nDims = await reader.u32();
    if (nDims < 1 || nDims > 4) fail(`tensor "${name}" has ${nDims} dimensions; ggml tensors have 1 to 4`);
    const dims: bigint[] = [];
    for (let d = 0; d < nDims; d++) dims.push(await reader.u64());
    const type = await reader.u32();
    const offset = await reader.u64();
    tensors.push({ name, dims, type, offset });
  }
  const dataStart = alignUp(reader.position, alignment);
  if (dataStart > fileSize && tensors.length > 0) fail(`the tensor data section would start at byte ${dataStart}, past the end of the ${fileSize}-byte file (truncated?)`);
  for (const t of tensors) checkTensorInfo(path, { ...t, dataStart, alignment, fileSize });
  return { version, tensorCount: Number(tensorCount), kvCount: Number(kvCount), fileSize, alignment, dataStart };
}

async function skipValue(reader: WindowReader, type: number, what: string, fail: (detail: string) => never): Promise<void> {
  const fixed = fixedValueBytes[type];
  if (fixed !== undefined) return reader.skip(BigInt(fixed), what);
  if (type === stringType) return reader.skipString(what);
  if (type !== arrayType) return fail(`${what} has unknown value type id ${type}`);
  const elementType = await reader.u32();
  const count = await reader.u64();
  const elementBytes = fixedValueBytes[elementType];
  if (elementBytes !== undefined) return reader.skip(count * BigInt(elementBytes), `${what} (${count} values)`);
  if (elementType === arrayType) return fail(`${what} is an array of arrays, which llama.cpp does not read`);
  if (elementType !== stringType) return fail(`${what} is an array of unknown value type id ${elementType}`);
  // Every string is at least its 8-byte length: refuse an absurd count before looping over it.
  if (count * 8n > BigInt(reader.remaining)) fail(`${what} claims ${count} strings, more than the rest of the file can hold`);
  for (let i = 0n; i < count; i++) await reader.skipString(what);
}

/** Reads a file front to back through a 1 MiB window; every length is checked against the bytes left. */
class WindowReader {
  position = 0;
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly handle: FileHandle, readonly fileSize: number, private readonly path: string) {}

  get remaining(): number {
    return this.fileSize - this.position;
  }

  private truncated(what: string, need: bigint | number): never {
    throw new GgufFormatError(this.path, `${what} needs ${need} bytes at byte ${this.position} but the file ends at ${this.fileSize} (truncated or corrupt)`);
  }

  /** Makes `n` bytes at the current position available in the window. */
  private async ensure(n: number, what: string): Promise<number> {
    if (n > this.remaining) this.truncated(what, n);
    const end = this.position + n;
    if (this.position < this.windowStart || end > this.windowStart + this.window.length) {
      const length = Math.min(Math.max(n, 1 << 20), this.fileSize - this.position);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await this.handle.read(buffer, 0, length, this.position);
      if (bytesRead < n) this.truncated(what, n);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = this.position;
    }
    const at = this.position - this.windowStart;
    this.position = end;
    return at;
  }

  async bytes(n: number): Promise<Uint8Array> {
    const at = await this.ensure(n, "the header");
    return this.window.subarray(at, at + n);
  }

  // ensure() may replace this.window: it must run before this.window is read.
  async u32(): Promise<number> {
    const at = await this.ensure(4, "a 4-byte field");
    return this.window.readUInt32LE(at);
  }

  async u64(): Promise<bigint> {
    const at = await this.ensure(8, "an 8-byte field");
    return this.window.readBigUInt64LE(at);
  }

  async skip(n: bigint, what: string): Promise<void> {
    if (n > BigInt(this.remaining)) this.truncated(what, n);
    this.position += Number(n);
  }

  async skipString(what: string): Promise<void> {
    const length = await this.u64();
    await this.skip(length, `${what} (a string of ${length} bytes)`);
  }

  /** A string of at most `maxBytes` (keys and tensor names are short; a huge one means a corrupt file). */
  async string(what: string, maxBytes: number): Promise<string> {
    const length = await this.u64();
    if (length > BigInt(maxBytes)) {
      throw new GgufFormatError(this.path, `${what} claims to be ${length} bytes long (at most ${maxBytes} expected)`);
    }
    const at = await this.ensure(Number(length), `${what} (a string of ${length} bytes)`);
    return this.window.toString("utf8", at, at + Number(length));
  }
}
