// Small helpers over Node-API's C interface shared by the kernel families' bindings.
#pragma once

#include <node_api.h>

#include <cstddef>

namespace llm2llm {

// Throws a JS TypeError and returns nullptr (to be returned from the callback) when `status` failed.
#define LLM2LLM_NAPI_CALL(env, call)                                   \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error((env), nullptr, "native: N-API call failed: " #call); \
      return nullptr;                                                  \
    }                                                                  \
  } while (0)

// A Float32Array argument: its data (null for JS null/undefined when `optional`) and length.
bool float32_arg(napi_env env, napi_value value, bool optional, const char* name, float** data, size_t* length);
bool int_arg(napi_env env, napi_value value, const char* name, int* out);
bool double_arg(napi_env env, napi_value value, const char* name, double* out);
bool bool_arg(napi_env env, napi_value value, const char* name, bool* out);

void export_function(napi_env env, napi_value exports, const char* name, napi_callback fn);

}  // namespace llm2llm
