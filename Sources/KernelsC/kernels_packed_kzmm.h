// The Q4_K, Q5_K and Q6_K tiles of kernels_packed_k.h / _q5k.h / _q6k.h on 512-bit vectors, for the
// AVX-512 build (PG_ZMM): two 8-row groups at once, group g0 in lanes 0..7 and g1 in lanes 8..15 of
// every vector (one weight row per 32-bit lane, as in the 256-bit tiles), so each lane performs the
// 256-bit tile's operations in the same order — the same bits — while every instruction covers 16
// rows and each activation dword is broadcast once for both groups. Included by kernels_packed_k.h
// after the 256-bit tiles.

// 32 bytes at `off` of each group, side by side.
INL __m512i load2_256(const uint8_t *p0, const uint8_t *p1) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)p0)),
                            _mm256_loadu_si256((const __m256i *)p1), 1);
}

// 16 bytes of each group, side by side.
INL __m256i load2_128(const uint8_t *p0, const uint8_t *p1) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)),
                                 _mm_loadu_si128((const __m128i *)p1), 1);
}

INL __m512i bcast4_zmm(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

INL void store_rows16(float *y, __m512 v, int valid_rows) {
  _mm512_mask_storeu_ps(y, valid_rows >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid_rows) - 1), v);
}

// The code vectors (q6_codes) of sub-blocks 4q..4q+3, chunk c, for a pair of groups (g0 in lanes
// 0..7, g1 in 8..15): two nibble vectors and one high-bit vector make four, about four operations each.
INL void q6_quad_zmm(const uint8_t *p0, const uint8_t *p1, int q, int c, __m512i u[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const size_t n = 144 + 256 * (size_t)q + 32 * (size_t)c, h = 1168 + 128 * (size_t)q + 32 * (size_t)c;
  const __m512i na = load2_256(p0 + n, p1 + n), nb = load2_256(p0 + n + 128, p1 + n + 128);
  const __m512i hb = load2_256(p0 + h, p1 + h);
  // 0xEA: (x & m4) | y.
  u[0] = _mm512_ternarylogic_epi32(na, m4, _mm512_slli_epi16(_mm512_and_si512(hb, _mm512_set1_epi8(0x03)), 4), 0xEA);
  u[1] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(na, 4), m4,
                                   _mm512_slli_epi16(_mm512_and_si512(hb, _mm512_set1_epi8(0x0C)), 2), 0xEA);
  u[2] = _mm512_ternarylogic_epi32(nb, m4, _mm512_and_si512(hb, _mm512_set1_epi8(0x30)), 0xEA);
  u[3] = _mm512_ternarylogic_epi32(_mm512_srli_epi16(nb, 4), m4,
                                   _mm512_srli_epi16(_mm512_and_si512(hb, _mm512_set1_epi8((char)0xC0)), 2), 0xEA);
}

// Sub-block sb's int8 scale sign-extended into each row's 32-bit lane.
INL __m512i q6_scale_zmm(const uint8_t *p0, const uint8_t *p1, int sb) {
  const __m512i pair = _mm512_cvtepi8_epi16(load2_128(p0 + 16 + 16 * (sb >> 1), p1 + 16 + 16 * (sb >> 1)));
  return (sb & 1) ? _mm512_srai_epi32(pair, 16) : _mm512_srai_epi32(_mm512_slli_epi32(pair, 16), 16);
}

