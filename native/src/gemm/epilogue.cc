// Bias and activation of tfjs's _FusedMatMul, element for element as the cpu backend computes them
// (exp in double precision, as JavaScript's Math.exp).
#include <cmath>

#include "gemm.h"

namespace llm2llm {

namespace {
inline float activate(Activation activation, float x, float leaky_alpha, float prelu_alpha) {
  switch (activation) {
    case Activation::kLinear:
      return x;
    case Activation::kRelu:
      return x < 0.0f ? 0.0f : x;
    case Activation::kRelu6:
      return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case Activation::kElu:
      return x >= 0.0f ? x : static_cast<float>(std::exp(static_cast<double>(x)) - 1.0);
    case Activation::kLeakyRelu:
      return x < 0.0f ? leaky_alpha * x : x;
    case Activation::kPrelu:
      return x < 0.0f ? prelu_alpha * x : x;
    case Activation::kSigmoid:
      return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  }
  return x;
}
}  // namespace

void apply_epilogue(const Epilogue& e, float* c, ptrdiff_t ldc, int m, int n0, int n1) {
  if (!e.active()) return;
  for (int i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (int j = n0; j < n1; ++j) {
      float x = row[j];
      if (e.bias != nullptr) x += e.bias[e.bias_len == 1 ? 0 : j];
      const float prelu_alpha = e.prelu != nullptr ? e.prelu[e.prelu_len == 1 ? 0 : j] : 0.0f;
      row[j] = activate(e.activation, x, e.leaky_alpha, prelu_alpha);
    }
  }
}

}  // namespace llm2llm
