// JavaScript bindings of the quantized-weight family (base weights kept in their GGUF encoding):
//   matMulQuantized(a, w, wType, wRows, wCols, c, m, transposeW, accumulate, bias|null)
//       transposeW: c[m, wRows] (=, +=) a[m, wCols] · Wᵀ (+ bias);  else c[m, wCols] (=, +=) a[m, wRows] · W
//   dequantizeRows(w, wType, wRows, wCols, rowIds, out)   out[i, :] = W[rowIds[i], :]
//   quantizedTypes() -> ggml type ids the two above take
// w is a Uint8Array over W's bytes (any byteOffset; N-API's data pointer already includes it).
#include <string>

#include "../gemm/gemm_quant.h"
#include "../napi_util.h"
#include "../thread_pool.h"
#include "dequantize.h"

namespace llm2llm {

namespace {

bool typed_arg(napi_env env, napi_value value, napi_typedarray_type wanted, const char* fn, const char* name,
               const char* kind, void** data, size_t* length) {
  bool is_typed_array = false;
  napi_is_typedarray(env, value, &is_typed_array);
  napi_typedarray_type type;
  if (is_typed_array) napi_get_typedarray_info(env, value, &type, length, data, nullptr, nullptr);
  if (!is_typed_array || type != wanted) {
    napi_throw_type_error(env, nullptr, (std::string("native ") + fn + ": " + name + " must be " + kind).c_str());
    return false;
  }
  return true;
}

bool range_error(napi_env env, const std::string& message) {
  napi_throw_range_error(env, nullptr, message.c_str());
  return false;
}

// W's description: a supported type, non-negative sizes, whole blocks per row, and exactly rows * row_bytes bytes.
bool weight_args(napi_env env, const char* fn, size_t w_len, int type, int rows, int cols, size_t* bytes_per_row) {
  if (!quant_type_supported(type)) {
    int types[32];
    const int count = quant_supported_types(types);
    std::string list;
    for (int i = 0; i < count; ++i) list += (i ? ", " : "") + std::string(quant_type_name(types[i])) + " (" + std::to_string(types[i]) + ")";
    napi_throw_type_error(env, nullptr, (std::string("native ") + fn + ": wType " + std::to_string(type) +
                                         " is not a ggml type this build decodes; expected one of " + list).c_str());
    return false;
  }
  if (rows < 0 || cols < 0) return range_error(env, std::string("native ") + fn + ": wRows and wCols must be >= 0");
  const int block = quant_block_size(type);
  if (cols % block != 0)
    return range_error(env, std::string("native ") + fn + ": wCols " + std::to_string(cols) + " is not a multiple of " +
                                quant_type_name(type) + "'s block of " + std::to_string(block) + " values");
  *bytes_per_row = row_bytes(type, cols);
  const double expected = static_cast<double>(*bytes_per_row) * rows;
  if (static_cast<double>(w_len) != expected)
    return range_error(env, std::string("native ") + fn + ": w has " + std::to_string(w_len) + " bytes, expected " +
                                std::to_string(static_cast<long long>(expected)) + " (" + std::to_string(rows) + " rows of " +
                                std::to_string(cols) + " " + quant_type_name(type) + " values, " +
                                std::to_string(*bytes_per_row) + " bytes each)");
  return true;
}

bool length_is(napi_env env, const char* fn, const char* name, size_t actual, double expected, const char* what) {
  if (static_cast<double>(actual) == expected) return true;
  return range_error(env, std::string("native ") + fn + ": " + name + " has " + std::to_string(actual) + " elements, expected " +
                              std::to_string(static_cast<long long>(expected)) + " (" + what + ")");
}

napi_value MatMulQuantized(napi_env env, napi_callback_info info) {
  constexpr const char* fn = "matMulQuantized";
  size_t argc = 10;
  napi_value argv[10];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 10) {
    napi_throw_type_error(env, nullptr, "native matMulQuantized: expected 10 arguments (a, w, wType, wRows, wCols, c, m, transposeW, accumulate, bias)");
    return nullptr;
  }
  float *a, *c, *bias;
  void* w;
  size_t a_len, w_len, c_len, bias_len;
  int type, rows, cols, m;
  bool transpose_w, accumulate;
  if (!float32_arg(env, argv[0], false, "a", &a, &a_len) ||
      !typed_arg(env, argv[1], napi_uint8_array, fn, "w", "a Uint8Array", &w, &w_len) ||
      !int_arg(env, argv[2], "wType", &type) || !int_arg(env, argv[3], "wRows", &rows) || !int_arg(env, argv[4], "wCols", &cols) ||
      !float32_arg(env, argv[5], false, "c", &c, &c_len) || !int_arg(env, argv[6], "m", &m) ||
      !bool_arg(env, argv[7], "transposeW", &transpose_w) || !bool_arg(env, argv[8], "accumulate", &accumulate) ||
      !float32_arg(env, argv[9], true, "bias", &bias, &bias_len)) {
    return nullptr;
  }
  size_t bytes_per_row;
  if (!weight_args(env, fn, w_len, type, rows, cols, &bytes_per_row)) return nullptr;
  if (m < 0) {
    range_error(env, "native matMulQuantized: m must be >= 0");
    return nullptr;
  }
  const int n = transpose_w ? rows : cols, k = transpose_w ? cols : rows;
  if (!length_is(env, fn, "a", a_len, 1.0 * m * k, transpose_w ? "m × wCols" : "m × wRows") ||
      !length_is(env, fn, "c", c_len, 1.0 * m * n, transpose_w ? "m × wRows" : "m × wCols")) {
    return nullptr;
  }
  if (bias != nullptr && accumulate) {
    napi_throw_type_error(env, nullptr, "native matMulQuantized: bias is only taken with accumulate = false");
    return nullptr;
  }
  if (bias != nullptr && !length_is(env, fn, "bias", bias_len, n, transpose_w ? "wRows" : "wCols")) return nullptr;
  QuantizedMatMul p;
  p.a = a;
  p.w = QuantizedMatrix{static_cast<const uint8_t*>(w), type, rows, cols, bytes_per_row};
  p.c = c;
  p.m = m;
  p.transpose_w = transpose_w;
  p.accumulate = accumulate;
  p.bias = bias;
  quantized_matmul(p);
  return nullptr;
}

struct DequantizeJob {
  const uint8_t* w;
  int type, cols;
  size_t row_bytes;
  const int32_t* ids;
  float* out;
  int rows_per_task, count;
};

void dequantize_task(void* context, int task) {
  const DequantizeJob& job = *static_cast<const DequantizeJob*>(context);
  const int end = task * job.rows_per_task + job.rows_per_task < job.count ? task * job.rows_per_task + job.rows_per_task : job.count;
  for (int i = task * job.rows_per_task; i < end; ++i)
    dequantize_range(job.type, job.w + static_cast<size_t>(job.ids[i]) * job.row_bytes, 0, job.cols,
                     job.out + static_cast<size_t>(i) * job.cols);
}

napi_value DequantizeRows(napi_env env, napi_callback_info info) {
  constexpr const char* fn = "dequantizeRows";
  size_t argc = 6;
  napi_value argv[6];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 6) {
    napi_throw_type_error(env, nullptr, "native dequantizeRows: expected 6 arguments (w, wType, wRows, wCols, rowIds, out)");
    return nullptr;
  }
  void *w, *ids;
  float* out;
  size_t w_len, ids_len, out_len;
  int type, rows, cols;
  if (!typed_arg(env, argv[0], napi_uint8_array, fn, "w", "a Uint8Array", &w, &w_len) || !int_arg(env, argv[1], "wType", &type) ||
      !int_arg(env, argv[2], "wRows", &rows) || !int_arg(env, argv[3], "wCols", &cols) ||
      !typed_arg(env, argv[4], napi_int32_array, fn, "rowIds", "an Int32Array", &ids, &ids_len) ||
      !float32_arg(env, argv[5], false, "out", &out, &out_len)) {
    return nullptr;
  }
  size_t bytes_per_row;
  if (!weight_args(env, fn, w_len, type, rows, cols, &bytes_per_row)) return nullptr;
  if (!length_is(env, fn, "out", out_len, 1.0 * ids_len * cols, "rowIds.length × wCols")) return nullptr;
  const int32_t* id = static_cast<const int32_t*>(ids);
  for (size_t i = 0; i < ids_len; ++i) {
    if (id[i] < 0 || id[i] >= rows) {
      range_error(env, std::string("native dequantizeRows: rowIds[") + std::to_string(i) + "] = " + std::to_string(id[i]) +
                           " is outside W's " + std::to_string(rows) + " rows");
      return nullptr;
    }
  }
  if (ids_len == 0 || cols == 0) return nullptr;
  // Tasks of at least ~64K values, so a single embedding row stays on this thread.
  DequantizeJob job{static_cast<const uint8_t*>(w), type, cols, bytes_per_row, id, out, 0, static_cast<int>(ids_len)};
  job.rows_per_task = (65536 + cols - 1) / cols;
  const int tasks = (job.count + job.rows_per_task - 1) / job.rows_per_task;
  if (tasks == 1 || ThreadPool::instance().threads() == 1) {
    for (int t = 0; t < tasks; ++t) dequantize_task(&job, t);
  } else {
    ThreadPool::instance().parallel_for(tasks, dequantize_task, &job);
  }
  return nullptr;
}

napi_value QuantizedTypes(napi_env env, napi_callback_info info) {
  int types[32];
  const int count = quant_supported_types(types);
  napi_value result;
  LLM2LLM_NAPI_CALL(env, napi_create_array_with_length(env, count, &result));
  for (int i = 0; i < count; ++i) {
    napi_value id;
    LLM2LLM_NAPI_CALL(env, napi_create_int32(env, types[i], &id));
    LLM2LLM_NAPI_CALL(env, napi_set_element(env, result, i, id));
  }
  return result;
}

}  // namespace

void register_quant(napi_env env, napi_value exports) {
  export_function(env, exports, "matMulQuantized", MatMulQuantized);
  export_function(env, exports, "dequantizeRows", DequantizeRows);
  export_function(env, exports, "quantizedTypes", QuantizedTypes);
}

}  // namespace llm2llm
