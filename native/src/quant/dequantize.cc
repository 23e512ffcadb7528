// ggml block decoders: each follows llama.cpp's dequantize_row_* (ggml-quants.c) operation for operation, in
// float arithmetic without contraction (binding.gyp: -ffp-contract=off), so a*b - c rounds twice as in C there.
// The loops are plain enough for the compiler to vectorise (pointers __restrict: uint8_t may alias float). Signed
// quants are formed as unsigned bytes and offset in float, float(u) - 32.0f: exact for these small integers, so the
// same value as llama.cpp's (float)(u - 32), and unsigned bytes widen to float in a few SSE2 instructions where
// signed ones do not. Loops of 16 carry `#pragma GCC unroll 1`: GCC otherwise unrolls them completely before
// the loop vectoriser sees them (measured: Q6_K ~15 instructions per value unrolled, ~2 as a vector loop).
#include "dequantize.h"

#include <string.h>

namespace llm2llm {

namespace {

constexpr int QK = 32;     // values per block of the 32-blocks (Q4_0 ... Q8_0, IQ4_NL)
constexpr int QK_K = 256;  // values per block of the K-quants and IQ4_XS

inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

inline float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// ggml's portable fp16 -> fp32 (ggml-impl.h): exact for normals, subnormals and infinities; NaNs keep sign and
// payload and come out quiet, as with the F16C instruction.
inline float half_to_float(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const float normalized = float_of((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = float_of((two_w >> 17) | (126u << 23)) - 0.5f;
  return float_of(sign | (two_w < (1u << 27) ? bits_of(denormalized) : bits_of(normalized)));
}

inline uint16_t u16_at(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline float half_at(const uint8_t* p) { return half_to_float(u16_at(p)); }

// ggml-common.h kvalues_iq4nl.
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Plain float types: `count` values.
void decode_f32(const uint8_t* __restrict x, int count, float* __restrict y) { memcpy(y, x, static_cast<size_t>(count) * 4); }

void decode_f16(const uint8_t* __restrict x, int count, float* __restrict y) {
  for (int i = 0; i < count; ++i) y[i] = half_to_float(u16_at(x + 2 * i));
}

void decode_bf16(const uint8_t* __restrict x, int count, float* __restrict y) {
  for (int i = 0; i < count; ++i) y[i] = float_of(static_cast<uint32_t>(u16_at(x + 2 * i)) << 16);
}

// Block types: `blocks` whole blocks.
void decode_q4_0(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 18, y += QK) {
    const float d = half_at(x);
    const uint8_t* qs = x + 2;
    #pragma GCC unroll 1
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = (static_cast<float>(qs[j] & 0x0F) - 8.0f) * d;
      y[j + QK / 2] = (static_cast<float>(qs[j] >> 4) - 8.0f) * d;
    }
  }
}

void decode_q4_1(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 20, y += QK) {
    const float d = half_at(x), m = half_at(x + 2);
    const uint8_t* qs = x + 4;
    #pragma GCC unroll 1
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = (qs[j] & 0x0F) * d + m;
      y[j + QK / 2] = (qs[j] >> 4) * d + m;
    }
  }
}

// Bit i of a byte spread to byte i of a little-endian uint64 as 0 or 16 (the fifth bit of a Q5 quant).
struct SpreadBits {
  uint64_t of[256];
  constexpr SpreadBits() : of() {
    for (int b = 0; b < 256; ++b)
      for (int i = 0; i < 8; ++i) of[b] |= static_cast<uint64_t>(((b >> i) & 1) << 4) << (8 * i);
  }
};
constexpr SpreadBits kSpreadBits;

// The 32 fifth bits of a Q5 block (bit j of qh for value j), each as 0 or 16.
inline void q5_high_bits(const uint8_t* qh, uint8_t* high) {
  for (int i = 0; i < 4; ++i) memcpy(high + 8 * i, &kSpreadBits.of[qh[i]], 8);
}

void decode_q5_0(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 22, y += QK) {
    const float d = half_at(x);
    uint8_t high[QK];
    q5_high_bits(x + 2, high);
    const uint8_t* qs = x + 6;
    #pragma GCC unroll 1
    for (int j = 0; j < QK / 2; ++j) {
      const uint8_t x0 = (qs[j] & 0x0F) | high[j];
      const uint8_t x1 = (qs[j] >> 4) | high[j + QK / 2];
      y[j] = (static_cast<float>(x0) - 16.0f) * d;
      y[j + QK / 2] = (static_cast<float>(x1) - 16.0f) * d;
    }
  }
}

