// Entry point of the llm2llm native addon. Each kernel family (one directory under src/) exports its
// functions from a register_* function called here; later families (attention, RMSNorm, RoPE,
// SwiGLU, cross-entropy, LoRA) slot in the same way.
#include <node_api.h>

#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "napi_util.h"
#include "thread_pool.h"

namespace llm2llm {

void register_matmul(napi_env env, napi_value exports);
void register_fused(napi_env env, napi_value exports);
void register_quant(napi_env env, napi_value exports);
void register_map_file(napi_env env, napi_value exports);

bool float32_arg(napi_env env, napi_value value, bool optional, const char* name, float** data, size_t* length) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (optional && (type == napi_null || type == napi_undefined)) {
    *data = nullptr;
    *length = 0;
    return true;
  }
  bool is_typed_array = false;
  napi_is_typedarray(env, value, &is_typed_array);
  napi_typedarray_type array_type;
  void* raw = nullptr;
  if (is_typed_array) napi_get_typedarray_info(env, value, &array_type, length, &raw, nullptr, nullptr);
  if (!is_typed_array || array_type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, (std::string("native: ") + name + " must be a Float32Array").c_str());
    return false;
  }
  *data = static_cast<float*>(raw);
  return true;
}

bool double_arg(napi_env env, napi_value value, const char* name, double* out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, (std::string("native: ") + name + " must be a number").c_str());
    return false;
  }
  return true;
}

bool int_arg(napi_env env, napi_value value, const char* name, int* out) {
  double d;
  if (!double_arg(env, value, name, &d)) return false;
  if (d != static_cast<double>(static_cast<int>(d))) {
    napi_throw_range_error(env, nullptr, (std::string("native: ") + name + " must be an integer").c_str());
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool bool_arg(napi_env env, napi_value value, const char* name, bool* out) {
  if (napi_get_value_bool(env, value, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, (std::string("native: ") + name + " must be a boolean").c_str());
    return false;
  }
  return true;
}

void export_function(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value function;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &function);
  napi_set_named_property(env, exports, name, function);
}

namespace {

// setThreads(count): total threads of the pool, the calling thread included.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  LLM2LLM_NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int count;
  if (argc < 1 || !int_arg(env, argv[0], "threads", &count)) return nullptr;
  if (count < 1 || count > 1024) {
    napi_throw_range_error(env, nullptr, "native: threads must be between 1 and 1024");
    return nullptr;
  }
  ThreadPool::instance().set_threads(count);
  return nullptr;
}

napi_value Threads(napi_env env, napi_callback_info info) {
  napi_value result;
  napi_create_int32(env, ThreadPool::instance().threads(), &result);
  return result;
}

// Every tfjs op allocates its output as a fresh typed array (calloc in Node). Above glibc's mmap
// threshold each one is a new mapping whose pages fault in on first write, in the kernel's threads:
// for a 512 x 512 matmul that cost more than the product itself. Keep big blocks on the heap instead,
// where freed ones are reused without faults.
void keep_large_allocations_on_heap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 1024 << 20);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  keep_large_allocations_on_heap();
  export_function(env, exports, "setThreads", SetThreads);
  export_function(env, exports, "threads", Threads);
  register_matmul(env, exports);
  register_fused(env, exports);
  register_quant(env, exports);
  register_map_file(env, exports);
  return exports;
}

}  // namespace
}  // namespace llm2llm

NAPI_MODULE(NODE_GYP_MODULE_NAME, llm2llm::Init)
