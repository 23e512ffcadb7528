// Chooses the micro-kernel family for this CPU and splits a batched matmul into tasks for the
// thread pool. Each task is an independent GemmBlock (a batch entry, or a slice of its rows or
// columns) with its own packing buffers, so threads never wait for each other inside a product.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

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
// B of a product packed once and read by every thread (SharedB below); owned by the calling thread.
thread_local PackBuffers shared_b_buffer;

// Below this many flops a product runs on the calling thread: waking a worker costs more.
constexpr double kParallelFlops = 1 << 18;
// Narrowest slice of a product given to one task when slicing for load balance.
constexpr int kMinSliceWidth = 256;

struct Plan {
  const BatchMatMul* problem;
  const GemmKernel* kernel;
  int m_parts, n_parts;  // slices of each product
  int m_step, n_step;    // rows / columns per slice
};

void run_task(void* context, int task) {
  const Plan& plan = *static_cast<const Plan*>(context);
  const BatchMatMul& p = *plan.problem;
  const GemmKernel& kernel = *plan.kernel;
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
    const float* a = p.a + static_cast<ptrdiff_t>(batch % p.batch_a) * p.m * p.k;
    const float* b = p.b + static_cast<ptrdiff_t>(batch % p.batch_b) * p.k * p.n;
    GemmBlock block;
    block.rsa = p.transpose_a ? 1 : p.k;  // A stored [m, k], or [k, m] when transposed
    block.csa = p.transpose_a ? p.m : 1;
    block.rsb = p.transpose_b ? 1 : p.n;  // B stored [k, n], or [n, k] when transposed
    block.csb = p.transpose_b ? p.k : 1;
    block.a = a + m0 * block.rsa;
    block.b = b + n0 * block.csb;
    block.c = c + n0;
    block.ldc = p.n;
    block.m = m1 - m0;
    block.n = n1 - n0;
    block.k = p.k;
    block.accumulate = p.accumulate;
    const int nc = std::min(kernel.nc, (block.n + kernel.nr - 1) / kernel.nr * kernel.nr);
    block.pack_a = PackBuffers::grow(pack_buffers.a, pack_buffers.a_size, static_cast<size_t>(kernel.mc) * kernel.kc);
    block.pack_b = PackBuffers::grow(pack_buffers.b, pack_buffers.b_size, static_cast<size_t>(kernel.kc) * nc);
    kernel.run(block);
  }
  apply_epilogue(p.epilogue, c, p.n, m1 - m0, n0, n1);
}

int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

// A large product with few batch entries: slicing it (run_task) makes every slice repack the other
// operand (at n = 2048 with 2 threads: 8 column slices, all of A packed 8 times, 128 MB). Instead B is packed once
// per batch entry and column block, by all threads, into a buffer they share (first parallel_for), then
// the threads take row blocks of C and pack only their own rows of A (second parallel_for). The depth
// blocks, micro-kernel and edge handling are those of run_block, so the bits are the same.
struct SharedB {
  const BatchMatMul* problem;
  const GemmKernel* kernel;
  int batch;         // batch entry
  int j0, ns;        // columns [j0, j0 + ns) of C
  int ns_padded;     // ns rounded up to nr: the packed width of each depth block
  int pack_width;    // columns per packing task (a multiple of nr)
  int pack_columns;  // packing tasks per depth block
  int row_step;      // rows of C per row task (a multiple of mr, at most mc)
  float* packed;     // depth block pc starts at packed + pc * ns_padded
};

void pack_shared_b(void* context, int task) {
  const SharedB& s = *static_cast<const SharedB*>(context);
  const BatchMatMul& p = *s.problem;
  const int pc = task / s.pack_columns * s.kernel->kc;
  const int kc = std::min(s.kernel->kc, p.k - pc);
  const int j = task % s.pack_columns * s.pack_width;
  const int width = std::min(s.pack_width, s.ns - j);
  if (width <= 0) return;
  const ptrdiff_t rsb = p.transpose_b ? 1 : p.n, csb = p.transpose_b ? p.k : 1;
  const float* b = p.b + static_cast<ptrdiff_t>(s.batch % p.batch_b) * p.k * p.n;
  s.kernel->pack_b(b + pc * rsb + (s.j0 + j) * csb, rsb, csb, kc, width,
                   s.packed + static_cast<ptrdiff_t>(pc) * s.ns_padded + static_cast<ptrdiff_t>(j) * kc);
}

