// Decoding of ggml weight rows (GGUF tensor types) into float32, value for value what llama.cpp's
// dequantize_row_* gives (the same float operations in the same order; this unit is compiled with
// -ffp-contract=off so no product and sum fuse into an FMA) and what src/gguf/quant/*.ts gives.
//
// Included by the GEMM's ISA files (gemm_driver.h packs B panels from quantized rows): standard C headers
// only, no inline functions.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace llm2llm {

// ggml type ids (ggml.h), as stored in a GGUF file.
enum GgmlTypeId : int {
  kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ4_0 = 2, kGgmlQ4_1 = 3, kGgmlQ5_0 = 6, kGgmlQ5_1 = 7, kGgmlQ8_0 = 8,
  kGgmlQ2_K = 10, kGgmlQ3_K = 11, kGgmlQ4_K = 12, kGgmlQ5_K = 13, kGgmlQ6_K = 14, kGgmlIQ4_NL = 20,
  kGgmlIQ4_XS = 23, kGgmlBF16 = 30,
};

// Whether dequantize_range decodes `type`.
bool quant_type_supported(int type);
// "Q4_K", ...; nullptr when unsupported.
const char* quant_type_name(int type);
// Values per block of `type` (1 for F32 / F16 / BF16); 0 when unsupported.
int quant_block_size(int type);
// Bytes of one row of `cols` values; 0 when the type is unsupported or cols is not a whole number of blocks.
size_t row_bytes(int type, int cols);
// Writes the ids of every supported type into `types` (room for 32) and returns how many.
int quant_supported_types(int* types);

// out[0, count) = values [first, first + count) of one row of `type` starting at `row`. The range may start and
// end inside a block: the covering blocks are decoded whole (into a small buffer at the edges). `type` must be
// supported and the range inside the row (the caller checks).
void dequantize_range(int type, const uint8_t* row, int first, int count, float* out);

}  // namespace llm2llm
