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
  // KC x NR of B (32 KiB) stays in L1 while the MC x KC block of A (144 KiB) streams from L2; the
  // KC x NC block of B (1 MiB) sits in the other half of a 2 MiB L2.
  static constexpr int MC = 144, KC = 256, NC = 1024;

  // One depth step: C[i][0..31] += A[i] * B[0..31] for the 12 rows.
  static inline void step(const float* a, const float* b, __m512 (&acc)[MR][2]) {
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

#include "gemm_driver.h"

void run(const llm2llm::GemmBlock& block) { run_block<Avx512Kernel>(block); }
void run_packed_b(const llm2llm::GemmBlock& block, const float* packed_b) { run_block_packed_b<Avx512Kernel>(block, packed_b); }

}  // namespace

namespace llm2llm {
const GemmKernel& gemm_kernel_avx512() {
  static const GemmKernel kernel{"AVX-512 FMA", Avx512Kernel::MR, Avx512Kernel::NR,
                                 Avx512Kernel::MC, Avx512Kernel::KC, Avx512Kernel::NC, run,
                                 pack_b<Avx512Kernel>, run_packed_b};
  return kernel;
}
}  // namespace llm2llm
