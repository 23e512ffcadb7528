/**
 * Builds GGUF bytes field by field with no checks at all, so tests can make the broken and hostile files
 * a real writer never would: wrong counts, absurd lengths, offsets past the end, unknown types.
 */
export interface RawKv {
  key: string;
  /** gguf.h type id; the value is given already encoded. */
  type: number;
  value: Buffer;
}

export interface RawTensorInfo {
  name: string;
  dims: bigint[];
  type: number;
  offset: bigint;
}

export interface RawGguf {
  magic?: string;
  version?: number;
  /** Defaults to kvs.length / tensors.length; set to lie. */
  kvCount?: bigint;
  tensorCount?: bigint;
  kvs?: RawKv[];
  tensors?: RawTensorInfo[];
  alignment?: number;
  data?: Buffer;
}

export const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
export const u64 = (v: bigint): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };
export const ggufString = (s: string): Buffer => Buffer.concat([u64(BigInt(Buffer.byteLength(s))), Buffer.from(s)]);

export function rawGguf(file: RawGguf): Buffer {
  const kvs = file.kvs ?? [{ key: "general.architecture", type: 8, value: ggufString("llama") }];
  const tensors = file.tensors ?? [];
  const parts: Buffer[] = [
    Buffer.from(file.magic ?? "GGUF", "latin1"),
    u32(file.version ?? 3),
    u64(file.tensorCount ?? BigInt(tensors.length)),
    u64(file.kvCount ?? BigInt(kvs.length)),
  ];
  for (const kv of kvs) parts.push(ggufString(kv.key), u32(kv.type), kv.value);
  for (const t of tensors) {
    parts.push(ggufString(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(t.type), u64(t.offset));
  }
  const header = Buffer.concat(parts);
  const alignment = file.alignment ?? 32;
  const padding = Buffer.alloc((alignment - (header.length % alignment)) % alignment);
  return Buffer.concat([header, padding, file.data ?? Buffer.alloc(0)]);
}