void decode_q5_1(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 24, y += QK) {
    const float d = half_at(x), m = half_at(x + 2);
    uint8_t high[QK];
    q5_high_bits(x + 4, high);
    const uint8_t* qs = x + 8;
    #pragma GCC unroll 1
    for (int j = 0; j < QK / 2; ++j) {
      const uint8_t x0 = (qs[j] & 0x0F) | high[j];
      const uint8_t x1 = (qs[j] >> 4) | high[j + QK / 2];
      y[j] = x0 * d + m;
      y[j + QK / 2] = x1 * d + m;
    }
  }
}

void decode_q8_0(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 34, y += QK) {
    const float d = half_at(x);
    const int8_t* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < QK; ++j) y[j] = qs[j] * d;
  }
}

void decode_iq4_nl(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 18, y += QK) {
    // d * kvalues[q] for the 16 possible q, then looked up: the same products, computed once per block.
    const float d = half_at(x);
    float v[16];
    for (int i = 0; i < 16; ++i) v[i] = d * kIq4nlValues[i];
    const uint8_t* qs = x + 2;
    #pragma GCC unroll 1
    for (int j = 0; j < QK / 2; ++j) {
      y[j] = v[qs[j] & 0xf];
      y[j + QK / 2] = v[qs[j] >> 4];
    }
  }
}

void decode_q2_K(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 84) {
    const uint8_t* scales = x;
    const uint8_t* q = x + 16;
    const float d = half_at(x + 80), min = half_at(x + 82);
    int is = 0;
    for (int n = 0; n < QK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half, y += 16) {
          const uint8_t sc = scales[is++];
          const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
          uint8_t qi[16];
          #pragma GCC unroll 1
          for (int l = 0; l < 16; ++l) qi[l] = (q[l + 16 * half] >> shift) & 3;
          #pragma GCC unroll 1
          for (int l = 0; l < 16; ++l) y[l] = dl * static_cast<float>(qi[l]) - ml;
        }
      }
    }
  }
}

void decode_q3_K(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 110) {
    const uint8_t* hm = x;
    const uint8_t* q = x + 32;
    const uint8_t* s = x + 96;
    const float d_all = half_at(x + 108);
    // The sixteen 6-bit scales: low 4 bits from bytes 0-7, high 2 bits from bytes 8-11 (llama.cpp's kmask unpacking).
    int8_t scales[16];
    #pragma GCC unroll 1
    for (int j = 0; j < 16; ++j) {
      const int low = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
      const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
      scales[j] = static_cast<int8_t>(low | (high << 4));
    }
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < QK_K; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int half = 0; half < 2; ++half, y += 16) {
          const float dl = d_all * (scales[is++] - 32);
          // llama.cpp's low - (high bit ? 0 : 4) as (low + (high bit ? 4 : 0)) - 4.
          uint8_t qi[16];
          #pragma GCC unroll 1
          for (int l = 0; l < 16; ++l) qi[l] = ((q[l + 16 * half] >> shift) & 3) + ((hm[l + 16 * half] & m) ? 4 : 0);
          #pragma GCC unroll 1
          for (int l = 0; l < 16; ++l) y[l] = dl * (static_cast<float>(qi[l]) - 4.0f);
        }
      }
    }
  }
}

