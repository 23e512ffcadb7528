// Products with a ggml-quantized weight as B, for LoRA training on a GGUF's own encoding (no float32 copy of
// the base weights): the GEMM packs its B panels straight from the quantized blocks.
#pragma once

#include "gemm.h"

namespace llm2llm {

// A ggml weight W: `rows` rows of `cols` values (ne0 = cols), each `row_bytes` bytes (row_bytes(type, cols)).
struct QuantizedMatrix {
  const uint8_t* data;
  int type;
  int rows, cols;
  size_t row_bytes;
};

// transpose_w: C[m, w.rows] (=, +=) A[m, w.cols] · Wᵀ   (a linear layer's forward)
// otherwise:   C[m, w.cols] (=, +=) A[m, w.rows] · W    (its input gradient)
// then + bias[n] when bias is set (n = C's width). Bit for bit batch_matmul on the dequantized W (with the same
// bias, or accumulate): always the packed kernel, whose bits every float path reproduces.
struct QuantizedMatMul {
  const float* a;
  QuantizedMatrix w;
  float* c;
  int m;
  bool transpose_w;
  bool accumulate;
  const float* bias;  // nullptr, or n values; not with accumulate
};

// Runs on the process-wide thread pool.
void quantized_matmul(const QuantizedMatMul& problem);

}  // namespace llm2llm
