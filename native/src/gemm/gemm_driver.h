// The blocked GEMM loops (Goto / BLIS order), shared by every instruction set.
//
// Included by gemm_avx512.cc, gemm_avx2.cc and gemm_generic.cc INSIDE an anonymous namespace, after
// each defines its micro-kernel `K`:
//   K::MR, K::NR, K::MC, K::KC, K::NC          register and cache blocks
//   K::micro(kc, a, b, c, ldc, accumulate)     C[MR x NR] (+)= packed A panel · packed B panel
// No standard-library header may be included by those files: every function they contain is compiled
// with their -m flags, and a shared inline function (std::min, ...) could otherwise be linked in its
// AVX-512 form into code that runs on a CPU without it.

inline int min_int(int x, int y) { return x < y ? x : y; }

#if defined(__SSE__)
// dst[p * MR + i] = src[i * rsa + p] for a 4 x 4 block, through one in-register transpose.
inline void transpose_4x4(const float* src, ptrdiff_t rsa, float* dst, int mr) {
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + rsa);
  __m128 r2 = _mm_loadu_ps(src + 2 * rsa), r3 = _mm_loadu_ps(src + 3 * rsa);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + mr, r1);
  _mm_storeu_ps(dst + 2 * mr, r2);
  _mm_storeu_ps(dst + 3 * mr, r3);
}
#endif

