// Fused CPU kernels for the student's layers (RMSNorm, RoPE, SwiGLU, causal attention) and their
// gradients. Row loops come in one family per instruction set (fused_rows.h compiled three times);
// fused.cc splits the rows across the thread pool in fixed chunks, so results never depend on the
// number of threads. The family follows the GEMM's (selectGemmIsa switches both).
#pragma once

#include <cstddef>

namespace llm2llm {

struct FusedRows {
  const char* name;
  float (*rms_norm)(const float* x, const float* w, float eps, int n, float* y);
  void (*rms_norm_backward)(const float* dy, const float* x, const float* w, float r, int n, float* dx, float* dw);
  void (*rope)(const float* x, const float* cosv, const float* sinv, float sign, int d, int n_rot, bool neox, float* out);
  void (*swiglu)(const float* g, const float* u, int n, float* out);
  void (*swiglu_backward)(const float* dy, const float* g, const float* u, int n, float* dg, float* du);
  void (*softmax)(float* s, int n, float scale, const float* bias);
  void (*softmax_backward)(const float* p, float* dp, int n, float scale);
  void (*binary)(int op, const float* a, int a_step, const float* b, int b_step, int n, float* out);
  float (*log_sum_exp)(const float* x, int n);
  void (*cross_entropy_grad)(const float* x, int n, float lse, float w, int target, float* out);
};

const FusedRows& fused_rows_generic();
#ifdef LLM2LLM_X86_KERNELS
const FusedRows& fused_rows_avx2();
const FusedRows& fused_rows_avx512();
#endif
// The family matching the GEMM micro-kernel family in use.
const FusedRows& current_fused_rows();

// x, y: [rows, n]; rstd: [rows] (saved for the backward); w: [n].
void rms_norm(const float* x, const float* w, float eps, int rows, int n, float* y, float* rstd);
// dx: [rows, n]; dw: [n] (Σ over rows, summed in a fixed order).
void rms_norm_backward(const float* dy, const float* x, const float* w, const float* rstd, int rows, int n, float* dx, float* dw);

// x, out: [positions, heads, d]; cosv, sinv: [positions, n_rot / 2]. inverse: rotate by −angle.
void rope(const float* x, const float* cosv, const float* sinv, int positions, int heads, int d, int n_rot, bool neox,
          bool inverse, float* out);

// Element-wise over n values.
void swiglu(const float* g, const float* u, size_t n, float* out);
void swiglu_backward(const float* dy, const float* g, const float* u, size_t n, float* dg, float* du);

// Weighted next-token cross-entropy over logits [rows, vocab]: loss[r] = w[r] · (lse[r] − x[r, target[r]])
// with lse[r] = log Σ e^x[r, :] (kept for the backward); rows with w = 0 are skipped (loss 0).
void cross_entropy(const float* logits, const int* targets, const float* weights, int rows, int vocab, float* lse, float* loss);
// grad[r, :] = scale · w[r] · (softmax(x[r, :]) − onehot(target[r])); rows with w = 0 are zero.
void cross_entropy_backward(const float* logits, const int* targets, const float* weights, const float* lse, int rows,
                            int vocab, float scale, float* grad);

// Element-wise a op b (op 0 add, 1 subtract, 2 multiply, 3 divide) with tfjs's suffix broadcasting: out has n values,
// a and b repeat every a_len / b_len values (each divides n; 1 is a scalar).
void binary(int op, const float* a, size_t a_len, const float* b, size_t b_len, size_t n, float* out);

// One AdamW step over n parameters (src/student/train/AdamW.ts, applyValues): m and v updated in place, the new
// parameters written to out. Double arithmetic in the JavaScript loop's order with no fused multiply-add, so
// the bits are the JavaScript loop's. h = {gradScale, beta1, beta2, epsilon, decay, stepSize, sqrtC2}.
struct AdamWStep {
  double grad_scale, beta1, beta2, epsilon, decay, step_size, sqrt_c2;
};
void adamw(const AdamWStep& h, const float* param, const float* grad, float* m, float* v, size_t n, float* out);

// Grouped-query attention, layouts as the model keeps them (no transposes):
//   q [B, T, H, Dk], k [B, S, Hkv, Dk], v [B, S, Hkv, Dv], out [B, T, H, Dv];
//   bias [bias_batch, T, S] additive (bias_batch 1 or B; null: none);
//   probs [B, H, T, S] the softmax weights, written by the forward for the backward.
// Query head h reads key/value head h / (H / Hkv).
// causal: the bias is exactly the causal mask with t == s (query i sees keys j <= i, none fully masked), so
// query rows are taken in blocks of kCausalRows and each block's products and softmax stop at its last key:
// about half the work. Entries above the diagonal are exact zeros either way, so only the rounding of sums
// split at block bounds can differ. probs above a row block's last key are then left unwritten.
struct AttentionShape {
  int b, t, s, h, hkv, dk, dv;
  float scale;
  bool causal = false;
};
constexpr int kCausalRows = 24;
void attention(const AttentionShape& shape, const float* q, const float* k, const float* v, const float* bias,
               int bias_batch, float* out, float* probs);
// dq, dk, dv written (not accumulated) from dout [B, T, H, Dv].
void attention_backward(const AttentionShape& shape, const float* dout, const float* q, const float* k, const float* v,
                        const float* probs, float* dq, float* dk, float* dv);

}  // namespace llm2llm
