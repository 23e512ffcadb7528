// AVX-512 FMA micro-kernel: a 12 x 32 tile of C in 24 zmm registers. Each step of the depth loop
// loads two 16-float vectors of the packed B panel and broadcasts 12 values of the packed A panel:
// 24 FMAs per 2 loads + 12 broadcasts, which keeps both FMA ports busy from L1.
// Compiled with -mavx512f -mavx512vl -mfma; reached only when the CPU reports avx512f (gemm.cc).
#include <immintrin.h>

#include <cstddef>

#include "gemm.h"

namespace {

struct Avx512Kernel {
  static constexpr int MR = 12, NR = 32;
  // KC x NR of B (32 KiB) stays in L1 while the MC x KC block of A (72 KiB) streams from L2 next to
  // the KC x NC block of B (256 KiB) and the MC x NC block of C being updated (72 KiB). Larger blocks
  // (MC 144, NC 1024: 1.7 MiB in all) were measured ~8% slower at n = 2048 on a 2 MiB L2.
  static constexpr int MC = 72, KC = 256, NC = 256;

  // One depth step: C[i][0..31] += A[i] * B[0..31] for the 12 rows.
  static inline void step(const float* a, const float* b, __m512 (&acc)[MR][2]) {
    // The A panel streams from L2: ask for it eight steps (one 384-byte stretch) ahead, or the loads of
    // each new line stall the FMAs (measured: ~95 -> ~120 GFLOP/s a core at n = 2048).
    _mm_prefetch(reinterpret_cast<const char*>(a + 8 * MR), _MM_HINT_T0);
    const __m512 b0 = _mm512_load_ps(b);
    const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
  }

  static void micro(int kc, const float* a, const float* b, float* c, ptrdiff_t ldc, bool accumulate) {
    __m512 acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    // The C tile was last touched a whole depth block ago and is out of L1 (the A and B panels fill
    // it): fetch it during the last few steps, late enough that the panels do not evict it again.
    constexpr int kPrefetchSteps = 16;
    int p = 0;
#pragma GCC unroll 2
    for (; p < kc - kPrefetchSteps; ++p, a += MR, b += NR) step(a, b, acc);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 2
    for (; p < kc; ++p, a += MR, b += NR) step(a, b, acc);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      float* row = c + i * ldc;
      if (accumulate) {
        acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_loadu_ps(row));
        acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_loadu_ps(row + 16));
      }
      _mm512_storeu_ps(row, acc[i][0]);
      _mm512_storeu_ps(row + 16, acc[i][1]);
    }
  }
};

// The first `count` of a vector's 16 lanes (none when count <= 0, all when >= 16).
inline __mmask16 first_lanes(int count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : count <= 0 ? 0 : static_cast<__mmask16>((1u << count) - 1);
}

// The narrow kernel (GemmKernel::narrow): C[m x n] (=, +=) A·B for n <= 16, B packed once into [k][16] (zero
// lanes past n), A read in place. Per depth block of KC each element is micro()'s FMA chain (acc = a·b + acc
// from zero, then + C), so the bits are those of the packed path.

// A row-major (rows strided): one zmm per row of C, 16 rows at a time, A's values broadcast from memory.
void narrow_rows(const llm2llm::GemmBlock& g, const float* bp) {
  constexpr int W = llm2llm::kNarrowWidth, R = 16, KC = Avx512Kernel::KC;
  const __mmask16 lanes = first_lanes(g.n);
  for (int i0 = 0; i0 < g.m; i0 += R) {
    const int rows = g.m - i0 < R ? g.m - i0 : R;
    const float* a = g.a + i0 * g.rsa;
    for (int pc = 0; pc < g.k; pc += KC) {
      const int kc = g.k - pc < KC ? g.k - pc : KC;
      __m512 acc[R];
#pragma GCC unroll 16
      for (int i = 0; i < R; ++i) acc[i] = _mm512_setzero_ps();
      if (rows == R) {
        for (int p = pc; p < pc + kc; ++p) {
          const __m512 b = _mm512_load_ps(bp + p * W);
#pragma GCC unroll 16
          for (int i = 0; i < R; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * g.rsa + p * g.csa]), b, acc[i]);
        }
      } else {
        for (int p = pc; p < pc + kc; ++p) {
          const __m512 b = _mm512_load_ps(bp + p * W);
          for (int i = 0; i < rows; ++i) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * g.rsa + p * g.csa]), b, acc[i]);
        }
      }
      for (int i = 0; i < rows; ++i) {
        float* row = g.c + (i0 + i) * g.ldc;
        if (pc > 0 || g.accumulate) acc[i] = _mm512_add_ps(acc[i], _mm512_maskz_loadu_ps(lanes, row));
        _mm512_mask_storeu_ps(row, lanes, acc[i]);
      }
    }
  }
}

