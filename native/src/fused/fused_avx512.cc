// The fused kernels' row loops compiled for AVX-512 (-mavx512f -mavx512vl -mfma); see fused_rows.h.
#include "fused.h"

namespace {
#include "fused_rows.h"
constexpr llm2llm::FusedRows rows = make_rows("avx512");
}  // namespace

namespace llm2llm {
const FusedRows& fused_rows_avx512() { return rows; }
}  // namespace llm2llm
