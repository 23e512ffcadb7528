/** ggml tensor types, numbered as in ggml.h (these numbers are what a GGUF file stores). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
  Q2_0 = 42,
}

/** Numbers ggml once used and has since removed: llama.cpp refuses files holding them too. */
const removedTypes: Record<number, string> = {
  4: "Q4_2", 5: "Q4_3", 31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8", 36: "IQ4_NL_4_4", 37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8",
};

export function ggmlTypeName(type: number): string {
  return GgmlType[type] ?? (removedTypes[type] ? `${removedTypes[type]} (removed from ggml)` : `unknown type ${type}`);
}

/**
 * Block geometry of every type a GGUF may hold (ggml.c `type_traits`): `blockSize` values share one block of
 * `typeSize` bytes. Needed to size and bounds-check a tensor even when this project cannot decode its type.
 */
export interface GgmlTypeTraits {
  readonly blockSize: number;
  readonly typeSize: number;
}

const QK_K = 256;

const traits: Partial<Record<GgmlType, GgmlTypeTraits>> = {
  [GgmlType.F32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.F16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.Q4_0]: { blockSize: 32, typeSize: 2 + 16 },
  [GgmlType.Q4_1]: { blockSize: 32, typeSize: 4 + 16 },
  [GgmlType.Q5_0]: { blockSize: 32, typeSize: 2 + 4 + 16 },
  [GgmlType.Q5_1]: { blockSize: 32, typeSize: 4 + 4 + 16 },
  [GgmlType.Q8_0]: { blockSize: 32, typeSize: 2 + 32 },
  [GgmlType.Q8_1]: { blockSize: 32, typeSize: 4 + 32 },
  [GgmlType.Q2_K]: { blockSize: QK_K, typeSize: 16 + 64 + 4 },
  [GgmlType.Q3_K]: { blockSize: QK_K, typeSize: 32 + 64 + 12 + 2 },
  [GgmlType.Q4_K]: { blockSize: QK_K, typeSize: 4 + 12 + 128 },
  [GgmlType.Q5_K]: { blockSize: QK_K, typeSize: 4 + 12 + 32 + 128 },
  [GgmlType.Q6_K]: { blockSize: QK_K, typeSize: 128 + 64 + 16 + 2 },
  [GgmlType.Q8_K]: { blockSize: QK_K, typeSize: 4 + 256 + 32 },
  [GgmlType.IQ2_XXS]: { blockSize: QK_K, typeSize: 2 + 64 },
  [GgmlType.IQ2_XS]: { blockSize: QK_K, typeSize: 2 + 64 + 8 },
  [GgmlType.IQ3_XXS]: { blockSize: QK_K, typeSize: 2 + 96 },
  [GgmlType.IQ1_S]: { blockSize: QK_K, typeSize: 2 + 32 + 16 },
  [GgmlType.IQ4_NL]: { blockSize: 32, typeSize: 2 + 16 },
  [GgmlType.IQ3_S]: { blockSize: QK_K, typeSize: 2 + 64 + 8 + 32 + 4 },
  [GgmlType.IQ2_S]: { blockSize: QK_K, typeSize: 2 + 64 + 8 + 8 },
  [GgmlType.IQ4_XS]: { blockSize: QK_K, typeSize: 2 + 2 + 4 + 128 },
  [GgmlType.I8]: { blockSize: 1, typeSize: 1 },
  [GgmlType.I16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.I32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.I64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.F64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.IQ1_M]: { blockSize: QK_K, typeSize: 32 + 16 + 8 },
  [GgmlType.BF16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.TQ1_0]: { blockSize: QK_K, typeSize: 48 + 4 + 2 },
  [GgmlType.TQ2_0]: { blockSize: QK_K, typeSize: 64 + 2 },
  [GgmlType.MXFP4]: { blockSize: 32, typeSize: 1 + 16 },
  [GgmlType.NVFP4]: { blockSize: 64, typeSize: 4 + 32 },
  [GgmlType.Q1_0]: { blockSize: 128, typeSize: 2 + 16 },
  [GgmlType.Q2_0]: { blockSize: 64, typeSize: 2 + 16 },
};

/** Block geometry of `type`, or undefined for a number ggml does not (or no longer) define. */
export function ggmlTypeTraits(type: number): GgmlTypeTraits | undefined {
  return traits[type as GgmlType];
}