// get_scale_min_k4: the 6-bit scale and min of group j from Q4_K / Q5_K's 12 packed bytes.
inline void scale_min_k4(int j, const uint8_t* q, int* d, int* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

void decode_q4_K(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 144) {
    const float d = half_at(x), min = half_at(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    for (int g = 0; g < 8; g += 2, q += 32, y += 64) {
      int sc, m;
      scale_min_k4(g, scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      scale_min_k4(g + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) y[l] = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) y[l + 32] = d2 * (q[l] >> 4) - m2;
    }
  }
}

void decode_q5_K(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 176) {
    const float d = half_at(x), min = half_at(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    uint8_t u1 = 1, u2 = 2;
    for (int g = 0; g < 8; g += 2, ql += 32, y += 64, u1 <<= 2, u2 <<= 2) {
      int sc, m;
      scale_min_k4(g, scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      scale_min_k4(g + 1, scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) y[l] = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) y[l + 32] = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
  }
}

void decode_q6_K(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = half_at(x + 208);
    for (int n = 0; n < QK_K; n += 128, ql += 64, qh += 32, sc += 8, y += 128) {
      // llama.cpp's y = d * sc[is] * q is (d * sc[is]) * q: the scale products hoisted, the same values.
      // The 6-bit quants first (byte arithmetic), then one product per value in runs of 16 that share a scale.
      uint8_t qi[128];  // the unsigned 6-bit quants; the value is ds * (q - 32)
      for (int l = 0; l < 32; ++l) qi[l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
      for (int l = 0; l < 32; ++l) qi[l + 32] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
      for (int l = 0; l < 32; ++l) qi[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
      for (int l = 0; l < 32; ++l) qi[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
      // Value 16g + i has scale sc[g]: llama.cpp's is = l / 16 plus 0, 2, 4, 6 for the four 32-value quarters.
      for (int g = 0; g < 8; ++g) {
        const float ds = d * sc[g];
#pragma GCC unroll 1
        for (int i = 0; i < 16; ++i) y[16 * g + i] = ds * (static_cast<float>(qi[16 * g + i]) - 32.0f);
      }
    }
  }
}

void decode_iq4_xs(const uint8_t* __restrict x, int blocks, float* __restrict y) {
  for (int b = 0; b < blocks; ++b, x += 136) {
    const float d = half_at(x);
    const uint16_t scales_h = u16_at(x + 2);
    const uint8_t* scales_l = x + 4;
    const uint8_t* qs = x + 8;
    for (int ib = 0; ib < QK_K / 32; ++ib, qs += 16, y += 32) {
      const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      float v[16];  // dl * kvalues[q] per q, as for IQ4_NL
      for (int i = 0; i < 16; ++i) v[i] = dl * kIq4nlValues[i];
      #pragma GCC unroll 1
      for (int j = 0; j < 16; ++j) {
        y[j] = v[qs[j] & 0xf];
        y[j + 16] = v[qs[j] >> 4];
      }
    }
  }
}

struct TypeTraits {
  int type;
  const char* name;
  int block;  // values per block
  int bytes;  // bytes per block
  // `units` values (block 1) or `units` whole blocks.
  void (*decode)(const uint8_t* __restrict x, int units, float* __restrict y);
};

constexpr TypeTraits kTypes[] = {
    {kGgmlF32, "F32", 1, 4, decode_f32},
    {kGgmlF16, "F16", 1, 2, decode_f16},
    {kGgmlBF16, "BF16", 1, 2, decode_bf16},
    {kGgmlQ4_0, "Q4_0", QK, 18, decode_q4_0},
    {kGgmlQ4_1, "Q4_1", QK, 20, decode_q4_1},
    {kGgmlQ5_0, "Q5_0", QK, 22, decode_q5_0},
    {kGgmlQ5_1, "Q5_1", QK, 24, decode_q5_1},
    {kGgmlQ8_0, "Q8_0", QK, 34, decode_q8_0},
    {kGgmlIQ4_NL, "IQ4_NL", QK, 18, decode_iq4_nl},
    {kGgmlQ2_K, "Q2_K", QK_K, 84, decode_q2_K},
    {kGgmlQ3_K, "Q3_K", QK_K, 110, decode_q3_K},
    {kGgmlQ4_K, "Q4_K", QK_K, 144, decode_q4_K},
    {kGgmlQ5_K, "Q5_K", QK_K, 176, decode_q5_K},
    {kGgmlQ6_K, "Q6_K", QK_K, 210, decode_q6_K},
    {kGgmlIQ4_XS, "IQ4_XS", QK_K, 136, decode_iq4_xs},
};

const TypeTraits* traits_of(int type) {
  for (const TypeTraits& t : kTypes)
    if (t.type == type) return &t;
  return nullptr;
}

}  // namespace

bool quant_type_supported(int type) { return traits_of(type) != nullptr; }

const char* quant_type_name(int type) {
  const TypeTraits* t = traits_of(type);
  return t != nullptr ? t->name : nullptr;
}

int quant_block_size(int type) {
  const TypeTraits* t = traits_of(type);
  return t != nullptr ? t->block : 0;
}

size_t row_bytes(int type, int cols) {
  const TypeTraits* t = traits_of(type);
  if (t == nullptr || cols < 0 || cols % t->block != 0) return 0;
  return static_cast<size_t>(cols / t->block) * t->bytes;
}

int quant_supported_types(int* types) {
  int n = 0;
  for (const TypeTraits& t : kTypes) types[n++] = t.type;
  return n;
}

void dequantize_range(int type, const uint8_t* row, int first, int count, float* out) {
  const TypeTraits& t = *traits_of(type);
  if (count <= 0) return;
  if (t.block == 1) return t.decode(row + static_cast<size_t>(first) * t.bytes, count, out);
  float edge[QK_K];
  int block = first / t.block;
  const int offset = first % t.block;
  if (offset != 0) {
    // The range starts inside a block: decode it whole, keep its tail.
    t.decode(row + static_cast<size_t>(block) * t.bytes, 1, edge);
    const int n = count < t.block - offset ? count : t.block - offset;
    memcpy(out, edge + offset, static_cast<size_t>(n) * 4);
    out += n;
    count -= n;
    ++block;
  }
  const int whole = count / t.block;
  if (whole > 0) t.decode(row + static_cast<size_t>(block) * t.bytes, whole, out);
  out += whole * t.block;
  count -= whole * t.block;
  block += whole;
  if (count > 0) {
    t.decode(row + static_cast<size_t>(block) * t.bytes, 1, edge);
    memcpy(out, edge, static_cast<size_t>(count) * 4);
  }
}

}  // namespace llm2llm
