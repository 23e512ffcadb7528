// Splits the fused kernels across the thread pool. Work is cut into chunks whose bounds depend only on
// the problem's shape, never on the thread count, and every output element is written by exactly one
// chunk in one fixed order: 1 and 2 threads give the same bits.
#include <algorithm>
#include <memory>
#include <vector>

#include "../gemm/gemm.h"
#include "../thread_pool.h"
#include "fused.h"

#include <cmath>

namespace llm2llm {

const FusedRows& current_fused_rows() {
#ifdef LLM2LLM_X86_KERNELS
  const GemmKernel* gemm = &current_gemm_kernel();
  if (gemm == &gemm_kernel_avx512()) return fused_rows_avx512();
  if (gemm == &gemm_kernel_avx2()) return fused_rows_avx2();
#endif
  return fused_rows_generic();
}

namespace {

// About this many floats per chunk of element-wise work: big enough to hide a worker's wake-up.
constexpr size_t kChunkElements = 1 << 14;

// Runs fn(chunk) for chunk in [0, chunks), on the pool when there is more than one chunk.
template <class Fn>
void for_chunks(int chunks, Fn& fn) {
  ThreadPool& pool = ThreadPool::instance();
  if (chunks <= 1 || pool.threads() == 1) {
    for (int c = 0; c < chunks; ++c) fn(c);
    return;
  }
  pool.parallel_for(chunks, [](void* context, int c) { (*static_cast<Fn*>(context))(c); }, &fn);
}

int rows_per_chunk(int n) { return std::max<int>(1, static_cast<int>(kChunkElements / std::max(n, 1))); }

}  // namespace

void rms_norm(const float* x, const float* w, float eps, int rows, int n, float* y, float* rstd) {
  const FusedRows& k = current_fused_rows();
  const int step = rows_per_chunk(n);
  auto fn = [&](int c) {
    for (int r = c * step; r < std::min(rows, (c + 1) * step); ++r) {
      rstd[r] = k.rms_norm(x + static_cast<size_t>(r) * n, w, eps, n, y + static_cast<size_t>(r) * n);
    }
  };
  for_chunks((rows + step - 1) / step, fn);
}

void rms_norm_backward(const float* dy, const float* x, const float* w, const float* rstd, int rows, int n, float* dx,
                       float* dw) {
  const FusedRows& k = current_fused_rows();
  const int step = rows_per_chunk(n);
  const int chunks = (rows + step - 1) / step;
  // One partial dw per chunk, added in chunk order afterwards.
  std::vector<float> partial(static_cast<size_t>(chunks) * n, 0.0f);
  auto fn = [&](int c) {
    float* dw_c = partial.data() + static_cast<size_t>(c) * n;
    for (int r = c * step; r < std::min(rows, (c + 1) * step); ++r) {
      const size_t o = static_cast<size_t>(r) * n;
      k.rms_norm_backward(dy + o, x + o, w, rstd[r], n, dx + o, dw_c);
    }
  };
  for_chunks(chunks, fn);
  std::fill(dw, dw + n, 0.0f);
  for (int c = 0; c < chunks; ++c)
    for (int i = 0; i < n; ++i) dw[i] += partial[static_cast<size_t>(c) * n + i];
}

void rope(const float* x, const float* cosv, const float* sinv, int positions, int heads, int d, int n_rot, bool neox,
          bool inverse, float* out) {
  const FusedRows& k = current_fused_rows();
  const int half = n_rot / 2;
  const int step = rows_per_chunk(heads * d);
  auto fn = [&](int c) {
    for (int p = c * step; p < std::min(positions, (c + 1) * step); ++p) {
      for (int h = 0; h < heads; ++h) {
        const size_t o = (static_cast<size_t>(p) * heads + h) * d;
        k.rope(x + o, cosv + static_cast<size_t>(p) * half, sinv + static_cast<size_t>(p) * half, inverse ? -1.0f : 1.0f,
               d, n_rot, neox, out + o);
      }
    }
  };
  for_chunks((positions + step - 1) / step, fn);
}

void swiglu(const float* g, const float* u, size_t n, float* out) {
  const FusedRows& k = current_fused_rows();
  auto fn = [&](int c) {
    const size_t i = c * kChunkElements;
    k.swiglu(g + i, u + i, static_cast<int>(std::min(kChunkElements, n - i)), out + i);
  };
  for_chunks(static_cast<int>((n + kChunkElements - 1) / kChunkElements), fn);
}

void swiglu_backward(const float* dy, const float* g, const float* u, size_t n, float* dg, float* du) {
  const FusedRows& k = current_fused_rows();
  auto fn = [&](int c) {
    const size_t i = c * kChunkElements;
    k.swiglu_backward(dy + i, g + i, u + i, static_cast<int>(std::min(kChunkElements, n - i)), dg + i, du + i);
  };
  for_chunks(static_cast<int>((n + kChunkElements - 1) / kChunkElements), fn);
}

void cross_entropy(const float* logits, const int* targets, const float* weights, int rows, int vocab, float* lse, float* loss) {
  const FusedRows& k = current_fused_rows();
  const int step = rows_per_chunk(vocab);
  auto fn = [&](int c) {
    for (int r = c * step; r < std::min(rows, (c + 1) * step); ++r) {
      const float* x = logits + static_cast<size_t>(r) * vocab;
      lse[r] = weights[r] == 0.0f ? 0.0f : k.log_sum_exp(x, vocab);
      loss[r] = weights[r] == 0.0f ? 0.0f : weights[r] * (lse[r] - x[targets[r]]);
    }
  };
  for_chunks((rows + step - 1) / step, fn);
}

void cross_entropy_backward(const float* logits, const int* targets, const float* weights, const float* lse, int rows,
                            int vocab, float scale, float* grad) {
  const FusedRows& k = current_fused_rows();
  const int step = rows_per_chunk(vocab);
  auto fn = [&](int c) {
    for (int r = c * step; r < std::min(rows, (c + 1) * step); ++r) {
      const size_t o = static_cast<size_t>(r) * vocab;
      if (weights[r] == 0.0f) {
        std::fill(grad + o, grad + o + vocab, 0.0f);
      } else {
        k.cross_entropy_grad(logits + o, vocab, lse[r], scale * weights[r], targets[r], grad + o);
      }
    }
  };
  for_chunks((rows + step - 1) / step, fn);
}

__attribute__((optimize("fp-contract=off"))) void adamw(const AdamWStep& h, const float* param, const float* grad, float* m,
                                                       float* v, size_t n, float* out) {
  for (size_t j = 0; j < n; ++j) {
    const double g = grad[j] * h.grad_scale;
    const double mj = h.beta1 * m[j] + (1 - h.beta1) * g;
    const double vj = h.beta2 * v[j] + (1 - h.beta2) * g * g;
    m[j] = static_cast<float>(mj);
    v[j] = static_cast<float>(vj);
    out[j] = static_cast<float>(param[j] * h.decay - (mj / (std::sqrt(vj) / h.sqrt_c2 + h.epsilon)) * h.step_size);
  }
}

void binary(int op, const float* a, size_t a_len, const float* b, size_t b_len, size_t n, float* out) {
  const FusedRows& k = current_fused_rows();
  // Runs of values where neither input wraps around: the shorter period, or chunks of the whole.
  const size_t period = std::min(a_len == 1 ? n : a_len, b_len == 1 ? n : b_len);
  const size_t run = std::min(period, kChunkElements);
  const size_t runs_per_period = (period + run - 1) / run;
  const size_t chunks = n / period * runs_per_period;
  // Group small runs so a chunk holds about kChunkElements values.
  const size_t per_chunk = std::max<size_t>(1, kChunkElements / run);
  auto fn = [&](int c) {
    for (size_t r = c * per_chunk; r < std::min(chunks, (c + 1) * per_chunk); ++r) {
      const size_t start = r / runs_per_period * period + r % runs_per_period * run;
      const int len = static_cast<int>(std::min(run, period - r % runs_per_period * run));
      k.binary(op, a + (a_len == 1 ? 0 : start % a_len), a_len == 1 ? 0 : 1, b + (b_len == 1 ? 0 : start % b_len),
               b_len == 1 ? 0 : 1, len, out + start);
    }
  };
  for_chunks(static_cast<int>((chunks + per_chunk - 1) / per_chunk), fn);
}

// ---------------------------------------------------------------------------------------------------
// Attention. One task per (batch, key/value head): its G = H / Hkv query heads share that task's K and V,
// so dK and dV are each summed over the group inside one task, in head order. Products go through the
// GEMM micro-kernels on the task's own thread; strides read the [B, T, H, D] layouts in place.

namespace {

GemmBlock product(const float* a, ptrdiff_t rsa, ptrdiff_t csa, const float* b, ptrdiff_t rsb, ptrdiff_t csb, float* c,
                  ptrdiff_t ldc, int m, int n, int k, bool accumulate = false) {
  GemmBlock g;
  g.a = a;
  g.rsa = rsa;
  g.csa = csa;
  g.b = b;
  g.rsb = rsb;
  g.csb = csb;
  g.c = c;
  g.ldc = ldc;
  g.m = m;
  g.n = n;
  g.k = k;
  g.pack_a = nullptr;
  g.pack_b = nullptr;
  g.accumulate = accumulate;
  return g;
}

// A [T, S] scratch row block per thread, kept between calls.
thread_local std::vector<float> scratch;
// A head's keys or values transposed ([D, S]) per thread: products with Kᵀ or Vᵀ then read B's rows in place
// (the GEMM's unpacked kernel) instead of packing the same K or V again for every block of queries.
thread_local std::vector<float> transposed;

const float* transpose_head(const float* x, ptrdiff_t row, int s, int d) {
  if (transposed.size() < static_cast<size_t>(s) * d) transposed.resize(static_cast<size_t>(s) * d);
  transpose(x, row, s, d, transposed.data());
  return transposed.data();
}

}  // namespace

void attention(const AttentionShape& a, const float* q, const float* k, const float* v, const float* bias,
               int bias_batch, float* out, float* probs) {
  const FusedRows& rows = current_fused_rows();
  const int group = a.h / a.hkv;
  const ptrdiff_t q_row = static_cast<ptrdiff_t>(a.h) * a.dk, k_row = static_cast<ptrdiff_t>(a.hkv) * a.dk;
  const ptrdiff_t v_row = static_cast<ptrdiff_t>(a.hkv) * a.dv, o_row = static_cast<ptrdiff_t>(a.h) * a.dv;
  const size_t ts = static_cast<size_t>(a.t) * a.s;
  auto fn = [&](int task) {
    const int b = task / a.hkv, kvh = task % a.hkv;
    const float* kb = k + static_cast<size_t>(b) * a.s * k_row + static_cast<size_t>(kvh) * a.dk;
    const float* vb = v + static_cast<size_t>(b) * a.s * v_row + static_cast<size_t>(kvh) * a.dv;
    const float* biasb = bias == nullptr ? nullptr : bias + (bias_batch == 1 ? 0 : static_cast<size_t>(b)) * ts;
    const int block = a.causal ? kCausalRows : a.t;
    const float* kt = transpose_head(kb, k_row, a.s, a.dk);  // [Dk, S]
    for (int g = 0; g < group; ++g) {
      const int h = kvh * group + g;
      const float* qh = q + static_cast<size_t>(b) * a.t * q_row + static_cast<size_t>(h) * a.dk;
      float* p = probs + (static_cast<size_t>(b) * a.h + h) * ts;  // [T, S]
      float* oh = out + static_cast<size_t>(b) * a.t * o_row + static_cast<size_t>(h) * a.dv;
      for (int r0 = 0; r0 < a.t; r0 += block) {
        const int r1 = std::min(a.t, r0 + block), keys = a.causal ? r1 : a.s;
        float* pr = p + static_cast<size_t>(r0) * a.s;
        gemm_on_this_thread(product(qh + r0 * q_row, q_row, 1, kt, a.s, 1, pr, a.s, r1 - r0, keys, a.dk));  // Q·Kᵀ
        for (int i = r0; i < r1; ++i)
          rows.softmax(p + static_cast<size_t>(i) * a.s, keys, a.scale, biasb ? biasb + static_cast<size_t>(i) * a.s : nullptr);
        gemm_on_this_thread(product(pr, a.s, 1, vb, v_row, 1, oh + r0 * o_row, o_row, r1 - r0, a.dv, keys));  // P·V
      }
    }
  };
  for_chunks(a.b * a.hkv, fn);
}

void attention_backward(const AttentionShape& a, const float* dout, const float* q, const float* k, const float* v,
                        const float* probs, float* dq, float* dk, float* dv) {
  const FusedRows& rows = current_fused_rows();
  const int group = a.h / a.hkv;
  const ptrdiff_t q_row = static_cast<ptrdiff_t>(a.h) * a.dk, k_row = static_cast<ptrdiff_t>(a.hkv) * a.dk;
  const ptrdiff_t v_row = static_cast<ptrdiff_t>(a.hkv) * a.dv, o_row = static_cast<ptrdiff_t>(a.h) * a.dv;
  const size_t ts = static_cast<size_t>(a.t) * a.s;
  auto fn = [&](int task) {
    const int b = task / a.hkv, kvh = task % a.hkv;
    const size_t k_off = static_cast<size_t>(b) * a.s * k_row + static_cast<size_t>(kvh) * a.dk;
    const size_t v_off = static_cast<size_t>(b) * a.s * v_row + static_cast<size_t>(kvh) * a.dv;
    if (scratch.size() < ts) scratch.resize(ts);
    float* ds = scratch.data();  // [T, S]
    const float* vt = transpose_head(v + v_off, v_row, a.s, a.dv);  // [Dv, S]
    for (int g = 0; g < group; ++g) {
      const int h = kvh * group + g;
      const size_t q_off = static_cast<size_t>(b) * a.t * q_row + static_cast<size_t>(h) * a.dk;
      const float* doh = dout + static_cast<size_t>(b) * a.t * o_row + static_cast<size_t>(h) * a.dv;
      const float* p = probs + (static_cast<size_t>(b) * a.h + h) * ts;
      if (!a.causal) {
        gemm_on_this_thread(product(doh, o_row, 1, vt, a.s, 1, ds, a.s, a.t, a.s, a.dv));  // dP = dO·Vᵀ
        for (int i = 0; i < a.t; ++i) rows.softmax_backward(p + static_cast<size_t>(i) * a.s, ds + static_cast<size_t>(i) * a.s, a.s, a.scale);
        gemm_on_this_thread(product(ds, a.s, 1, k + k_off, k_row, 1, dq + q_off, q_row, a.t, a.dk, a.s));  // dQ = dS·K
        gemm_on_this_thread(product(ds, 1, a.s, q + q_off, q_row, 1, dk + k_off, k_row, a.s, a.dk, a.t, g > 0));  // dK += dSᵀ·Q
        gemm_on_this_thread(product(p, 1, a.s, doh, o_row, 1, dv + v_off, v_row, a.s, a.dv, a.t, g > 0));  // dV += Pᵀ·dO
        continue;
      }
      // Causal: query row block [r0, r1) reads keys [0, r1); key block [j0, j1) is read by queries [j0, t). The
      // blocks coincide, so every dS entry a product reads was written (the ones above the diagonal are 0).
      for (int r0 = 0; r0 < a.t; r0 += kCausalRows) {
        const int r1 = std::min(a.t, r0 + kCausalRows);
        float* dsr = ds + static_cast<size_t>(r0) * a.s;
        gemm_on_this_thread(product(doh + r0 * o_row, o_row, 1, vt, a.s, 1, dsr, a.s, r1 - r0, r1, a.dv));  // dP
        for (int i = r0; i < r1; ++i) rows.softmax_backward(p + static_cast<size_t>(i) * a.s, ds + static_cast<size_t>(i) * a.s, r1, a.scale);
        gemm_on_this_thread(product(dsr, a.s, 1, k + k_off, k_row, 1, dq + q_off + r0 * q_row, q_row, r1 - r0, a.dk, r1));  // dQ
      }
      for (int j0 = 0; j0 < a.t; j0 += kCausalRows) {
        const int j1 = std::min(a.t, j0 + kCausalRows), queries = a.t - j0;
        const size_t corner = static_cast<size_t>(j0) * a.s + j0;
        gemm_on_this_thread(product(ds + corner, 1, a.s, q + q_off + j0 * q_row, q_row, 1, dk + k_off + j0 * k_row, k_row, j1 - j0,
                                    a.dk, queries, g > 0));  // dK += dSᵀ·Q
        gemm_on_this_thread(product(p + corner, 1, a.s, doh + j0 * o_row, o_row, 1, dv + v_off + j0 * v_row, v_row, j1 - j0, a.dv,
                                    queries, g > 0));  // dV += Pᵀ·dO
      }
    }
  };
  for_chunks(a.b * a.hkv, fn);
}

}  // namespace llm2llm
