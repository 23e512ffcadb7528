// The fused kernels' row loops compiled for no extra -m flags (the portable family); see fused_rows.h.
#include "fused.h"

namespace {
#include "fused_rows.h"
constexpr llm2llm::FusedRows rows = make_rows("generic");
}  // namespace

namespace llm2llm {
const FusedRows& fused_rows_generic() { return rows; }
}  // namespace llm2llm
