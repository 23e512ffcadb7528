// JavaScript bindings of the fused kernels (used by src/backend/nativeFused.ts). Every output is a
// Float32Array the caller allocated; lengths are checked against the shape arguments.
//   rmsNorm(x, w, y, rstd, rows, n, eps)            rmsNormBackward(dy, x, w, rstd, dx, dw, rows, n)
//   rope(x, cos, sin, out, positions, heads, d, nRot, neox, inverse)
//   swiglu(g, u, out)                               swigluBackward(dy, g, u, dg, du)
//   attention(q, k, v, bias|null, biasBatch, out, probs, b, t, s, h, hkv, dk, dv, scale[, causal])
//   attentionBackward(dout, q, k, v, probs, dq, dk, dv, b, t, s, h, hkv, dk, dv, scale[, causal])
//   causal: the bias is exactly the causal mask (t == s): blocks above the diagonal are skipped
//   binary(op, a, b, out)   op 0 add, 1 sub, 2 mul, 3 div; a and b repeat with periods dividing out's length
//   crossEntropy(logits, targets:Int32Array, weights, lse, loss, rows, vocab)
//   crossEntropyBackward(logits, targets, weights, lse, grad, rows, vocab, scale)
//   adamw(param, grad, m, v, out, gradScale, beta1, beta2, epsilon, decay, stepSize, sqrtC2)
//   fusedIsa() -> the row-loop family in use
#include <string>

#include "../napi_util.h"
#include "fused.h"

namespace llm2llm {

namespace {

// The arguments of one call, read in order; the first failure throws and sets ok = false.
struct Args {
  napi_env env;
  const char* fn;
  napi_value argv[20];
  size_t argc = 20;
  size_t next = 0;
  bool ok = true;

  // `optional` more arguments may follow the expected ones (read them only when argc says they are there).
  Args(napi_env e, napi_callback_info info, const char* name, size_t expected, size_t optional = 0) : env(e), fn(name) {
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < expected || argc > expected + optional) {
      fail(std::string("expected ") + std::to_string(expected) + " arguments");
    }
  }
  void fail(const std::string& message) {
    if (!ok) return;
    ok = false;
    napi_throw_type_error(env, nullptr, (std::string("native ") + fn + ": " + message).c_str());
  }
  float* floats(const char* name, double expected_length, bool optional = false) {
    float* data = nullptr;
    size_t length = 0;
    if (!ok) return nullptr;
    if (!float32_arg(env, argv[next++], optional, name, &data, &length)) {
      ok = false;
      return nullptr;
    }
    if (data != nullptr && static_cast<double>(length) != expected_length) {
      fail(std::string(name) + " has " + std::to_string(length) + " elements, expected " +
           std::to_string(static_cast<long long>(expected_length)));
    }
    return data;
  }
  // Arrays whose expected length depends on integers read later: check them afterwards with `length`.
  float* floats_unchecked(const char* name, size_t* length, bool optional = false) {
    float* data = nullptr;
    if (!ok) return nullptr;
    if (!float32_arg(env, argv[next++], optional, name, &data, length)) ok = false;
    return data;
  }
  void check(const char* name, size_t length, double expected) {
    if (ok && static_cast<double>(length) != expected) {
      fail(std::string(name) + " has " + std::to_string(length) + " elements, expected " +
           std::to_string(static_cast<long long>(expected)));
    }
  }
  int integer(const char* name, int min = 1) {
    int value = 0;
    if (!ok) return 0;
    if (!int_arg(env, argv[next++], name, &value)) {
      ok = false;
      return 0;
    }
    if (value < min) fail(std::string(name) + " must be >= " + std::to_string(min));
    return value;
  }
  float number(const char* name) {
    double value = 0;
    if (ok && !double_arg(env, argv[next++], name, &value)) ok = false;
    return static_cast<float>(value);
  }
  bool boolean(const char* name) {
    bool value = false;
    if (ok && !bool_arg(env, argv[next++], name, &value)) ok = false;
    return value;
  }
};

napi_value RmsNorm(napi_env env, napi_callback_info info) {
  Args a(env, info, "rmsNorm", 7);
  size_t xl, wl, yl, rl;
  float* x = a.floats_unchecked("x", &xl);
  float* w = a.floats_unchecked("w", &wl);
  float* y = a.floats_unchecked("y", &yl);
  float* rstd = a.floats_unchecked("rstd", &rl);
  const int rows = a.integer("rows"), n = a.integer("n");
  const float eps = a.number("eps");
  const double size = 1.0 * rows * n;
  a.check("x", xl, size), a.check("w", wl, n), a.check("y", yl, size), a.check("rstd", rl, rows);
  if (a.ok) rms_norm(x, w, eps, rows, n, y, rstd);
  return nullptr;
}

napi_value RmsNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "rmsNormBackward", 8);
  size_t l[6];
  float* dy = a.floats_unchecked("dy", &l[0]);
  float* x = a.floats_unchecked("x", &l[1]);
  float* w = a.floats_unchecked("w", &l[2]);
  float* rstd = a.floats_unchecked("rstd", &l[3]);
  float* dx = a.floats_unchecked("dx", &l[4]);
  float* dw = a.floats_unchecked("dw", &l[5]);
  const int rows = a.integer("rows"), n = a.integer("n");
  const double size = 1.0 * rows * n;
  a.check("dy", l[0], size), a.check("x", l[1], size), a.check("w", l[2], n), a.check("rstd", l[3], rows);
  a.check("dx", l[4], size), a.check("dw", l[5], n);
  if (a.ok) rms_norm_backward(dy, x, w, rstd, rows, n, dx, dw);
  return nullptr;
}

