// Q6_K in the batched and fast orders for a pair of groups against a whole span of activation rows,
// super-block by super-block: each super-block's codes are unpacked once (q6_quad_zmm) into a 4 KB
// buffer that every row of the span then reads, where q6_k_fast_zmm unpacks them again for every
// tile of PG_TILE_T rows. Each row's float sum lives in `acc` between super-blocks; the integer sums
// and the float steps are q6_k_fast_zmm's, so the bits are the same. Included by kernels_packed_kzmm.h.

enum { PG_Q6_SPAN = 64 };  // rows per call: their sums (4 KB) stay in L1 beside the codes

// Rows [0, T) of the span (T ≤ 4) for super-block b: codes[16q + 4c + j] are sub-block 4q + j's
// chunk c, sc[sb] its scales, pairs[i] the scale pairs for the −32 offset (q6_k_fast).
INL void q6_k_span_tile(const int T, const int tiled, const __m512i *codes, const __m512i *sc, const __m512i *pairs,
                        __m512 dv, const uint8_t *ab, size_t a_stride, const float *da, int nb, float *acc) {
  __m512i sum[PG_TILE_T], corr[PG_TILE_T];
  for (int t = 0; t < T; t++) sum[t] = corr[t] = _mm512_setzero_si512();
  for (int i = 0; i < 8; i++)
    for (int t = 0; t < T; t++)
      corr[t] = _mm512_dpwssd_epi32(corr[t], pairs[i], bcast4_zmm(ab + t * a_stride + 260 + 4 * i));
  for (int q = 0; q < 4; q++) {
    __m512i qs[PG_TILE_T][4];
    for (int t = 0; t < T; t++)
      for (int j = 0; j < 4; j++) qs[t][j] = _mm512_setzero_si512();
    for (int c = 0; c < 4; c++)
      for (int j = 0; j < 4; j++) {
        const __m512i u = codes[16 * q + 4 * c + j];
        for (int t = 0; t < T; t++)
          qs[t][j] = _mm512_dpbusd_epi32(qs[t][j], u, bcast4_zmm(ab + t * a_stride + 4 + 16 * (4 * q + j) + 4 * c));
      }
    for (int j = 0; j < 4; j++)
      for (int t = 0; t < T; t++) sum[t] = _mm512_add_epi32(sum[t], _mm512_mullo_epi32(qs[t][j], sc[4 * q + j]));
  }
  for (int t = 0; t < T; t++) {
    const __m512i sumi = _mm512_sub_epi32(sum[t], _mm512_slli_epi32(corr[t], 5));
    const __m512 dat = _mm512_set1_ps(da[t * nb]);
    const __m512 a = _mm512_loadu_ps(acc + 16 * t);
    _mm512_storeu_ps(acc + 16 * t, tiled ? _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), dv), dat, a)
                                         : _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_mul_ps(dv, dat), a));
  }
}

// m ≤ PG_Q6_SPAN activation rows against a pair of groups; `tiled` as in q6_k_fast.
INL void q6_k_span_zmm(const int tiled, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a, size_t a_stride,
                       int m, const float *da, float *y, size_t y_stride, int valid_rows) {
  float acc[PG_Q6_SPAN * 16];
  __m512i codes[64], sc[16], pairs[8];
  for (int i = 0; i < 16 * m; i++) acc[i] = 0.0f;
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q6_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    for (int q = 0; q < 4; q++)
      for (int c = 0; c < 4; c++) q6_quad_zmm(p0, p1, q, c, codes + 16 * q + 4 * c);
    for (int sb = 0; sb < 16; sb++) sc[sb] = q6_scale_zmm(p0, p1, sb);
    for (int i = 0; i < 8; i++) pairs[i] = _mm512_cvtepi8_epi16(load2_128(p0 + 16 + 16 * i, p1 + 16 + 16 * i));
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    const uint8_t *ab = a + (size_t)b * 292;
    // Tiles of PG_TILE_T rows, then the rest in one tile whose size is a compile-time constant.
    for (int t = 0; t < m; t += PG_TILE_T) {
      const uint8_t *at = ab + t * a_stride;
#define PG_Q6_SPAN_TILE(n) q6_k_span_tile(n, tiled, codes, sc, pairs, dv, at, a_stride, da + t * nb + b, nb, acc + 16 * t)
      switch (m - t < PG_TILE_T ? m - t : PG_TILE_T) {
      case 1: PG_Q6_SPAN_TILE(1); break;
      case 2: PG_Q6_SPAN_TILE(2); break;
      case 3: PG_Q6_SPAN_TILE(3); break;
      default: PG_Q6_SPAN_TILE(PG_TILE_T); break;
      }
#undef PG_Q6_SPAN_TILE
    }
  }
  for (int t = 0; t < m; t++) store_rows16(y + t * y_stride, _mm512_loadu_ps(acc + 16 * t), valid_rows);
}
