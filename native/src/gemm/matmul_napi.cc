// JavaScript bindings of the matmul family (used by src/backend/nativeMatMul.ts):
//   matMul(a, b, c, batch, batchA, batchB, m, n, k, transposeA, transposeB,
//          bias|null, activation, leakyAlpha, prelu|null)     C written in place, synchronously
//   matMulAccumulate(a, b, c, m, n, k, transposeA, transposeB)   c += op(a) · op(b)
//   gemmIsa() -> "AVX-512 FMA" | "AVX2 FMA" | "portable"
//   selectGemmIsa("avx512" | "avx2" | "portable") -> boolean  (false: this CPU lacks it)
#include <string>

#include "../napi_util.h"
#include "gemm.h"

namespace llm2llm {

namespace {

bool check_length(napi_env env, const char* name, size_t actual, double expected) {
  if (static_cast<double>(actual) == expected) return true;
  std::string message = std::string("native matMul: ") + name + " has " + std::to_string(actual) +
                        " elements, expected " + std::to_string(static_cast<long long>(expected));
  napi_throw_range_error(env, nullptr, message.c_str());
  return false;
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 15) {
    napi_throw_type_error(env, nullptr, "native matMul: expected 15 arguments");
    return nullptr;
  }
  float *a, *b, *c, *bias, *prelu;
  size_t a_len, b_len, c_len, bias_len, prelu_len;
  BatchMatMul p;
  int activation;
  double leaky_alpha;
  if (!float32_arg(env, argv[0], false, "a", &a, &a_len) || !float32_arg(env, argv[1], false, "b", &b, &b_len) ||
      !float32_arg(env, argv[2], false, "c", &c, &c_len) || !int_arg(env, argv[3], "batch", &p.batch) ||
      !int_arg(env, argv[4], "batchA", &p.batch_a) || !int_arg(env, argv[5], "batchB", &p.batch_b) ||
      !int_arg(env, argv[6], "m", &p.m) || !int_arg(env, argv[7], "n", &p.n) || !int_arg(env, argv[8], "k", &p.k) ||
      !bool_arg(env, argv[9], "transposeA", &p.transpose_a) || !bool_arg(env, argv[10], "transposeB", &p.transpose_b) ||
      !float32_arg(env, argv[11], true, "bias", &bias, &bias_len) || !int_arg(env, argv[12], "activation", &activation) ||
      !double_arg(env, argv[13], "leakyAlpha", &leaky_alpha) ||
      !float32_arg(env, argv[14], true, "prelu", &prelu, &prelu_len)) {
    return nullptr;
  }
  if (p.batch < 0 || p.batch_a < 1 || p.batch_b < 1 || p.m < 0 || p.n < 0 || p.k < 0 || activation < 0 ||
      activation > static_cast<int>(Activation::kSigmoid) || p.batch % p.batch_a != 0 || p.batch % p.batch_b != 0) {
    napi_throw_range_error(env, nullptr, "native matMul: bad dimensions or activation");
    return nullptr;
  }
  if (!check_length(env, "a", a_len, 1.0 * p.batch_a * p.m * p.k) ||
      !check_length(env, "b", b_len, 1.0 * p.batch_b * p.k * p.n) ||
      !check_length(env, "c", c_len, 1.0 * p.batch * p.m * p.n)) {
    return nullptr;
  }
  if ((bias != nullptr && bias_len != 1 && bias_len != static_cast<size_t>(p.n)) ||
      (prelu != nullptr && prelu_len != 1 && prelu_len != static_cast<size_t>(p.n))) {
    napi_throw_range_error(env, nullptr, "native matMul: bias and prelu weights must have 1 or n elements");
    return nullptr;
  }
  if (static_cast<Activation>(activation) == Activation::kPrelu && prelu == nullptr) {
    napi_throw_type_error(env, nullptr, "native matMul: prelu activation needs prelu weights");
    return nullptr;
  }
  p.a = a;
  p.b = b;
  p.c = c;
  p.epilogue.bias = bias;
  p.epilogue.bias_len = static_cast<int>(bias_len);
  p.epilogue.activation = static_cast<Activation>(activation);
  p.epilogue.leaky_alpha = static_cast<float>(leaky_alpha);
  p.epilogue.prelu = prelu;
  p.epilogue.prelu_len = static_cast<int>(prelu_len);
  batch_matmul(p);
  return nullptr;
}

// matMulAccumulate(a, b, c, m, n, k, transposeA, transposeB): c [m, n] += op(a) · op(b), one product.
napi_value MatMulAccumulate(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 8) {
    napi_throw_type_error(env, nullptr, "native matMulAccumulate: expected 8 arguments");
    return nullptr;
  }
  float *a, *b, *c;
  size_t a_len, b_len, c_len;
  BatchMatMul p;
  if (!float32_arg(env, argv[0], false, "a", &a, &a_len) || !float32_arg(env, argv[1], false, "b", &b, &b_len) ||
      !float32_arg(env, argv[2], false, "c", &c, &c_len) || !int_arg(env, argv[3], "m", &p.m) ||
      !int_arg(env, argv[4], "n", &p.n) || !int_arg(env, argv[5], "k", &p.k) ||
      !bool_arg(env, argv[6], "transposeA", &p.transpose_a) || !bool_arg(env, argv[7], "transposeB", &p.transpose_b)) {
    return nullptr;
  }
  if (p.m < 0 || p.n < 0 || p.k < 0) {
    napi_throw_range_error(env, nullptr, "native matMulAccumulate: bad dimensions");
    return nullptr;
  }
  if (!check_length(env, "a", a_len, 1.0 * p.m * p.k) || !check_length(env, "b", b_len, 1.0 * p.k * p.n) ||
      !check_length(env, "c", c_len, 1.0 * p.m * p.n)) {
    return nullptr;
  }
  p.a = a;
  p.b = b;
  p.c = c;
  p.batch = p.batch_a = p.batch_b = 1;
  p.accumulate = true;
  batch_matmul(p);
  return nullptr;
}

napi_value GemmIsa(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_string_utf8(env, current_gemm_kernel().name, NAPI_AUTO_LENGTH, &result);
  return result;
}

napi_value SelectGemmIsa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[32] = {0};
  size_t length = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "native selectGemmIsa: expected \"avx512\", \"avx2\" or \"portable\"");
    return nullptr;
  }
  napi_value result;
  napi_get_boolean(env, select_gemm_kernel(name), &result);
  return result;
}

}  // namespace

void register_matmul(napi_env env, napi_value exports) {
  export_function(env, exports, "matMul", MatMul);
  export_function(env, exports, "matMulAccumulate", MatMulAccumulate);
  export_function(env, exports, "gemmIsa", GemmIsa);
  export_function(env, exports, "selectGemmIsa", SelectGemmIsa);
}

}  // namespace llm2llm