napi_value Rope(napi_env env, napi_callback_info info) {
  Args a(env, info, "rope", 10);
  size_t l[4];
  float* x = a.floats_unchecked("x", &l[0]);
  float* c = a.floats_unchecked("cos", &l[1]);
  float* s = a.floats_unchecked("sin", &l[2]);
  float* out = a.floats_unchecked("out", &l[3]);
  const int positions = a.integer("positions"), heads = a.integer("heads"), d = a.integer("d");
  const int n_rot = a.integer("nRot", 0);
  const bool neox = a.boolean("neox"), inverse = a.boolean("inverse");
  if (a.ok && (n_rot % 2 != 0 || n_rot > d)) a.fail("nRot must be even and <= d");
  const double size = 1.0 * positions * heads * d;
  a.check("x", l[0], size), a.check("cos", l[1], 0.5 * positions * n_rot), a.check("sin", l[2], 0.5 * positions * n_rot);
  a.check("out", l[3], size);
  if (a.ok) rope(x, c, s, positions, heads, d, n_rot, neox, inverse, out);
  return nullptr;
}

napi_value Swiglu(napi_env env, napi_callback_info info) {
  Args a(env, info, "swiglu", 3);
  size_t n;
  float* g = a.floats_unchecked("g", &n);
  float* u = a.floats("u", n);
  float* out = a.floats("out", n);
  if (a.ok) swiglu(g, u, n, out);
  return nullptr;
}

napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "swigluBackward", 5);
  size_t n;
  float* dy = a.floats_unchecked("dy", &n);
  float* g = a.floats("g", n);
  float* u = a.floats("u", n);
  float* dg = a.floats("dg", n);
  float* du = a.floats("du", n);
  if (a.ok) swiglu_backward(dy, g, u, n, dg, du);
  return nullptr;
}

// The 8 shape arguments shared by both attention calls, after `first` array arguments.
bool attention_shape(Args& a, AttentionShape* s) {
  s->b = a.integer("b"), s->t = a.integer("t"), s->s = a.integer("s"), s->h = a.integer("h");
  s->hkv = a.integer("hkv"), s->dk = a.integer("dk"), s->dv = a.integer("dv");
  s->scale = a.number("scale");
  if (a.ok && s->h % s->hkv != 0) a.fail("h must be a multiple of hkv");
  return a.ok;
}