// q4_k_tile and q4_k_fast (`fast`) for a pair of groups.
INL void q4_k_tile_zmm(const int T, const int pairs, const int fast, const uint8_t *g0, const uint8_t *g1, int nb,
                       const uint8_t *a, size_t a_stride, const float *da, const int32_t *aux, float *y, size_t y_stride,
                       int valid_rows, const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i low16 = _mm512_set1_epi32(0xFFFF);
  __m512 acc[PG_TILE_T], accm[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = accm[t] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q4_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q4_K_GROUP_BLOCK;
    prefetch_stream(g0, n0, b, nb, PG_Q4_K_GROUP_BLOCK, ahead);
    prefetch_stream(g1, n1, b, nb, PG_Q4_K_GROUP_BLOCK, ahead);
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    const __m512 mv = _mm512_cvtph_ps(load2_128(p0 + 16, p1 + 16));
    const uint8_t *ya[PG_TILE_T];
    __m512i sumi[PG_TILE_T], msum[PG_TILE_T];
    __m512 sd[PG_TILE_T], sm[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 292 + 4;
      sumi[t] = msum[t] = _mm512_setzero_si512();
      const __m512 dat = _mm512_set1_ps(da[t * nb + b]);
      sd[t] = _mm512_mul_ps(dv, dat);
      sm[t] = _mm512_mul_ps(mv, dat);
    }
    for (int ch = 0; ch < 4; ch++) {
      const __m512i pair = _mm512_cvtepu8_epi16(load2_128(p0 + 32 + 16 * ch, p1 + 32 + 16 * ch));
      const __m512i sc_even = _mm512_and_si512(pair, low16), sc_odd = _mm512_srli_epi32(pair, 16);
      const __m512i mins = _mm512_cvtepu8_epi16(load2_128(p0 + 96 + 16 * ch, p1 + 96 + 16 * ch));
      __m512i se[PG_TILE_T], so[PG_TILE_T];
      for (int t = 0; t < T; t++) se[t] = so[t] = _mm512_setzero_si512();
      for (int c = 0; c < 8; c++) {
        const __m512i v = load2_256(p0 + 160 + 256 * ch + 32 * c, p1 + 160 + 256 * ch + 32 * c);
        const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          se[t] = _mm512_dpbusd_epi32(se[t], lo, bcast4_zmm(ya[t] + 64 * ch + 4 * c));
          so[t] = _mm512_dpbusd_epi32(so[t], hi, bcast4_zmm(ya[t] + 64 * ch + 32 + 4 * c));
        }
      }
      for (int t = 0; t < T; t++) {
        const __m512i part = _mm512_add_epi32(_mm512_mullo_epi32(se[t], sc_even), _mm512_mullo_epi32(so[t], sc_odd));
        const __m512i mpart = _mm512_madd_epi16(mins, _mm512_set1_epi32(aux[((size_t)t * nb + b) * 4 + ch]));
        if (pairs && !fast) {
          acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(part), sd[t], acc[t]);
          accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mpart), sm[t], accm[t]);
        } else {
          sumi[t] = _mm512_add_epi32(sumi[t], part);
          msum[t] = _mm512_add_epi32(msum[t], mpart);
        }
      }
    }
    if (fast)
      for (int t = 0; t < T; t++) {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[t]), sd[t], acc[t]);
        acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[t]), sm[t], acc[t]);
      }
    else if (!pairs)
      for (int t = 0; t < T; t++) {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[t]), sd[t], acc[t]);
        accm[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(msum[t]), sm[t], accm[t]);
      }
  }
  for (int t = 0; t < T; t++) store_rows16(y + t * y_stride, fast ? acc[t] : _mm512_sub_ps(acc[t], accm[t]), valid_rows);
}

