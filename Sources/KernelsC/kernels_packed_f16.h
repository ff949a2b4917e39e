// Packed F16 weights (two 4-row quads per 8-row group, see pack.c) against f32 activations. Included
// by kernels_impl.h once per instruction set (same PG_FN / PG_TARGET / PG_TILE_T macros).

// One quad (4 weight rows, `chunks` 64-byte chunks) against T activation rows: the arithmetic of
// `tile_f` (cols a multiple of 8, so no scalar tail), reading the quad as one sequential stream.
// Outputs of padding rows (r ≥ valid) are not written.
INL void packed_tile_f16(const int T, const uint8_t *quad, int chunks, const uint8_t *x, size_t x_stride, float *y,
                         size_t y_stride, int valid) {
  __m256 acc[4][PG_TILE_T];
  for (int r = 0; r < 4; r++)
    for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
  for (int i = 0; i < chunks; i++) {
    __m256 xv[PG_TILE_T];
    for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps((const float *)(x + t * x_stride) + 8 * i);
    const uint16_t *chunk = (const uint16_t *)(quad + (size_t)i * 64);
    for (int r = 0; r < 4; r++) {
      const __m256 wv = load8_f16(chunk + 8 * r);
      for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < 4 && r < valid; r++)
    for (int t = 0; t < T; t++) y[t * y_stride + r] = hsum_ps(acc[r][t]);
}

#if PG_ZMM
// packed_tile_f16 on 512-bit vectors: rows r and r + 1 of the quad share one vector (lanes 0..7 and
// 8..15), each half keeping the 8-lane chain of the 256-bit tile, so every output has the same bits;
// each FMA does two rows' work (Zen 5 runs 512-bit FMAs at the 256-bit rate).
INL void packed_tile_f16_zmm(const int T, const uint8_t *quad, int chunks, const uint8_t *x, size_t x_stride, float *y,
                             size_t y_stride, int valid, const uint8_t *next) {
  __m512 acc[2][PG_TILE_T];
  for (int p = 0; p < 2; p++)
    for (int t = 0; t < T; t++) acc[p][t] = _mm512_setzero_ps();
  for (int i = 0; i < chunks; i++) {
    const uint8_t *chunk = quad + (size_t)i * 64;
    if (next) _mm_prefetch((const char *)(next + (size_t)i * 64), _MM_HINT_T0);
    const __m512 w01 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)chunk));
    const __m512 w23 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(chunk + 32)));
    for (int t = 0; t < T; t++) {
      // Columns 8i..8i+7 of activation row t in both halves.
      const __m512 xv = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd((const double *)((const float *)(x + t * x_stride) + 8 * i))));
      acc[0][t] = _mm512_fmadd_ps(w01, xv, acc[0][t]);
      acc[1][t] = _mm512_fmadd_ps(w23, xv, acc[1][t]);
    }
  }
  for (int r = 0; r < 4 && r < valid; r++)
    for (int t = 0; t < T; t++) {
      const __m512 v = acc[r / 2][t];
      const __m256 half = r % 2 ? _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)) : _mm512_castps512_ps256(v);
      y[t * y_stride + r] = hsum_ps(half);
    }
}
#endif

// Activation rows [0, m) (m ≤ PG_TILE_T) against one quad; `next` (the following quad, or NULL) is
// prefetched on the 512-bit path, whose first tile of a quad consumes the stream too slowly for the
// hardware prefetcher alone.
INL void packed_tile_f16_rows(int m, const uint8_t *quad, int chunks, const uint8_t *x, size_t x_stride, float *y,
                              size_t y_stride, int valid, const uint8_t *next) {
#if PG_ZMM
  switch (m) {
  case 1: packed_tile_f16_zmm(1, quad, chunks, x, x_stride, y, y_stride, valid, next); break;
  case 2: packed_tile_f16_zmm(2, quad, chunks, x, x_stride, y, y_stride, valid, next); break;
  case 3: packed_tile_f16_zmm(3, quad, chunks, x, x_stride, y, y_stride, valid, next); break;
  default: packed_tile_f16_zmm(PG_TILE_T, quad, chunks, x, x_stride, y, y_stride, valid, next); break;
  }
#else
  (void)next;
  switch (m) {
  case 1: packed_tile_f16(1, quad, chunks, x, x_stride, y, y_stride, valid); break;
#if PG_TILE_T > 2
  case 2: packed_tile_f16(2, quad, chunks, x, x_stride, y, y_stride, valid); break;
  case 3: packed_tile_f16(3, quad, chunks, x, x_stride, y, y_stride, valid); break;
#endif
  default: packed_tile_f16(PG_TILE_T, quad, chunks, x, x_stride, y, y_stride, valid); break;
  }
#endif
}

INL int gemm_packed_f16(const uint8_t *packed, int rows, int g0, int g1, const uint8_t *a, size_t a_stride, int n,
                        float *y, size_t y_stride, int cols) {
  enum { T = PG_TILE_T };
  if (cols % 8 != 0) return 0;
  const int chunks = cols / 8;
  const size_t quad_bytes = (size_t)chunks * 64;
  // Activation rows per pass: they stay in L2 while the thread's quads stream past once.
  int span = (int)(262144 / (a_stride ? a_stride : 1)) / T * T;
  if (span < T) span = T;
  for (int t0 = 0; t0 < n; t0 += span) {
    const int t1 = t0 + span < n ? t0 + span : n;
    for (int q = 2 * g0; q < 2 * g1; q++) {
      const int valid = rows - 4 * q;
      if (valid <= 0) break;
      const uint8_t *quad = packed + (size_t)q * quad_bytes;
      for (int t = t0; t < t1; t += T) {
        const int m = t1 - t < T ? t1 - t : T;
        packed_tile_f16_rows(m, quad, chunks, a + (size_t)t * a_stride, a_stride, y + (size_t)t * y_stride + 4 * q,
                             y_stride, valid, t == t0 && q + 1 < 2 * g1 ? quad + quad_bytes : NULL);
      }
    }
  }
  return 1;
}
