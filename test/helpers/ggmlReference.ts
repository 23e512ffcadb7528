/**
 * llama.cpp's own quantizers and dequantizers, called through koffi (FFI) in the libggml-base shared library
 * that node-llama-cpp ships under node_modules/@node-llama-cpp/<platform>/bins/: ggml_quantize_chunk to make
 * blocks, ggml_get_type_traits(type)->to_float to decode them. Test-only: the reference a dequantizer is
 * checked against bit for bit, and the source of quantized tensors for types this project does not write.
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { GgmlType } from "../../src/gguf/index.js";
import { repoRoot } from "../fixtures.js";

type Koffi = typeof import("koffi");

export interface GgmlReference {
  /** The shared library these calls go to. */
  readonly library: string;
  /** llama.cpp's name of `type` (ggml_type_name). */
  typeName(type: GgmlType): string;
  /** ggml_blck_size and ggml_type_size of `type` (0 for a removed type). */
  geometry(type: number): { blockSize: number; typeSize: number };
  /** ggml_quantize_chunk without an importance matrix: `data` holds rows of `nPerRow` values. */
  quantize(type: GgmlType, data: Float32Array, nPerRow: number): Uint8Array;
  /** ggml_get_type_traits(type)->to_float over `values` values. */
  dequantize(type: GgmlType, blocks: Uint8Array, values: number): Float32Array;
}

const libraryNames: Record<string, string> = { linux: "libggml-base.so", darwin: "libggml-base.dylib", win32: "ggml-base.dll" };

/** The CPU build's libggml-base for this platform, or undefined when node-llama-cpp has none installed here. */
export function ggmlBaseLibrary(): string | undefined {
  const name = libraryNames[process.platform];
  if (!name) return undefined;
  const platform = `${process.platform === "win32" ? "win" : process.platform === "darwin" ? "mac" : process.platform}-${process.arch}`;
  const bins = path.join(repoRoot, "node_modules", "@node-llama-cpp", platform, "bins");
  if (!existsSync(bins)) return undefined;
  for (const dir of readdirSync(bins)) {
    const candidate = path.join(bins, dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

let loaded: GgmlReference | undefined;

/** Loads the reference once per process; undefined when the library or koffi is missing. */
export function ggmlReference(): GgmlReference | undefined {
  if (loaded) return loaded;
  const library = ggmlBaseLibrary();
  if (!library) return undefined;
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)("koffi") as Koffi;
  } catch {
    return undefined;
  }
  const lib = koffi.load(library);
  const typeName = lib.func("const char *ggml_type_name(int type)");
  const rowSize = lib.func("size_t ggml_row_size(int type, int64_t ne)");
  const blockSize = lib.func("int64_t ggml_blck_size(int type)");
  const typeSize = lib.func("size_t ggml_type_size(int type)");
  const quantizeChunk = lib.func(
    "size_t ggml_quantize_chunk(int type, const float *src, _Inout_ uint8_t *dst, int64_t start, int64_t nrows, int64_t n_per_row, const float *imatrix)",
  );
  const Traits = koffi.struct("ggml_type_traits_ref", {
    type_name: "const char *",
    blck_size: "int64_t",
    blck_size_interleave: "int64_t",
    type_size: "size_t",
    is_quantized: "bool",
    to_float: "void *",
    from_float_ref: "void *",
  });
  const getTraits = lib.func("const void *ggml_get_type_traits(int type)");
  const ToFloat = koffi.proto("void ggml_to_float_ref(const uint8_t *x, _Inout_ float *y, int64_t k)");
  loaded = {
    library,
    typeName: (type) => typeName(type) as string,
    geometry: (type) => ({ blockSize: Number(blockSize(type)), typeSize: Number(typeSize(type)) }),
    quantize(type, data, nPerRow) {
      const rows = data.length / nPerRow;
      const out = new Uint8Array(Number(rowSize(type, nPerRow)) * rows);
      const written = Number(quantizeChunk(type, data, out, 0, rows, nPerRow, null));
      if (written !== out.length) throw new Error(`ggml_quantize_chunk wrote ${written} bytes, expected ${out.length}`);
      return out;
    },
    dequantize(type, blocks, values) {
      const traits = koffi.decode(getTraits(type), Traits) as { to_float: unknown };
      if (!traits.to_float) throw new Error(`llama.cpp has no to_float for ${typeName(type)}`);
      const out = new Float32Array(values);
      koffi.call(traits.to_float, ToFloat, blocks, out, values);
      return out;
    },
  };
  return loaded;
}