// q6_k_fast (`tiled` as there) for a pair of groups.
INL void q6_k_fast_zmm(const int T, const int tiled, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a,
                       size_t a_stride, const float *da, float *y, size_t y_stride, int valid_rows,
                       const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  __m512 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q6_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    prefetch_stream(g0, n0, b, nb, PG_Q6_K_GROUP_BLOCK, ahead);
    prefetch_stream(g1, n1, b, nb, PG_Q6_K_GROUP_BLOCK, ahead);
    const uint8_t *ab[PG_TILE_T];
    __m512i sum[PG_TILE_T], corr[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ab[t] = a + t * a_stride + (size_t)b * 292;
      sum[t] = corr[t] = _mm512_setzero_si512();
    }
    for (int i = 0; i < 8; i++) {
      const __m512i pair = _mm512_cvtepi8_epi16(load2_128(p0 + 16 + 16 * i, p1 + 16 + 16 * i));
      for (int t = 0; t < T; t++)
        corr[t] = _mm512_add_epi32(corr[t], _mm512_madd_epi16(pair, bcast4_zmm(ab[t] + 260 + 4 * i)));
    }
    for (int q = 0; q < 4; q++) {
      __m512i qs[PG_TILE_T][4];
      for (int t = 0; t < T; t++)
        for (int j = 0; j < 4; j++) qs[t][j] = _mm512_setzero_si512();
      for (int c = 0; c < 4; c++) {
        __m512i u[4];
        q6_quad_zmm(p0, p1, q, c, u);
        for (int t = 0; t < T; t++)
          for (int j = 0; j < 4; j++)
            qs[t][j] = _mm512_dpbusd_epi32(qs[t][j], u[j], bcast4_zmm(ab[t] + 4 + 16 * (4 * q + j) + 4 * c));
      }
      for (int j = 0; j < 4; j++) {
        const __m512i sc = q6_scale_zmm(p0, p1, 4 * q + j);
        for (int t = 0; t < T; t++) sum[t] = _mm512_add_epi32(sum[t], _mm512_mullo_epi32(qs[t][j], sc));
      }
    }
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    for (int t = 0; t < T; t++) {
      const __m512i sumi = _mm512_sub_epi32(sum[t], _mm512_slli_epi32(corr[t], 5));
      const __m512 dat = _mm512_set1_ps(da[t * nb + b]);
      if (tiled) acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), dv), dat, acc[t]);
      else acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_mul_ps(dv, dat), acc[t]);
    }
  }
  for (int t = 0; t < T; t++) store_rows16(y + t * y_stride, acc[t], valid_rows);
}

// The eight partial accumulators of one activation row folded as fold8 does, 16 lanes wide.
INL __m512 fold8_zmm(const __m512 *p) {
  const __m512 even = _mm512_add_ps(_mm512_add_ps(p[4], p[0]), _mm512_add_ps(p[6], p[2]));
  const __m512 odd = _mm512_add_ps(_mm512_add_ps(p[5], p[1]), _mm512_add_ps(p[7], p[3]));
  return _mm512_add_ps(even, odd);
}

// q6_k_tile (llama.cpp's vec_dot order) for a pair of groups; T ≤ 2 (8 integer and 8 float sums per
// activation row).
INL void q6_k_tile_zmm(const int T, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a, size_t a_stride,
                       const float *da, float *y, size_t y_stride, int valid_rows,
                       const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  __m512 acc[16];
  for (int j = 0; j < 8 * T; j++) acc[j] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q6_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    prefetch_stream(g0, n0, b, nb, PG_Q6_K_GROUP_BLOCK, ahead);
    prefetch_stream(g1, n1, b, nb, PG_Q6_K_GROUP_BLOCK, ahead);
    const uint8_t *ab[2];
    __m512i part[16];
    for (int t = 0; t < T; t++) ab[t] = a + t * a_stride + (size_t)b * 292;
    for (int j = 0; j < 8 * T; j++) part[j] = _mm512_setzero_si512();
    for (int q = 0; q < 4; q++) {
      // Each sub-block's scale in both int16 halves of each row's lane.
      __m512i sc16[4];
      for (int j = 0; j < 4; j++) {
        const __m512i sc = q6_scale_zmm(p0, p1, 4 * q + j);
        sc16[j] = _mm512_or_si512(_mm512_and_si512(sc, _mm512_set1_epi32(0xFFFF)), _mm512_slli_epi32(sc, 16));
      }
      for (int c = 0; c < 4; c++) {
        __m512i u[4];
        q6_quad_zmm(p0, p1, q, c, u);
        for (int j = 0; j < 4; j++)
          for (int t = 0; t < T; t++) {
            const __m512i p = _mm512_maddubs_epi16(u[j], bcast4_zmm(ab[t] + 4 + 16 * (4 * q + j) + 4 * c));
            const int k = 8 * t + 4 * (j & 1) + c;
            part[k] = _mm512_dpwssd_epi32(part[k], p, sc16[j]);
          }
      }
    }
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    for (int t = 0; t < T; t++) {
      const __m512 scale = _mm512_mul_ps(dv, _mm512_set1_ps(da[t * nb + b]));
      for (int k = 0; k < 8; k++) {
        const __m512i pair = _mm512_cvtepi8_epi16(load2_128(p0 + 16 + 16 * k, p1 + 16 + 16 * k));
        const __m512i corr = _mm512_slli_epi32(_mm512_madd_epi16(pair, bcast4_zmm(ab[t] + 260 + 4 * k)), 5);
        acc[8 * t + k] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(part[8 * t + k], corr)), acc[8 * t + k]);
      }
    }
  }
  for (int t = 0; t < T; t++) store_rows16(y + t * y_stride, fold8_zmm(acc + 8 * t), valid_rows);
}

