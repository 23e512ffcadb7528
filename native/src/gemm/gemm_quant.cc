// The quantized-B product split over the thread pool. Every slice runs the packed kernel, its B panels decoded
// from W's blocks (gemm_driver.h pack_b_quantized), so each element is the packed path's FMA chain: the bits of
// batch_matmul on the dequantized W, whichever of its paths that takes (they all reproduce `run`), and the same
// for any slicing.
#include "gemm_quant.h"

#include <algorithm>

#include "../thread_pool.h"

namespace llm2llm {

namespace {

struct QuantPlan {
  const QuantizedMatMul* problem;
  int n, k;
  bool by_columns;  // slices of C's columns (each decodes only its own part of W), else of its rows
  int step;         // columns or rows per slice
};

void quant_task(void* context, int task) {
  const QuantPlan& plan = *static_cast<const QuantPlan*>(context);
  const QuantizedMatMul& p = *plan.problem;
  const int n = plan.n, k = plan.k;
  const int m0 = plan.by_columns ? 0 : task * plan.step, m1 = plan.by_columns ? p.m : std::min(p.m, m0 + plan.step);
  const int n0 = plan.by_columns ? task * plan.step : 0, n1 = plan.by_columns ? std::min(n, n0 + plan.step) : n;
  if (m0 >= m1 || n0 >= n1) return;
  float* c = p.c + static_cast<ptrdiff_t>(m0) * n;
  if (k == 0) {
    if (!p.accumulate)
      for (int i = 0; i < m1 - m0; ++i) std::fill(c + static_cast<ptrdiff_t>(i) * n + n0, c + static_cast<ptrdiff_t>(i) * n + n1, 0.0f);
  } else {
    // Column n0 of C is W's row n0 (x·Wᵀ) or W's column n0 (dy·W).
    const QuantizedB b{p.w.data, p.w.type, p.w.row_bytes, p.transpose_w, 0, n0};
    GemmBlock block;
    block.a = p.a + static_cast<ptrdiff_t>(m0) * k;
    block.rsa = k;
    block.csa = 1;
    block.b = nullptr;
    block.rsb = block.csb = 0;
    block.c = c + n0;
    block.ldc = n;
    block.m = m1 - m0;
    block.n = n1 - n0;
    block.k = k;
    block.pack_a = block.pack_b = nullptr;
    block.accumulate = p.accumulate;
    block.quantized_b = &b;
    gemm_packed_on_this_thread(block);
  }
  if (p.bias != nullptr) {
    Epilogue epilogue;
    epilogue.bias = p.bias;
    epilogue.bias_len = n;
    apply_epilogue(epilogue, c, n, m1 - m0, n0, n1);
  }
}

}  // namespace

void quantized_matmul(const QuantizedMatMul& problem) {
  const int n = problem.transpose_w ? problem.w.rows : problem.w.cols;
  const int k = problem.transpose_w ? problem.w.cols : problem.w.rows;
  if (problem.m <= 0 || n <= 0) return;
  const GemmKernel& kernel = current_gemm_kernel();
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  QuantPlan plan{&problem, n, k, true, n};
  int parts = 1;
  if (threads > 1 && 2.0 * problem.m * n * k >= kParallelFlops) {
    // Columns whenever C is wide enough: a row slice would decode all of W again, a column slice only repacks A
    // (a plain copy). Slices of dy·W start on a block boundary of W's rows where they can, so no block straddles
    // two slices (or two column blocks of one).
    if (n >= threads * kernel.nr) {
      parts = slice_count(n, threads);
      const int block = problem.transpose_w ? 1 : quant_block_size(problem.w.type);
      const int align = std::max(kernel.nr, block);
      plan.step = round_up((n + parts - 1) / parts, align);
      if ((n + plan.step - 1) / plan.step < threads) plan.step = round_up((n + parts - 1) / parts, kernel.nr);
      parts = (n + plan.step - 1) / plan.step;
    } else if (problem.m >= threads * kernel.mr) {
      plan.by_columns = false;
      parts = threads;
      plan.step = round_up((problem.m + parts - 1) / parts, kernel.mr);
      parts = (problem.m + plan.step - 1) / plan.step;
    }
  }
  if (parts == 1) {
    plan.by_columns = true;
    plan.step = n;
    quant_task(&plan, 0);
  } else {
    pool.parallel_for(parts, quant_task, &plan);
  }
}

}  // namespace llm2llm