void rows_on_shared_b(void* context, int task) {
  const SharedB& s = *static_cast<const SharedB*>(context);
  const BatchMatMul& p = *s.problem;
  const int m0 = task * s.row_step, m1 = std::min(p.m, m0 + s.row_step);
  if (m0 >= m1) return;
  float* c = p.c + static_cast<ptrdiff_t>(s.batch) * p.m * p.n + static_cast<ptrdiff_t>(m0) * p.n;
  GemmBlock block;
  block.rsa = p.transpose_a ? 1 : p.k;
  block.csa = p.transpose_a ? p.m : 1;
  block.a = p.a + static_cast<ptrdiff_t>(s.batch % p.batch_a) * p.m * p.k + m0 * block.rsa;
  block.b = nullptr;
  block.rsb = block.csb = 0;
  block.c = c + s.j0;
  block.ldc = p.n;
  block.m = m1 - m0;
  block.n = s.ns;
  block.k = p.k;
  block.accumulate = p.accumulate;
  block.pack_a = PackBuffers::grow(pack_buffers.a, pack_buffers.a_size, static_cast<size_t>(s.kernel->mc) * s.kernel->kc);
  block.pack_b = nullptr;
  s.kernel->run_packed_b(block, s.packed);
  apply_epilogue(p.epilogue, c, p.n, m1 - m0, s.j0, s.j0 + s.ns);
}

// At most this many floats of packed B at once (32 MiB): wider products go through in column blocks.
constexpr size_t kSharedBFloats = size_t{8} << 20;

// Worth it when each thread gets at least 8 micro-tiles of rows and B is not tiny.
bool use_shared_b(const BatchMatMul& p, const GemmKernel& kernel, int threads) {
  return p.k > 0 && p.m >= 2 * threads * kernel.mr * 4 && p.n >= 2 * kernel.nr && static_cast<double>(p.k) * p.n >= 64 * 1024;
}

void run_shared_b(const BatchMatMul& p, const GemmKernel& kernel, ThreadPool& pool) {
  const int threads = pool.threads();
  // Columns per block: all of them when their packed B fits kSharedBFloats.
  int ns = p.n;
  if (static_cast<size_t>(p.k) * round_up(p.n, kernel.nr) > kSharedBFloats)
    ns = std::max(kernel.nr, static_cast<int>(kSharedBFloats / p.k) / kernel.nr * kernel.nr);
  // Row tasks: the fewest, in a multiple of the thread count, that keep each at most mc rows.
  int row_parts = threads;
  while ((p.m + row_parts - 1) / row_parts > kernel.mc) row_parts += threads;
  SharedB s{&p, &kernel, 0, 0, 0, 0, 0, 0, round_up((p.m + row_parts - 1) / row_parts, kernel.mr), nullptr};
  const int k_blocks = (p.k + kernel.kc - 1) / kernel.kc;
  for (int batch = 0; batch < p.batch; ++batch) {
    for (int j0 = 0; j0 < p.n; j0 += ns) {
      s.batch = batch;
      s.j0 = j0;
      s.ns = std::min(ns, p.n - j0);
      s.ns_padded = round_up(s.ns, kernel.nr);
      s.pack_width = std::min(s.ns_padded, round_up((s.ns + 2 * threads - 1) / (2 * threads), kernel.nr));
      s.pack_columns = (s.ns + s.pack_width - 1) / s.pack_width;
      s.packed = PackBuffers::grow(shared_b_buffer.b, shared_b_buffer.b_size, static_cast<size_t>(p.k) * s.ns_padded);
      pool.parallel_for(k_blocks * s.pack_columns, pack_shared_b, &s);
      pool.parallel_for((p.m + s.row_step - 1) / s.row_step, rows_on_shared_b, &s);
    }
  }
}

}  // namespace

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

void gemm_on_this_thread(GemmBlock block) {
  const GemmKernel& kernel = current_gemm_kernel();
  const int nc = std::min(kernel.nc, (block.n + kernel.nr - 1) / kernel.nr * kernel.nr);
  block.pack_a = PackBuffers::grow(pack_buffers.a, pack_buffers.a_size, static_cast<size_t>(kernel.mc) * kernel.kc);
  block.pack_b = PackBuffers::grow(pack_buffers.b, pack_buffers.b_size, static_cast<size_t>(kernel.kc) * nc);
  kernel.run(block);
}

void batch_matmul(const BatchMatMul& problem) {
  if (problem.batch <= 0 || problem.m <= 0 || problem.n <= 0) return;
  ThreadPool& pool = ThreadPool::instance();
  Plan plan{&problem, &current_gemm_kernel(), 1, 1, problem.m, problem.n};
  const int threads = pool.threads();
  const double flops = 2.0 * problem.batch * problem.m * problem.n * problem.k;

  // Few products: slice each one so every thread gets work (columns when C is wide, rows when tall).
  const bool batch_balances = problem.batch >= 4 * threads || problem.batch % threads == 0;
  if (threads > 1 && flops >= kParallelFlops && !batch_balances && use_shared_b(problem, *plan.kernel, threads)) {
    run_shared_b(problem, *plan.kernel, pool);
    return;
  }
  if (threads > 1 && flops >= kParallelFlops && !batch_balances) {
    // More slices than threads where they stay wide (each slice repacks the other operand), so a
    // thread slowed by another process on this shared machine does not hold the product back.
    int parts = threads;
    while (parts < 4 * threads && std::max(problem.n, problem.m) / (2 * parts) >= kMinSliceWidth) parts *= 2;
    if (problem.n >= problem.m && problem.n >= threads * plan.kernel->nr) {
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
