// The row loops of the fused kernels (RMSNorm, RoPE, SwiGLU, attention softmax), written as plain
// loops the compiler vectorises with the -m flags of the file that includes this one.
//
// Included by fused_avx512.cc, fused_avx2.cc and fused_generic.cc INSIDE an anonymous namespace, like
// gemm_driver.h, and for the same reason includes no standard-library header.
//
// Reductions keep 16 partial sums (lane l takes elements i ≡ l mod 16) and add them pairwise in a
// fixed order: vectorisable without -ffast-math, and the same bits on every ISA and thread count.
// Element-wise formulas follow tfjs's op order (x·r then ·w; x0·cos − x1·sin; ...), without FMA
// contraction (-std=c++17 turns it off), so they match the plain tfjs composition closely.

constexpr int kLanes = 16;

inline float reduce_lanes(float (&acc)[kLanes]) {
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] += acc[l + w];
  return acc[0];
}

inline float dot_fixed(const float* x, const float* y, int n) {
  float acc[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l] * y[i + l];
  for (int l = 0; i + l < n; ++l) acc[l] += x[i + l] * y[i + l];
  return reduce_lanes(acc);
}

inline float sum_fixed(const float* x, int n) {
  float acc[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
  for (int l = 0; i + l < n; ++l) acc[l] += x[i + l];
  return reduce_lanes(acc);
}

inline float max_fixed(const float* x, int n) {
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = -3.402823466e38f;
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
  for (int l = 0; i + l < n; ++l) acc[l] = x[i + l] > acc[l] ? x[i + l] : acc[l];
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int l = 0; l < w; ++l) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
  return acc[0];
}

// e^x to about 2 ulp (Cephes expf): x = n·ln2 + r, e^r by a degree-7 polynomial, times 2^n built in
// the exponent bits. Below -87.3 (e^x under float's normal range) it returns 0, as tfjs's exp does for
// the masked scores (-1e9) of attention.
inline float exp_approx(float x) {
  const float clamped = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  const float t = clamped * 1.44269504088896341f + 0.5f;
#if defined(__x86_64__) && !defined(__SSE4_1__)
  // No rounding instruction below SSE4.1: floor through a truncating conversion (vectorises there).
  float fn = static_cast<float>(static_cast<int>(t));
  fn = fn > t ? fn - 1.0f : fn;
#else
  const float fn = __builtin_floorf(t);  // one vrndscaleps / vroundps / frintm
#endif
  const float r = clamped - fn * 0.693359375f - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float scale = __builtin_bit_cast(float, (static_cast<int>(fn) + 127) << 23);
  return x < -87.3f ? 0.0f : p * scale;
}

// --- RMSNorm: y = x · rsqrt(mean(x²) + eps) · w over one row of n; returns the rsqrt.
float rms_norm_row(const float* x, const float* w, float eps, int n, float* y) {
  const float mean = dot_fixed(x, x, n) / static_cast<float>(n);
  const float r = 1.0f / __builtin_sqrtf(mean + eps);
  for (int i = 0; i < n; ++i) y[i] = x[i] * r * w[i];
  return r;
}

// dx = r·g − x · (r³ / n) · Σ g·x with g = dy·w;  dw += dy · x · r (the caller sums rows in order).
void rms_norm_backward_row(const float* dy, const float* x, const float* w, float r, int n, float* dx, float* dw) {
  float g[kLanes * 16];  // dy·w in chunks, so Σ g·x needs no second pass over dy and w
  float acc[kLanes] = {};
  for (int i0 = 0; i0 < n; i0 += kLanes * 16) {
    const int len = n - i0 < kLanes * 16 ? n - i0 : kLanes * 16;
    for (int i = 0; i < len; ++i) g[i] = dy[i0 + i] * w[i0 + i];
    int i = 0;
    for (; i + kLanes <= len; i += kLanes)
      for (int l = 0; l < kLanes; ++l) acc[l] += g[i + l] * x[i0 + i + l];
    for (int l = 0; i + l < len; ++l) acc[l] += g[i + l] * x[i0 + i + l];
  }
  const float c = reduce_lanes(acc) * (r * r * r) / static_cast<float>(n);
  for (int i = 0; i < n; ++i) dx[i] = r * (dy[i] * w[i]) - x[i] * c;
  for (int i = 0; i < n; ++i) dw[i] += dy[i] * x[i] * r;
}

