// Portable micro-kernel: a 4 x 16 tile of C in plain arrays, written so the compiler's
// auto-vectoriser maps the inner loop onto whatever SIMD the default target has (SSE2, NEON).
#include <cstddef>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "gemm.h"

namespace {

struct PortableKernel {
  static constexpr int MR = 4, NR = 16;
  static constexpr int MC = 128, KC = 256, NC = 2048;

  static void micro(int kc, const float* a, const float* b, float* c, ptrdiff_t ldc, bool accumulate) {
    float acc[MR][NR] = {};
    for (int p = 0; p < kc; ++p) {
      for (int i = 0; i < MR; ++i) {
        const float ai = a[i];
        for (int j = 0; j < NR; ++j) acc[i][j] += ai * b[j];
      }
      a += MR;
      b += NR;
    }
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + acc[i][j];
  }
};

#include "gemm_driver.h"

void run(const llm2llm::GemmBlock& block) { run_block<PortableKernel>(block); }

}  // namespace

namespace llm2llm {
const GemmKernel& gemm_kernel_generic() {
  static const GemmKernel kernel{"portable", PortableKernel::MR, PortableKernel::NR,
                                 PortableKernel::MC, PortableKernel::KC, PortableKernel::NC, run, nullptr, nullptr};
  return kernel;
}
}  // namespace llm2llm