// Packs rows [0, mc) x depth [0, kc) of A into panels of MR rows: panel r holds, for each p, the MR
// values A(r*MR + i, p) side by side ([kc][MR]); rows past mc are zero, so the micro-kernel never
// needs a row count.
template <class K>
void pack_a(const float* a, ptrdiff_t rsa, ptrdiff_t csa, int mc, int kc, float* dst) {
  constexpr int MR = K::MR;
  for (int ir = 0; ir < mc; ir += MR, dst += kc * MR) {
    const int mr = min_int(MR, mc - ir);
    const float* src = a + ir * rsa;
    if (mr == MR && rsa == 1) {
      // A transposed in memory: each p is MR contiguous floats.
      for (int p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[p * csa + i];
    } else if (mr == MR && csa == 1) {
      // A row-major: a transpose. 4 x 4 blocks in registers where SSE exists, the rest one by one.
      int p = 0;
#if defined(__SSE__)
      if (MR % 4 == 0) {
        for (; p + 4 <= kc; p += 4)
          for (int i = 0; i < MR; i += 4) transpose_4x4(src + i * rsa + p, rsa, dst + p * MR + i, MR);
      }
#endif
      for (int i = 0; i < MR; ++i)
        for (int q = p; q < kc; ++q) dst[q * MR + i] = src[i * rsa + q];
    } else {
      for (int p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) dst[p * MR + i] = i < mr ? src[i * rsa + p * csa] : 0.0f;
    }
  }
}

// Packs depth [0, kc) x columns [0, nc) of B into panels of NR columns ([kc][NR] each), zero-padded.
template <class K>
void pack_b(const float* b, ptrdiff_t rsb, ptrdiff_t csb, int kc, int nc, float* dst) {
  constexpr int NR = K::NR;
  const int full = nc / NR * NR;
  if (csb == 1) {
    // B row-major: walk each row of B once, front to back (the hardware prefetcher follows), and
    // deal its NR-wide pieces out to the panels.
    for (int p = 0; p < kc; ++p) {
      const float* row = b + p * rsb;
      for (int jr = 0; jr < full; jr += NR)
        for (int j = 0; j < NR; ++j) dst[jr * kc + p * NR + j] = row[jr + j];
    }
  } else {
    for (int jr = 0; jr < full; jr += NR) {
      // B transposed in memory (x·Wᵀ, the usual linear layer): each column of B is a row of it, read with
      // unit stride; 4 x 4 blocks transposed in registers where SSE exists.
      int p = 0;
#if defined(__SSE__)
      if (rsb == 1 && NR % 4 == 0) {
        for (; p + 4 <= kc; p += 4)
          for (int j = 0; j < NR; j += 4) transpose_4x4(b + (jr + j) * csb + p, csb, dst + jr * kc + p * NR + j, NR);
      }
#endif
      for (int j = 0; j < NR; ++j)
        for (int q = p; q < kc; ++q) dst[jr * kc + q * NR + j] = b[(jr + j) * csb + q * rsb];
    }
  }
  if (full < nc) {
    float* panel = dst + full * kc;
    const int nr = nc - full;
    for (int p = 0; p < kc; ++p)
      for (int j = 0; j < NR; ++j) panel[p * NR + j] = j < nr ? b[p * rsb + (full + j) * csb] : 0.0f;
  }
}

// Packs depth [pc, pc + kc) x columns [jc, jc + nc) of a quantized B into pack_b's layout with the same values
// pack_b would copy from the dequantized matrix. Each W row segment is decoded into a small buffer first:
//  - transposed (B(p, j) = W[j, p]): the NR rows of W behind one panel, decoded side by side, then pack_b's
//    transposed path does the rest (its zero padding included);
//  - not transposed (B(p, j) = W[p, j]): one row of W per depth step, dealt out to the panels as pack_b's
//    row-major path does.
template <class K>
void pack_b_quantized(const llm2llm::QuantizedB& q, int pc, int jc, int kc, int nc, float* dst) {
  constexpr int NR = K::NR;
  constexpr int kRowsFloats = NR * K::KC > K::NC ? NR * K::KC : K::NC;
  alignas(64) float rows[kRowsFloats];
  if (q.transposed) {
    for (int jr = 0; jr < nc; jr += NR) {
      const int nr = min_int(NR, nc - jr);
      const uint8_t* w = q.data + static_cast<size_t>(q.j0 + jc + jr) * q.row_bytes;
      for (int j = 0; j < nr; ++j) llm2llm::dequantize_range(q.type, w + j * q.row_bytes, q.p0 + pc, kc, rows + j * kc);
      pack_b<K>(rows, 1, kc, kc, nr, dst + jr * kc);
    }
    return;
  }
  const int full = nc / NR * NR;
  for (int p = 0; p < kc; ++p) {
    llm2llm::dequantize_range(q.type, q.data + static_cast<size_t>(q.p0 + pc + p) * q.row_bytes, q.j0 + jc, nc, rows);
    for (int jr = 0; jr < full; jr += NR)
      for (int j = 0; j < NR; ++j) dst[jr * kc + p * NR + j] = rows[jr + j];
    if (full < nc)
      for (int j = 0; j < NR; ++j) dst[full * kc + p * NR + j] = j < nc - full ? rows[full + j] : 0.0f;
  }
}

// C[mc x nc] (+)= packed A block · packed B block. Partial tiles at the right and bottom edges go
// through a small buffer, so the micro-kernel always works on a full MR x NR tile.
template <class K>
void macro_kernel(const float* pa, const float* pb, float* c, ptrdiff_t ldc, int mc, int nc, int kc, bool accumulate) {
  constexpr int MR = K::MR, NR = K::NR;
  alignas(64) float edge[MR * NR];
  for (int jr = 0; jr < nc; jr += NR) {
    const int nr = min_int(NR, nc - jr);
    for (int ir = 0; ir < mc; ir += MR) {
      const int mr = min_int(MR, mc - ir);
      const float* a = pa + ir * kc;
      const float* b = pb + jr * kc;
      float* cc = c + ir * ldc + jr;
      if (mr == MR && nr == NR) {
        K::micro(kc, a, b, cc, ldc, accumulate);
      } else {
        K::micro(kc, a, b, edge, NR, false);
        // Same arithmetic as the full-tile path (store, or C + tile), so results do not depend on
        // where a task's slice boundaries fall.
        for (int i = 0; i < mr; ++i)
          for (int j = 0; j < nr; ++j) cc[i * ldc + j] = accumulate ? edge[i * NR + j] + cc[i * ldc + j] : edge[i * NR + j];
      }
    }
  }
}

// One GemmBlock: loop over depth blocks (KC) and, within each, over groups of rows and column blocks (NC, B
// packed once per group); the first depth block writes C (adds to it when g.accumulate), the later ones
// accumulate into it, so each element sums its depth blocks in order whatever the grouping.
// C at most one column block wide (the usual slice of a threaded product): every row is one group, and each
// MC x KC block of A is packed just before its use, while it is warm. Wider: groups of packed_a_group_rows() rows
// are packed once per depth block and serve every column block (repacking A per column block took 12% of a
// single-threaded n = 2048 product); B is then packed once per group.
template <class K>
void run_block(const llm2llm::GemmBlock& g) {
  const bool one_column_block = g.n <= K::NC;
  const int group = one_column_block ? g.m : llm2llm::packed_a_group_rows(g.m, K::MC, K::KC);
  for (int pc = 0; pc < g.k; pc += K::KC) {
    const int kc = min_int(K::KC, g.k - pc);
    const bool accumulate = pc > 0 || g.accumulate;
    for (int i0 = 0; i0 < g.m; i0 += group) {
      const int rows = min_int(group, g.m - i0);
      const float* a = g.a + i0 * g.rsa + pc * g.csa;
      if (!one_column_block)
        for (int ic = 0; ic < rows; ic += K::MC) pack_a<K>(a + ic * g.rsa, g.rsa, g.csa, min_int(K::MC, rows - ic), kc, g.pack_a + ic * kc);
      for (int jc = 0; jc < g.n; jc += K::NC) {
        const int nc = min_int(K::NC, g.n - jc);
        if (g.quantized_b != nullptr) pack_b_quantized<K>(*g.quantized_b, pc, jc, kc, nc, g.pack_b);
        else pack_b<K>(g.b + pc * g.rsb + jc * g.csb, g.rsb, g.csb, kc, nc, g.pack_b);
        for (int ic = 0; ic < rows; ic += K::MC) {
          const int mc = min_int(K::MC, rows - ic);
          if (one_column_block) pack_a<K>(a + ic * g.rsa, g.rsa, g.csa, mc, kc, g.pack_a);
          const float* pa = one_column_block ? g.pack_a : g.pack_a + ic * kc;
          macro_kernel<K>(pa, g.pack_b, g.c + (i0 + ic) * g.ldc + jc, g.ldc, mc, nc, kc, accumulate);
        }
      }
    }
  }
}
