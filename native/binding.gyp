# node-gyp build of the llm2llm native addon (see native/README.md).
# One static library per instruction set, so each translation unit gets its own -m flags and the
# addon picks a GEMM micro-kernel at run time from the CPU's features (__builtin_cpu_supports).
# -fno-trapping-math / -fno-math-errno change no result; they let the fused kernels' loops (exp,
# clamps, sqrt) vectorise.
{
  "target_defaults": {
    "cflags_cc": ["-O3", "-std=c++17", "-fPIC", "-fno-exceptions", "-fno-trapping-math", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags_cc!": ["-fno-rtti"],
    "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"], "GCC_ENABLE_CPP_EXCEPTIONS": "NO" },
  },
  "conditions": [
    ['target_arch=="x64"', {
      "targets": [
        {
          "target_name": "gemm_avx512",
          "type": "static_library",
          "sources": ["src/gemm/gemm_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mfma"] },
        },
        {
          "target_name": "fused_avx512",
          "type": "static_library",
          "sources": ["src/fused/fused_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512dq", "-mfma"] },
        },
        {
          "target_name": "fused_avx2",
          "type": "static_library",
          "sources": ["src/fused/fused_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] },
        },
        {
          "target_name": "gemm_avx2",
          "type": "static_library",
          "sources": ["src/gemm/gemm_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"] },
        },
        {
          # ggml block decoders: no FMA contraction, so every a*b - c rounds twice as in llama.cpp's
          # dequantize_row_* (and as the TypeScript decoders compute it).
          "target_name": "quant",
          "type": "static_library",
          "sources": ["src/quant/dequantize.cc"],
          "cflags_cc": ["-ffp-contract=off"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"] },
        },
        {
          "target_name": "llm2llm_native",
          "dependencies": ["gemm_avx512", "gemm_avx2", "fused_avx512", "fused_avx2", "quant"],
          "defines": ["LLM2LLM_X86_KERNELS=1"],
          "sources": [
            "src/addon.cc", "src/thread_pool.cc",
            "src/gemm/gemm.cc", "src/gemm/gemm_generic.cc", "src/gemm/epilogue.cc", "src/gemm/matmul_napi.cc",
            "src/fused/fused.cc", "src/fused/fused_generic.cc", "src/fused/fused_napi.cc",
            "src/gemm/gemm_quant.cc", "src/quant/quant_napi.cc", "src/quant/map_file_napi.cc",
          ],
          "libraries": ["-lpthread"],
        },
      ],
    }, {
      "targets": [
        {
          # ggml block decoders: no FMA contraction, so every a*b - c rounds twice as in llama.cpp's
          # dequantize_row_* (and as the TypeScript decoders compute it).
          "target_name": "quant",
          "type": "static_library",
          "sources": ["src/quant/dequantize.cc"],
          "cflags_cc": ["-ffp-contract=off"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"] },
        },
        {
          "target_name": "llm2llm_native",
          "dependencies": ["quant"],
          "sources": [
            "src/addon.cc", "src/thread_pool.cc",
            "src/gemm/gemm.cc", "src/gemm/gemm_generic.cc", "src/gemm/epilogue.cc", "src/gemm/matmul_napi.cc",
            "src/fused/fused.cc", "src/fused/fused_generic.cc", "src/fused/fused_napi.cc",
            "src/gemm/gemm_quant.cc", "src/quant/quant_napi.cc", "src/quant/map_file_napi.cc",
          ],
          "libraries": ["-lpthread"],
        },
      ],
    }],
  ],
}