// q5_k_tile for a pair of groups; one-row order with T ≤ 2.
INL void q5_k_tile_zmm(const int T, const int order, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a,
                       size_t a_stride, const float *da, const int32_t *aux, float *y, size_t y_stride, int valid_rows,
                       const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i low16 = _mm512_set1_epi32(0xFFFF);
  const __m512i sixteen = _mm512_set1_epi8(16);
  const int lanes = order == PG_ORDER_ONE_ROW ? 8 : 1;
  __m512 acc[8 * PG_TILE_T], accm[PG_TILE_T];
  for (int t = 0; t < T; t++) {
    accm[t] = _mm512_setzero_ps();
    for (int j = 0; j < lanes; j++) acc[8 * t + j] = _mm512_setzero_ps();
  }
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q5_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q5_K_GROUP_BLOCK;
    prefetch_stream(g0, n0, b, nb, PG_Q5_K_GROUP_BLOCK, ahead);
    prefetch_stream(g1, n1, b, nb, PG_Q5_K_GROUP_BLOCK, ahead);
    const uint8_t *ab[PG_TILE_T];
    __m512i part[8 * PG_TILE_T], msum[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ab[t] = a + t * a_stride + (size_t)b * 292;
      msum[t] = _mm512_setzero_si512();
      for (int j = 0; j < lanes; j++) part[8 * t + j] = _mm512_setzero_si512();
    }
    __m512i sc_lo[4], sc_hi[4];
    for (int ch = 0; ch < 4; ch++) {
      const __m512i pair = _mm512_cvtepu8_epi16(load2_128(p0 + 32 + 16 * ch, p1 + 32 + 16 * ch));
      sc_lo[ch] = _mm512_or_si512(_mm512_and_si512(pair, low16), _mm512_slli_epi32(pair, 16));
      sc_hi[ch] = _mm512_or_si512(_mm512_srli_epi32(pair, 16), _mm512_andnot_si512(low16, pair));
      const __m512i mins = _mm512_cvtepu8_epi16(load2_128(p0 + 96 + 16 * ch, p1 + 96 + 16 * ch));
      for (int t = 0; t < T; t++)
        msum[t] = _mm512_add_epi32(msum[t], _mm512_madd_epi16(mins, _mm512_set1_epi32(aux[((size_t)t * nb + b) * 4 + ch])));
    }
    for (int c = 0; c < 8; c++) {
      const __m512i planes = load2_256(p0 + 160 + 32 * c, p1 + 160 + 32 * c);
      for (int ch = 0; ch < 4; ch++) {
        const __m512i v = load2_256(p0 + 416 + 256 * ch + 32 * c, p1 + 416 + 256 * ch + 32 * c);
        __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(planes, _mm512_set1_epi8((char)(1 << (2 * ch)))), lo, sixteen);
        hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(planes, _mm512_set1_epi8((char)(2 << (2 * ch)))), hi, sixteen);
        for (int t = 0; t < T; t++) {
          const __m512i plo = _mm512_maddubs_epi16(lo, bcast4_zmm(ab[t] + 4 + 64 * ch + 4 * c));
          const __m512i phi = _mm512_maddubs_epi16(hi, bcast4_zmm(ab[t] + 4 + 64 * ch + 32 + 4 * c));
          const int k = 8 * t + (lanes == 8 ? c : 0);
          part[k] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(part[k], plo, sc_lo[ch]), phi, sc_hi[ch]);
        }
      }
    }
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    const __m512 mv = _mm512_cvtph_ps(load2_128(p0 + 16, p1 + 16));
    for (int t = 0; t < T; t++) {
      const __m512 dat = _mm512_set1_ps(da[t * nb + b]);
      const __m512 m = _mm512_cvtepi32_ps(msum[t]);
      if (order == PG_ORDER_ONE_ROW) {
        const __m512 sd = _mm512_mul_ps(dv, dat);
        for (int j = 0; j < 8; j++) acc[8 * t + j] = _mm512_fmadd_ps(sd, _mm512_cvtepi32_ps(part[8 * t + j]), acc[8 * t + j]);
        accm[t] = _mm512_fnmadd_ps(m, _mm512_mul_ps(mv, dat), accm[t]);
      } else if (order == PG_ORDER_BATCHED) {
        const __m512 r = _mm512_fnmadd_ps(mv, m, _mm512_mul_ps(_mm512_cvtepi32_ps(part[8 * t]), dv));
        acc[8 * t] = _mm512_fmadd_ps(r, dat, acc[8 * t]);
      } else {
        acc[8 * t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(part[8 * t]), _mm512_mul_ps(dv, dat), acc[8 * t]);
        acc[8 * t] = _mm512_fnmadd_ps(m, _mm512_mul_ps(mv, dat), acc[8 * t]);
      }
    }
  }
  for (int t = 0; t < T; t++)
    store_rows16(y + t * y_stride,
                 order == PG_ORDER_ONE_ROW ? _mm512_add_ps(fold8_zmm(acc + 8 * t), accm[t]) : acc[8 * t], valid_rows);
}

