// Chooses the micro-kernel family for this CPU and splits a batched matmul into tasks for the
// thread pool. Each task is an independent GemmBlock (a batch entry, or a slice of its rows or
// columns) with its own packing buffers, so threads never wait for each other inside a product.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "../thread_pool.h"

namespace llm2llm {

namespace {

bool cpu_has(const char* isa) {
#ifdef LLM2LLM_X86_KERNELS
  __builtin_cpu_init();
  if (std::strcmp(isa, "avx512") == 0)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
  if (std::strcmp(isa, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return std::strcmp(isa, "portable") == 0;
}

const GemmKernel* kernel_by_name(const char* isa) {
#ifdef LLM2LLM_X86_KERNELS
  if (std::strcmp(isa, "avx512") == 0) return &gemm_kernel_avx512();
  if (std::strcmp(isa, "avx2") == 0) return &gemm_kernel_avx2();
#endif
  if (std::strcmp(isa, "portable") == 0) return &gemm_kernel_generic();
  return nullptr;
}

const GemmKernel* best_kernel() {
  const char* forced = std::getenv("LLM2LLM_GEMM_ISA");
  if (forced != nullptr && cpu_has(forced) && kernel_by_name(forced) != nullptr) return kernel_by_name(forced);
  for (const char* isa : {"avx512", "avx2", "portable"}) {
    if (cpu_has(isa) && kernel_by_name(isa) != nullptr) return kernel_by_name(isa);
  }
  return &gemm_kernel_generic();
}

const GemmKernel* selected = nullptr;

// Packing buffers of one thread, grown on demand and kept for the next call.
struct PackBuffers {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> a, b;
  size_t a_size = 0, b_size = 0;

  static float* grow(std::unique_ptr<float, Free>& buffer, size_t& size, size_t wanted) {
    if (wanted > size) {
      size_t bytes = (wanted * sizeof(float) + 63) / 64 * 64;
      buffer.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      size = wanted;
    }
    return buffer.get();
  }
};
thread_local PackBuffers pack_buffers;

// Narrowest slice of a product given to one task when slicing for load balance: four 256-wide column blocks,
// which share each packed block of A (gemm_driver.h). Slices of one block each repacked all of A per slice:
// 2 threads, n = 2048: 235-241 GFLOP/s with 256-wide slices, 255-263 with 1024-wide ones.
constexpr int kMinSliceWidth = 1024;

struct Plan {
  const BatchMatMul* problem;
  const GemmKernel* kernel;
  int m_parts, n_parts;  // slices of each product
  int m_step, n_step;    // rows / columns per slice
};

// Rows [m0, m1) x columns [n0, n1) of batch entry `batch` of p as a strided GemmBlock (packing buffers unset).
GemmBlock block_of(const BatchMatMul& p, int batch, int m0, int m1, int n0, int n1) {
  GemmBlock block;
  block.rsa = p.transpose_a ? 1 : p.k;  // A stored [m, k], or [k, m] when transposed
  block.csa = p.transpose_a ? p.m : 1;
  block.rsb = p.transpose_b ? 1 : p.n;  // B stored [k, n], or [n, k] when transposed
  block.csb = p.transpose_b ? p.k : 1;
  block.a = p.a + static_cast<ptrdiff_t>(batch % p.batch_a) * p.m * p.k + m0 * block.rsa;
  block.b = p.b + static_cast<ptrdiff_t>(batch % p.batch_b) * p.k * p.n + n0 * block.csb;
  block.c = p.c + static_cast<ptrdiff_t>(batch) * p.m * p.n + static_cast<ptrdiff_t>(m0) * p.n + n0;
  block.ldc = p.n;
  block.m = m1 - m0;
  block.n = n1 - n0;
  block.k = p.k;
  block.accumulate = p.accumulate;
  block.pack_a = block.pack_b = nullptr;
  return block;
}

// Runs `block` on this thread with this thread's packing buffers, grown to what `kernel` needs for it.
void run_with_thread_buffers(const GemmKernel& kernel, GemmBlock block) {
  const int nc = std::min(kernel.nc, (block.n + kernel.nr - 1) / kernel.nr * kernel.nr);
  block.pack_a = PackBuffers::grow(pack_buffers.a, pack_buffers.a_size, static_cast<size_t>(packed_a_capacity_rows(kernel.mc, kernel.kc)) * kernel.kc);
  block.pack_b = PackBuffers::grow(pack_buffers.b, pack_buffers.b_size, static_cast<size_t>(kernel.kc) * nc);
  kernel.run(block);
}

void run_task(void* context, int task) {
  const Plan& plan = *static_cast<const Plan*>(context);
  const BatchMatMul& p = *plan.problem;
  const int slices = plan.m_parts * plan.n_parts;
  const int batch = task / slices;
  const int m0 = (task % slices) / plan.n_parts * plan.m_step;
  const int n0 = (task % slices) % plan.n_parts * plan.n_step;
  const int m1 = std::min(p.m, m0 + plan.m_step), n1 = std::min(p.n, n0 + plan.n_step);
  if (m0 >= m1 || n0 >= n1) return;

  float* c = p.c + static_cast<ptrdiff_t>(batch) * p.m * p.n + static_cast<ptrdiff_t>(m0) * p.n;
  if (p.k == 0) {
    if (!p.accumulate)
      for (int i = 0; i < m1 - m0; ++i) std::fill(c + i * p.n + n0, c + i * p.n + n1, 0.0f);
  } else {
    run_with_thread_buffers(*plan.kernel, block_of(p, batch, m0, m1, n0, n1));
  }
  apply_epilogue(p.epilogue, c, p.n, m1 - m0, n0, n1);
}

}  // namespace

int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

int slice_count(int width, int threads) {
  int parts = threads;
  while (parts < 4 * threads && width / (2 * parts) >= kMinSliceWidth) parts *= 2;
  return parts;
}

const GemmKernel& gemm_kernel_for_cpu() { return *best_kernel(); }

const GemmKernel& current_gemm_kernel() {
  if (selected == nullptr) selected = best_kernel();
  return *selected;
}

bool select_gemm_kernel(const char* isa) {
  const GemmKernel* kernel = kernel_by_name(isa);
  if (kernel == nullptr || !cpu_has(isa)) return false;
  selected = kernel;
  return true;
}

void transpose(const float* x, ptrdiff_t row, int rows, int cols, float* out) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[static_cast<ptrdiff_t>(c) * rows + r] = x[r * row + c];
}

void gemm_on_this_thread(GemmBlock block) {
  const GemmKernel& kernel = current_gemm_kernel();
  if (block.csb == 1 && kernel.unpacked != nullptr) return kernel.unpacked(block);
  run_with_thread_buffers(kernel, block);
}

void gemm_packed_on_this_thread(GemmBlock block) { run_with_thread_buffers(current_gemm_kernel(), block); }

namespace {

// Products with one side only a few wide: LoRA's x·Aᵀ, dOut·B and their gradients at rank 8 or 16, with
// the other sides in the thousands. The packed path would spend more on packing the big operand (and on
// NR-wide tiles that are mostly padding) than on arithmetic (measured ~20 GFLOP/s), so:
//  - n <= kNarrowWidth: the family's narrow kernel, A read in place, rows split over the threads;
//  - m <= kNarrowWidth (or no narrow kernel and n small): Cᵀ = op(B)ᵀ·op(A)ᵀ, whose long side runs along the
//    tiles (or the narrow kernel's rows), transposed back.
// Every element is the same chain of FMAs in the same order either way (fma(a, b, acc) = fma(b, a, acc)),
// and C += ... starts from Cᵀ, so the bits are those of the direct product.
bool narrow_direct(const BatchMatMul& p, const GemmKernel& kernel) {
  return p.batch == 1 && p.k > 0 && kernel.narrow != nullptr && p.n <= kNarrowWidth && p.m >= 4 * kNarrowWidth;
}

bool narrow_transposed(const BatchMatMul& p, const GemmKernel& kernel) {
  if (p.batch != 1 || p.k <= 0) return false;
  if (kernel.narrow != nullptr) return p.m <= kNarrowWidth && p.n >= 4 * kNarrowWidth;
  return 2 * p.n <= kernel.nr && p.m >= 4 * kernel.nr;
}

// A single product's rows split evenly over the threads (slices a multiple of `row_multiple` rows); `run_rows` runs
// each slice on its thread, then the slice gets the epilogue. For the narrow and shallow kernels.
struct RowSlices {
  const BatchMatMul* problem;
  const GemmKernel* kernel;
  const float* b;  // the shallow path's B with contiguous rows; unused by the narrow one
  void (*run_rows)(const RowSlices& plan, GemmBlock& block);
  int row_step;
};

void row_slice_task(void* context, int task) {
  const RowSlices& plan = *static_cast<const RowSlices*>(context);
  const BatchMatMul& p = *plan.problem;
  const int m0 = task * plan.row_step, m1 = std::min(p.m, m0 + plan.row_step);
  if (m0 >= m1) return;
  GemmBlock block = block_of(p, 0, m0, m1, 0, p.n);
  plan.run_rows(plan, block);
  apply_epilogue(p.epilogue, block.c, p.n, m1 - m0, 0, p.n);
}

void run_by_rows(RowSlices plan, int row_multiple) {
  const BatchMatMul& p = *plan.problem;
  ThreadPool& pool = ThreadPool::instance();
  const int threads = pool.threads();
  const bool parallel = threads > 1 && 2.0 * p.m * p.n * p.k >= kParallelFlops;
  const int parts = parallel ? threads : 1;
  plan.row_step = round_up((p.m + parts - 1) / parts, row_multiple);
  if (parallel) pool.parallel_for(parts, row_slice_task, &plan);
  else row_slice_task(&plan, 0);
}

void narrow_rows(const RowSlices& plan, GemmBlock& block) {
  block.pack_b = PackBuffers::grow(pack_buffers.b, pack_buffers.b_size, static_cast<size_t>(block.k) * kNarrowWidth);
  plan.kernel->narrow(block);
}

void run_narrow(const BatchMatMul& p, const GemmKernel& kernel) { run_by_rows({&p, &kernel, nullptr, narrow_rows, 0}, kNarrowWidth); }

// Products of depth at most kShallowDepth (LoRA's rank-8/16 up-projections: C += down·Bᵀ, dIn += g·A): the packed
// path packs all of A and B for a few FMAs per element; the unpacked kernel reads A in place and B's rows (made
// contiguous first when B is transposed: k x n floats), rows split over the threads. Same bits as the packed path
// (GemmKernel::unpacked). Measured in CPU time: m = 1024, n = 1536, k = 16, B transposed ~1000 -> ~660 us; m = 2048,
// n = 384, k = 16 ~340 -> ~300 us; tiny's n = 128 / 384 at k = 8 the same. Every row tile reads all of B, so B stays
// within 256 KiB (at n = 16384, k = 16 the packed path was ~20% faster).
constexpr int kShallowDepth = 16;
constexpr int64_t kShallowMaxB = 64 * 1024;

bool shallow(const BatchMatMul& p, const GemmKernel& kernel) {
  return p.batch == 1 && p.k > 0 && p.k <= kShallowDepth && static_cast<int64_t>(p.k) * p.n <= kShallowMaxB &&
         kernel.unpacked != nullptr && p.m >= 4 * kernel.mr;
}

void shallow_rows(const RowSlices& plan, GemmBlock& block) {
  block.b = plan.b;
  block.rsb = plan.problem->n;
  block.csb = 1;
  plan.kernel->unpacked(block);
}

thread_local std::vector<float> shallow_b;

void run_shallow(const BatchMatMul& p, const GemmKernel& kernel) {
  const float* b = p.b;
  if (p.transpose_b) {
    shallow_b.resize(static_cast<size_t>(p.k) * p.n);
    transpose(p.b, p.k, p.n, p.k, shallow_b.data());  // B stored [n, k]
    b = shallow_b.data();
  }
  run_by_rows({&p, &kernel, b, shallow_rows, 0}, kernel.mr);
}

thread_local std::vector<float> transposed_c;

void run_transposed(const BatchMatMul& p) {
  // This thread's buffer, kept for the next call: batch_matmul(t) below never comes back here (t's narrow side
  // is its n, which narrow_transposed does not take).
  std::vector<float>& ct = transposed_c;
  ct.resize(static_cast<size_t>(p.m) * p.n);
  if (p.accumulate) transpose(p.c, p.n, p.m, p.n, ct.data());
  BatchMatMul t = p;
  t.a = p.b;
  t.b = p.a;
  t.transpose_a = !p.transpose_b;
  t.transpose_b = !p.transpose_a;
  t.m = p.n;
  t.n = p.m;
  t.c = ct.data();
  t.epilogue = Epilogue{};
  batch_matmul(t);
  transpose(ct.data(), p.m, p.n, p.m, p.c);
  apply_epilogue(p.epilogue, p.c, p.n, p.m, 0, p.n);
}

}  // namespace

void batch_matmul(const BatchMatMul& problem) {
  if (problem.batch <= 0 || problem.m <= 0 || problem.n <= 0) return;
  const GemmKernel& kernel = current_gemm_kernel();
  if (narrow_direct(problem, kernel)) return run_narrow(problem, kernel);
  if (narrow_transposed(problem, kernel)) return run_transposed(problem);
  if (shallow(problem, kernel)) return run_shallow(problem, kernel);
  ThreadPool& pool = ThreadPool::instance();
  Plan plan{&problem, &kernel, 1, 1, problem.m, problem.n};
  const int threads = pool.threads();
  const double flops = 2.0 * problem.batch * problem.m * problem.n * problem.k;

  // Few products: slice each one so every thread gets work (columns when C is wide, rows when tall).
  const bool batch_balances = problem.batch >= 4 * threads || problem.batch % threads == 0;
  if (threads > 1 && flops >= kParallelFlops && !batch_balances) {
    // More slices than threads where they stay wide, so a thread slowed by another process on this
    // shared machine does not hold the product back. Each slice packs all of the other operand once per
    // depth block, so slices stay at least kMinSliceWidth wide.
    const int parts = slice_count(std::max(problem.n, problem.m), threads);
    // Rows unless C is wider than tall: a column slice packs all of A, a row slice all of B, and with the two
    // the same size row slices measured 1-4% faster (n = 1024 / 2048, every transpose, GFLOP per CPU second).
    if (problem.n > problem.m && problem.n >= threads * plan.kernel->nr) {
      plan.n_parts = parts;
      plan.n_step = round_up((problem.n + parts - 1) / parts, plan.kernel->nr);
      plan.n_parts = (problem.n + plan.n_step - 1) / plan.n_step;
    } else if (problem.m >= threads * plan.kernel->mr) {
      plan.m_parts = parts;
      plan.m_step = round_up((problem.m + parts - 1) / parts, plan.kernel->mr);
      plan.m_parts = (problem.m + plan.m_step - 1) / plan.m_step;
    }
  }
  const int tasks = problem.batch * plan.m_parts * plan.n_parts;
  if (threads == 1 || flops < kParallelFlops) {
    for (int t = 0; t < tasks; ++t) run_task(&plan, t);
  } else {
    pool.parallel_for(tasks, run_task, &plan);
  }
}

}  // namespace llm2llm