// A transposed in memory (its rows contiguous for each depth p): one zmm per column of C and 16 rows, V row
// vectors at a time (N columns x V vectors = 16 accumulators), B's values broadcast; the tile is written
// back through a small buffer.
template <int N, int V>
void narrow_columns(const llm2llm::GemmBlock& g, const float* bp) {
  constexpr int W = llm2llm::kNarrowWidth, R = 16 * V, KC = Avx512Kernel::KC;
  alignas(64) float tile[N][R];
  for (int i0 = 0; i0 < g.m; i0 += R) {
    const int rows = g.m - i0 < R ? g.m - i0 : R;
    __mmask16 row_mask[V];
    for (int v = 0; v < V; ++v) row_mask[v] = first_lanes(rows - 16 * v);
    for (int pc = 0; pc < g.k; pc += KC) {
      const int kc = g.k - pc < KC ? g.k - pc : KC;
      __m512 acc[V][N];
#pragma GCC unroll 16
      for (int v = 0; v < V; ++v)
        for (int j = 0; j < N; ++j) acc[v][j] = _mm512_setzero_ps();
      for (int p = pc; p < pc + kc; ++p) {
        const float* column = g.a + i0 + p * g.csa;  // A(i0 + i, p), i = 0, 1, ...
        // One line per depth step, a row of A apart: too far for the hardware prefetcher.
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) _mm_prefetch(reinterpret_cast<const char*>(column + 8 * g.csa + 16 * v), _MM_HINT_T0);
        __m512 av[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) av[v] = _mm512_maskz_loadu_ps(row_mask[v], column + 16 * v);
#pragma GCC unroll 16
        for (int j = 0; j < N; ++j) {
          const __m512 b = _mm512_set1_ps(bp[p * W + j]);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[v][j] = _mm512_fmadd_ps(av[v], b, acc[v][j]);
        }
      }
      for (int v = 0; v < V; ++v)
        for (int j = 0; j < N; ++j) _mm512_store_ps(&tile[j][16 * v], acc[v][j]);
      const bool add = pc > 0 || g.accumulate;
      for (int i = 0; i < rows; ++i) {
        float* row = g.c + (i0 + i) * g.ldc;
        for (int j = 0; j < g.n; ++j) row[j] = add ? tile[j][i] + row[j] : tile[j][i];
      }
    }
  }
}

void narrow(const llm2llm::GemmBlock& g) {
  constexpr int W = llm2llm::kNarrowWidth;
  float* bp = g.pack_b;
  for (int p = 0; p < g.k; ++p)
    for (int j = 0; j < W; ++j) bp[p * W + j] = j < g.n ? g.b[p * g.rsb + j * g.csb] : 0.0f;
  if (g.rsa != 1) narrow_rows(g, bp);
  else if (g.n <= 8) narrow_columns<8, 2>(g, bp);
  else narrow_columns<16, 1>(g, bp);
}

// The unpacked kernel (GemmKernel::unpacked): C[m x n] (=, +=) A·B with B's rows contiguous (csb == 1), nothing
// packed. Tiles of micro()'s 12 x 32 shape: two (masked) loads of B's row p in place and 12 broadcasts of A's
// values where they lie per depth step; per depth block of KC the FMA chain of micro() (acc = a·b + acc from
// zero, then acc + C), so the bits are those of the packed path.
template <int R>
inline void unpacked_tile(const llm2llm::GemmBlock& g, int i0, int rows, int j0, __mmask16 lanes0, __mmask16 lanes1) {
  constexpr int KC = Avx512Kernel::KC;
  for (int pc = 0; pc < g.k; pc += KC) {
    const int kc = g.k - pc < KC ? g.k - pc : KC;
    const float* a = g.a + i0 * g.rsa + pc * g.csa;
    const float* b = g.b + pc * g.rsb + j0;
    __m512 acc[R][2];
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < kc; ++p, a += g.csa, b += g.rsb) {
      const __m512 b0 = _mm512_maskz_loadu_ps(lanes0, b);
      const __m512 b1 = _mm512_maskz_loadu_ps(lanes1, b + 16);
#pragma GCC unroll 12
      for (int i = 0; i < R; ++i) {
        if (R == Avx512Kernel::MR || i < rows) {
          const __m512 ai = _mm512_set1_ps(a[i * g.rsa]);
          acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
          acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
      }
    }
    const bool add = pc > 0 || g.accumulate;
    for (int i = 0; i < rows; ++i) {
      float* row = g.c + (i0 + i) * g.ldc + j0;
      if (add) {
        acc[i][0] = _mm512_add_ps(acc[i][0], _mm512_maskz_loadu_ps(lanes0, row));
        acc[i][1] = _mm512_add_ps(acc[i][1], _mm512_maskz_loadu_ps(lanes1, row + 16));
      }
      _mm512_mask_storeu_ps(row, lanes0, acc[i][0]);
      _mm512_mask_storeu_ps(row + 16, lanes1, acc[i][1]);
    }
  }
}

// Row tiles outside, column tiles inside: each tile's 12 rows of C are written front to back (streams the hardware
// prefetcher follows), while the row tile's A values and B's rows stay in cache across the columns.
void unpacked(const llm2llm::GemmBlock& g) {
  constexpr int MR = Avx512Kernel::MR, NR = Avx512Kernel::NR;
  for (int i0 = 0; i0 < g.m; i0 += MR) {
    const int rows = g.m - i0 < MR ? g.m - i0 : MR;
    for (int j0 = 0; j0 < g.n; j0 += NR) {
      const int cols = g.n - j0 < NR ? g.n - j0 : NR;
      const __mmask16 lanes0 = first_lanes(cols), lanes1 = first_lanes(cols - 16);
      if (rows == MR) unpacked_tile<MR>(g, i0, MR, j0, lanes0, lanes1);
      else unpacked_tile<MR - 1>(g, i0, rows, j0, lanes0, lanes1);
    }
  }
}

#include "gemm_driver.h"

void run(const llm2llm::GemmBlock& block) { run_block<Avx512Kernel>(block); }

}  // namespace

namespace llm2llm {
const GemmKernel& gemm_kernel_avx512() {
  static const GemmKernel kernel{"AVX-512 FMA", Avx512Kernel::MR, Avx512Kernel::NR,
                                 Avx512Kernel::MC, Avx512Kernel::KC, Avx512Kernel::NC, run, narrow, unpacked};
  return kernel;
}
}  // namespace llm2llm
