// AVX2 FMA micro-kernel: a 6 x 16 tile of C in 12 ymm registers (2 loads of B + 6 broadcasts of A
// feed 12 FMAs per depth step). Compiled with -mavx2 -mfma; reached only when the CPU has both.
#include <immintrin.h>

#include <cstddef>

#include "gemm.h"

namespace {

struct Avx2Kernel {
  static constexpr int MR = 6, NR = 16;
  static constexpr int MC = 120, KC = 256, NC = 2048;

  static void micro(int kc, const float* a, const float* b, float* c, ptrdiff_t ldc, bool accumulate) {
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
#pragma GCC unroll 2
    for (int p = 0; p < kc; ++p) {
      const __m256 b0 = _mm256_load_ps(b);
      const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        const __m256 ai = _mm256_broadcast_ss(a + i);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
      }
      a += MR;
      b += NR;
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      float* row = c + i * ldc;
      if (accumulate) {
        acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
        acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, acc[i][0]);
      _mm256_storeu_ps(row + 8, acc[i][1]);
    }
  }
};

#include "gemm_driver.h"

void run(const llm2llm::GemmBlock& block) { run_block<Avx2Kernel>(block); }

}  // namespace

namespace llm2llm {
const GemmKernel& gemm_kernel_avx2() {
  static const GemmKernel kernel{"AVX2 FMA", Avx2Kernel::MR, Avx2Kernel::NR,
                                 Avx2Kernel::MC, Avx2Kernel::KC, Avx2Kernel::NC, run, nullptr, nullptr};
  return kernel;
}
}  // namespace llm2llm