// A pair of groups against T activation rows in `order` (PG_ORDER_*), for Q4_K, Q5_K and Q6_K;
// prefetching the next pair (n0, n1) block by block when given.
INL void packed_k_tile_zmm(const int type, const int order, const int T, const uint8_t *g0, const uint8_t *g1, int nb,
                           const uint8_t *a, size_t a_stride, const float *da, const int32_t *aux, float *y,
                           size_t y_stride, int valid_rows,
                           const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  if (type == PG_Q5_K) {
    if (order != PG_ORDER_ONE_ROW || T <= 2) {
      q5_k_tile_zmm(T, order, g0, g1, nb, a, a_stride, da, aux, y, y_stride, valid_rows, n0, n1, ahead);
    } else {
      q5_k_tile_zmm(2, order, g0, g1, nb, a, a_stride, da, aux, y, y_stride, valid_rows, n0, n1, ahead);
      q5_k_tile_zmm(T - 2, order, g0, g1, nb, a + 2 * a_stride, a_stride, da + 2 * nb, aux + 2 * nb * 4, y + 2 * y_stride,
                    y_stride, valid_rows, NULL, NULL, 0);
    }
  } else if (type == PG_Q4_K) {
    q4_k_tile_zmm(T, order == PG_ORDER_BATCHED, order == PG_ORDER_FAST, g0, g1, nb, a, a_stride, da, aux, y, y_stride,
                  valid_rows, n0, n1, ahead);
  } else if (order != PG_ORDER_ONE_ROW) {
    q6_k_fast_zmm(T, order == PG_ORDER_BATCHED, g0, g1, nb, a, a_stride, da, y, y_stride, valid_rows, n0, n1, ahead);
  } else if (T <= 2) {
    q6_k_tile_zmm(T, g0, g1, nb, a, a_stride, da, y, y_stride, valid_rows, n0, n1, ahead);
  } else {
    q6_k_tile_zmm(2, g0, g1, nb, a, a_stride, da, y, y_stride, valid_rows, n0, n1, ahead);
    q6_k_tile_zmm(T - 2, g0, g1, nb, a + 2 * a_stride, a_stride, da + 2 * nb, y + 2 * y_stride, y_stride, valid_rows, NULL,
                  NULL, 0);
  }
}

#include "kernels_packed_q6k_span.h"