napi_value Attention(napi_env env, napi_callback_info info) {
  Args a(env, info, "attention", 15, 1);
  size_t l[7];
  float* q = a.floats_unchecked("q", &l[0]);
  float* k = a.floats_unchecked("k", &l[1]);
  float* v = a.floats_unchecked("v", &l[2]);
  float* bias = a.floats_unchecked("bias", &l[3], true);
  const int bias_batch = a.integer("biasBatch");
  float* out = a.floats_unchecked("out", &l[4]);
  float* probs = a.floats_unchecked("probs", &l[5]);
  AttentionShape s;
  if (!attention_shape(a, &s)) return nullptr;
  if (a.argc > 15) s.causal = a.boolean("causal");
  if (bias_batch != 1 && bias_batch != s.b) a.fail("biasBatch must be 1 or b");
  if (s.causal && (s.t != s.s || bias_batch != 1)) a.fail("causal needs t == s and one bias for the batch");
  a.check("q", l[0], 1.0 * s.b * s.t * s.h * s.dk), a.check("k", l[1], 1.0 * s.b * s.s * s.hkv * s.dk);
  a.check("v", l[2], 1.0 * s.b * s.s * s.hkv * s.dv);
  if (bias != nullptr) a.check("bias", l[3], 1.0 * bias_batch * s.t * s.s);
  a.check("out", l[4], 1.0 * s.b * s.t * s.h * s.dv), a.check("probs", l[5], 1.0 * s.b * s.h * s.t * s.s);
  if (a.ok) attention(s, q, k, v, bias, bias_batch, out, probs);
  return nullptr;
}

napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "attentionBackward", 16, 1);
  size_t l[8];
  const char* names[8] = {"dout", "q", "k", "v", "probs", "dq", "dk", "dv"};
  float* p[8];
  for (int i = 0; i < 8; ++i) p[i] = a.floats_unchecked(names[i], &l[i]);
  AttentionShape s;
  if (!attention_shape(a, &s)) return nullptr;
  const double q = 1.0 * s.b * s.t * s.h * s.dk, k = 1.0 * s.b * s.s * s.hkv * s.dk, v = 1.0 * s.b * s.s * s.hkv * s.dv;
  const double expected[8] = {1.0 * s.b * s.t * s.h * s.dv, q, k, v, 1.0 * s.b * s.h * s.t * s.s, q, k, v};
  for (int i = 0; i < 8; ++i) a.check(names[i], l[i], expected[i]);
  if (a.argc > 16) s.causal = a.boolean("causal");
  if (s.causal && s.t != s.s) a.fail("causal needs t == s");
  if (a.ok) attention_backward(s, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
  return nullptr;
}

napi_value Binary(napi_env env, napi_callback_info info) {
  Args a(env, info, "binary", 4);
  const int op = a.integer("op", 0);
  size_t al, bl, n;
  float* x = a.floats_unchecked("a", &al);
  float* y = a.floats_unchecked("b", &bl);
  float* out = a.floats_unchecked("out", &n);
  if (a.ok && (op > 3 || al == 0 || bl == 0 || n % al != 0 || n % bl != 0)) a.fail("bad op or lengths");
  if (a.ok && n > 0) binary(op, x, al, y, bl, n, out);
  return nullptr;
}

napi_value AdamW(napi_env env, napi_callback_info info) {
  Args a(env, info, "adamw", 12);
  size_t n = 0, l[4];
  float* param = a.floats_unchecked("param", &n);
  float* grad = a.floats_unchecked("grad", &l[0]);
  float* m = a.floats_unchecked("m", &l[1]);
  float* v = a.floats_unchecked("v", &l[2]);
  float* out = a.floats_unchecked("out", &l[3]);
  const char* names[] = {"grad", "m", "v", "out"};
  for (int i = 0; i < 4; ++i) a.check(names[i], l[i], static_cast<double>(n));
  double h[7];
  const char* hyper[] = {"gradScale", "beta1", "beta2", "epsilon", "decay", "stepSize", "sqrtC2"};
  for (int i = 0; i < 7; ++i)
    if (a.ok && !double_arg(env, a.argv[a.next++], hyper[i], &h[i])) a.ok = false;
  if (a.ok && n > 0) adamw(AdamWStep{h[0], h[1], h[2], h[3], h[4], h[5], h[6]}, param, grad, m, v, n, out);
  return nullptr;
}

