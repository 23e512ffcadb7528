// Single-precision GEMM for the tfjs BatchMatMul / _FusedMatMul kernels.
//
//   C[b] = op(A[b % batch_a]) · op(B[b % batch_b])      b in [0, batch)
//
// with op() an optional transpose, all matrices row-major and densely packed, exactly the batch
// semantics of the tfjs cpu kernel (flattened outer dimensions, modulo indexing). Blocked in the
// style of BLIS / Goto: panels of B (KC x NC) and A (MC x KC) are packed so the register-blocked
// micro-kernel (MR x NR of C held in vector registers) streams them from cache with unit stride.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../quant/dequantize.h"

namespace llm2llm {

// B of a GemmBlock read from a ggml-quantized weight W (rows of `row_bytes` bytes; quant/dequantize.h) instead of a
// float pointer: B(p, j) = W[j0 + j, p0 + p] when `transposed` (the forward x·Wᵀ), else W[p0 + p, j0 + j] (dy·W).
// The packed panels hold exactly the floats pack_b would copy from the dequantized W.
struct QuantizedB {
  const uint8_t* data;
  int type;
  size_t row_bytes;
  bool transposed;
  int p0, j0;  // where the block's B(0, 0) lies in W's coordinates
};

// One block of work for a micro-kernel family: C(i, j) = sum_p A(i, p) * B(p, j), i < m, j < n,
// where A(i, p) = a[i * rsa + p * csa], B(p, j) = b[p * rsb + j * csb], C(i, j) = c[i * ldc + j].
struct GemmBlock {
  const float* a;
  ptrdiff_t rsa, csa;
  const float* b;
  ptrdiff_t rsb, csb;
  float* c;
  ptrdiff_t ldc;
  int m, n, k;
  float* pack_a;  // >= packed_a_capacity_rows(mc, kc) * kc floats, 64-byte aligned
  float* pack_b;  // >= kc * nc floats, 64-byte aligned
  bool accumulate = false;  // C += A·B instead of C = A·B
  const QuantizedB* quantized_b = nullptr;  // when set, B comes from it (b, rsb, csb unused); `run` only
};

// A micro-kernel family compiled for one instruction set (gemm_avx512.cc, gemm_avx2.cc, gemm_generic.cc).
struct GemmKernel {
  const char* name;  // "AVX-512 FMA", "AVX2 FMA", "portable"
  int mr, nr;        // register block of C
  int mc, kc, nc;    // cache blocks (multiples of mr / nr)
  void (*run)(const GemmBlock& block);
  // C (=, +=) A·B for a block at most kNarrowWidth columns wide, A read in place (no packing: for LoRA's
  // rank-8/16 products the packing of the big operand costs more than the arithmetic); pack_b must hold
  // k * kNarrowWidth floats. Each element is the same chain of FMAs as `run` computes (KC-long depth blocks),
  // so the bits are those of `run`. nullptr for families without one.
  void (*narrow)(const GemmBlock& block);
  // C (=, +=) A·B with nothing packed: A's values broadcast where they lie, B's rows read in place (needs
  // csb == 1; pack_a / pack_b unused). For products too small for packing to pay, such as attention's per-head
  // products (their packing took ~30% of the attention time). Each element is `run`'s chain of FMAs (KC-long
  // depth blocks), so the bits are those of `run`. nullptr for families without one.
  void (*unpacked)(const GemmBlock& block);
};

// Rows of A the blocked loops pack at once when C is wider than one column block, so each depth block of A is
// packed once and serves every column block: m split evenly into the nearest whole number of ~1 MiB groups
// (at depth kc), each a multiple of mc. Nearest, not "at most 1 MiB": m = 1024 at kc = 256 is one group, not
// 1008 rows and a 16-row tail that would pack B again for 16 rows.
constexpr int packed_a_target_rows(int kc) { return (1 << 20) / (kc * 4); }
constexpr int packed_a_group_rows(int m, int mc, int kc) {
  const int nearest = (m + packed_a_target_rows(kc) / 2) / packed_a_target_rows(kc);
  const int groups = nearest > 1 ? nearest : 1;
  const int rows = (m + groups - 1) / groups;
  return (rows + mc - 1) / mc * mc;
}
// The most rows packed_a_group_rows() gives (one group of up to 1.5 targets), for sizing the packing buffer.
constexpr int packed_a_capacity_rows(int mc, int kc) { return (3 * packed_a_target_rows(kc) / 2 + mc - 1) / mc * mc; }

// The widest product GemmKernel::narrow takes.
constexpr int kNarrowWidth = 16;

const GemmKernel& gemm_kernel_generic();
#ifdef LLM2LLM_X86_KERNELS
const GemmKernel& gemm_kernel_avx2();
const GemmKernel& gemm_kernel_avx512();
#endif

// The best family this CPU runs; LLM2LLM_GEMM_ISA=avx512|avx2|portable forces a lower one.
const GemmKernel& gemm_kernel_for_cpu();
// Picks the family by name ("avx512", "avx2", "portable"); false when the CPU lacks it.
bool select_gemm_kernel(const char* isa);
const GemmKernel& current_gemm_kernel();

// What a fused matmul applies to each output element after the product (tfjs _FusedMatMul).
enum class Activation : int { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kPrelu = 5, kSigmoid = 6 };

struct Epilogue {
  const float* bias = nullptr;  // length bias_len: 1 (scalar) or n (one per output column)
  int bias_len = 0;
  Activation activation = Activation::kLinear;
  float leaky_alpha = 0.2f;
  const float* prelu = nullptr;  // length prelu_len: 1 or n
  int prelu_len = 0;
  bool active() const { return bias != nullptr || activation != Activation::kLinear; }
};

// Applies the epilogue to rows [0, m) x columns [n0, n1) of a row-major C with leading dimension ldc.
void apply_epilogue(const Epilogue& epilogue, float* c, ptrdiff_t ldc, int m, int n0, int n1);

struct BatchMatMul {
  const float* a;  // [batch_a, m, k], or [batch_a, k, m] when transpose_a
  const float* b;  // [batch_b, k, n], or [batch_b, n, k] when transpose_b
  float* c;        // [batch, m, n]
  int batch, batch_a, batch_b;
  int m, n, k;
  bool transpose_a, transpose_b;
  Epilogue epilogue;
  bool accumulate = false;  // C += product (then the epilogue, if any, applies to the sum)
};

// Runs on the process-wide thread pool.
void batch_matmul(const BatchMatMul& problem);

// out[c * rows + r] = x[r * row + c] for r < rows, c < cols: a [rows x cols] matrix with rows `row` floats apart,
// transposed into a dense [cols x rows] one.
void transpose(const float* x, ptrdiff_t row, int rows, int cols, float* out);

// One strided product on the calling thread with the current micro-kernel family: unpacked when B's rows are
// contiguous (csb == 1) and the family has that kernel, else packed into this thread's buffers (pack_a / pack_b
// of `block` are ignored). For fused kernels that split their own work across the pool and run small products
// inside each task. m, n, k >= 1.
void gemm_on_this_thread(GemmBlock block);
// The packed kernel (`run`) of the current family on the calling thread, with this thread's packing buffers: the only
// path that takes a quantized B.
void gemm_packed_on_this_thread(GemmBlock block);

// Below this many flops a product runs on the calling thread: waking a worker costs more.
constexpr double kParallelFlops = 1 << 18;
// Slices to cut one product `width` wide into for `threads` threads: up to four a thread while each stays wide
// enough not to repack the other operand too often (gemm.cc's kMinSliceWidth). Shared by gemm.cc and gemm_quant.cc.
int slice_count(int width, int threads);
int round_up(int x, int multiple);

}  // namespace llm2llm