// --- RoPE on one head vector of d values: the first n_rot rotate by the angle whose cos/sin are given
// (n_rot / 2 of each), the rest pass through. sign = -1 rotates backwards (the gradient).
void rope_row(const float* x, const float* cosv, const float* sinv, float sign, int d, int n_rot, bool neox, float* out) {
  const int half = n_rot / 2;
  if (neox) {
    for (int i = 0; i < half; ++i) {
      const float s = sign * sinv[i];
      out[i] = x[i] * cosv[i] - x[i + half] * s;
      out[i + half] = x[i] * s + x[i + half] * cosv[i];
    }
  } else {
    for (int i = 0; i < half; ++i) {
      const float s = sign * sinv[i];
      out[2 * i] = x[2 * i] * cosv[i] - x[2 * i + 1] * s;
      out[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * cosv[i];
    }
  }
  for (int i = n_rot; i < d; ++i) out[i] = x[i];
}

// --- SwiGLU: out = silu(g) · u, silu(g) = g · sigmoid(g), sigmoid(g) = 1 / (1 + e^-g).
void swiglu_forward_span(const float* g, const float* u, int n, float* out) {
  for (int i = 0; i < n; ++i) {
    const float sig = 1.0f / (1.0f + exp_approx(-g[i]));
    out[i] = g[i] * sig * u[i];
  }
}

// dg = dy · u · sig · (1 + g · (1 − sig)),  du = dy · silu(g).
void swiglu_backward_span(const float* dy, const float* g, const float* u, int n, float* dg, float* du) {
  for (int i = 0; i < n; ++i) {
    const float sig = 1.0f / (1.0f + exp_approx(-g[i]));
    du[i] = dy[i] * (g[i] * sig);
    dg[i] = dy[i] * u[i] * (sig * (1.0f + g[i] * (1.0f - sig)));
  }
}

// --- Attention softmax over one row of scores, in place: p = softmax(s · scale + bias) (bias may be null).
void softmax_row(float* s, int n, float scale, const float* bias) {
  if (bias != nullptr) {
    for (int j = 0; j < n; ++j) s[j] = s[j] * scale + bias[j];
  } else {
    for (int j = 0; j < n; ++j) s[j] = s[j] * scale;
  }
  const float max = max_fixed(s, n);
  for (int j = 0; j < n; ++j) s[j] = exp_approx(s[j] - max);
  const float sum = sum_fixed(s, n);
  for (int j = 0; j < n; ++j) s[j] = s[j] / sum;
}

// Its gradient with respect to the unscaled scores, in place over dp: ds = p · (dp − Σ dp·p) · scale.
void softmax_backward_row(const float* p, float* dp, int n, float scale) {
  const float c = dot_fixed(dp, p, n);
  for (int j = 0; j < n; ++j) dp[j] = p[j] * (dp[j] - c) * scale;
}

// --- Cross-entropy over one row of logits: log Σ e^x (max-shifted, exp in chunks on the stack).
float log_sum_exp_row(const float* x, int n) {
  const float max = max_fixed(x, n);
  float e[kLanes * 16];
  float acc[kLanes] = {};
  for (int i0 = 0; i0 < n; i0 += kLanes * 16) {
    const int len = n - i0 < kLanes * 16 ? n - i0 : kLanes * 16;
    for (int i = 0; i < len; ++i) e[i] = exp_approx(x[i0 + i] - max);
    for (int i = len; i < kLanes * 16; ++i) e[i] = 0.0f;
    for (int i = 0; i < kLanes * 16; i += kLanes)
      for (int l = 0; l < kLanes; ++l) acc[l] += e[i + l];
  }
  return max + __builtin_logf(reduce_lanes(acc));
}

// Its gradient scaled by w: out = w · (softmax(x) − onehot(target)).
void cross_entropy_grad_row(const float* x, int n, float lse, float w, int target, float* out) {
  for (int i = 0; i < n; ++i) out[i] = w * exp_approx(x[i] - lse);
  out[target] -= w;
}

// --- Element-wise binary ops (tfjs Add, Sub, Multiply, RealDiv): out = a op b over n values; a_step / b_step are
// 1 for an array, 0 for one value repeated.
template <int Op>
inline void binary_loop(const float* a, int a_step, const float* b, int b_step, int n, float* out) {
  auto apply = [](float x, float y) { return Op == 0 ? x + y : (Op == 1 ? x - y : (Op == 2 ? x * y : x / y)); };
  if (a_step == 1 && b_step == 1) {
    for (int i = 0; i < n; ++i) out[i] = apply(a[i], b[i]);
  } else if (a_step == 1) {
    const float y = b[0];
    for (int i = 0; i < n; ++i) out[i] = apply(a[i], y);
  } else if (b_step == 1) {
    const float x = a[0];
    for (int i = 0; i < n; ++i) out[i] = apply(x, b[i]);
  } else {
    for (int i = 0; i < n; ++i) out[i] = apply(a[0], b[0]);
  }
}

void binary_span(int op, const float* a, int a_step, const float* b, int b_step, int n, float* out) {
  if (op == 0) binary_loop<0>(a, a_step, b, b_step, n, out);
  else if (op == 1) binary_loop<1>(a, a_step, b, b_step, n, out);
  else if (op == 2) binary_loop<2>(a, a_step, b, b_step, n, out);
  else binary_loop<3>(a, a_step, b, b_step, n, out);
}

constexpr llm2llm::FusedRows make_rows(const char* name) {
  return llm2llm::FusedRows{name, rms_norm_row, rms_norm_backward_row, rope_row, swiglu_forward_span,
                            swiglu_backward_span, softmax_row, softmax_backward_row, binary_span,
                            log_sum_exp_row, cross_entropy_grad_row};
}