// Targets come as an Int32Array: read it without the Float32Array check.
bool int32_array(Args& a, const char* name, int** data, size_t* length) {
  if (!a.ok) return false;
  bool is_typed = false;
  napi_value value = a.argv[a.next++];
  napi_is_typedarray(a.env, value, &is_typed);
  napi_typedarray_type type;
  void* raw = nullptr;
  if (is_typed) napi_get_typedarray_info(a.env, value, &type, length, &raw, nullptr, nullptr);
  if (!is_typed || type != napi_int32_array) {
    a.fail(std::string(name) + " must be an Int32Array");
    return false;
  }
  *data = static_cast<int*>(raw);
  return true;
}

napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Args a(env, info, "crossEntropy", 7);
  size_t l[5];
  int* targets = nullptr;
  float* logits = a.floats_unchecked("logits", &l[0]);
  int32_array(a, "targets", &targets, &l[1]);
  float* weights = a.floats_unchecked("weights", &l[2]);
  float* lse = a.floats_unchecked("lse", &l[3]);
  float* loss = a.floats_unchecked("loss", &l[4]);
  const int rows = a.integer("rows"), vocab = a.integer("vocab");
  a.check("logits", l[0], 1.0 * rows * vocab), a.check("targets", l[1], rows), a.check("weights", l[2], rows);
  a.check("lse", l[3], rows), a.check("loss", l[4], rows);
  for (int r = 0; a.ok && r < rows; ++r)
    if (weights[r] != 0.0f && (targets[r] < 0 || targets[r] >= vocab)) a.fail("a target is outside [0, vocab)");
  if (a.ok) cross_entropy(logits, targets, weights, rows, vocab, lse, loss);
  return nullptr;
}

napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, "crossEntropyBackward", 8);
  size_t l[5];
  int* targets = nullptr;
  float* logits = a.floats_unchecked("logits", &l[0]);
  int32_array(a, "targets", &targets, &l[1]);
  float* weights = a.floats_unchecked("weights", &l[2]);
  float* lse = a.floats_unchecked("lse", &l[3]);
  float* grad = a.floats_unchecked("grad", &l[4]);
  const int rows = a.integer("rows"), vocab = a.integer("vocab");
  const float scale = a.number("scale");
  a.check("logits", l[0], 1.0 * rows * vocab), a.check("targets", l[1], rows), a.check("weights", l[2], rows);
  a.check("lse", l[3], rows), a.check("grad", l[4], 1.0 * rows * vocab);
  for (int r = 0; a.ok && r < rows; ++r)
    if (weights[r] != 0.0f && (targets[r] < 0 || targets[r] >= vocab)) a.fail("a target is outside [0, vocab)");
  if (a.ok) cross_entropy_backward(logits, targets, weights, lse, rows, vocab, scale, grad);
  return nullptr;
}

napi_value FusedIsa(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_string_utf8(env, current_fused_rows().name, NAPI_AUTO_LENGTH, &result);
  return result;
}

}  // namespace

void register_fused(napi_env env, napi_value exports) {
  export_function(env, exports, "rmsNorm", RmsNorm);
  export_function(env, exports, "rmsNormBackward", RmsNormBackward);
  export_function(env, exports, "rope", Rope);
  export_function(env, exports, "swiglu", Swiglu);
  export_function(env, exports, "swigluBackward", SwigluBackward);
  export_function(env, exports, "attention", Attention);
  export_function(env, exports, "attentionBackward", AttentionBackward);
  export_function(env, exports, "binary", Binary);
  export_function(env, exports, "adamw", AdamW);
  export_function(env, exports, "crossEntropy", CrossEntropy);
  export_function(env, exports, "crossEntropyBackward", CrossEntropyBackward);
  export_function(env, exports, "fusedIsa", FusedIsa);
}

}  // namespace llm2llm
