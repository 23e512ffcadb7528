// The fused kernels' row loops compiled for AVX2 (-mavx2 -mfma); see fused_rows.h.
#include "fused.h"

namespace {
#include "fused_rows.h"
constexpr llm2llm::FusedRows rows = make_rows("avx2");
}  // namespace

namespace llm2llm {
const FusedRows& fused_rows_avx2() { return rows; }
}  // namespace llm2llm
