// Packed Q4_0 and IQ4_NL × Q8_0: 4-bit codes with one f16 scale per 32-element block, laid out as
// packed Q4_1 without the minimums (pack.c). Included by kernels_impl.h once per instruction set
// (same PG_FN / PG_TARGET / PG_VNNI / PG_ZMM / PG_TILE_T macros).
//
// One float order serves both numerics: llama.cpp repacks both types on x86 (Q4_0x8, IQ4_NLx8) and
// its repacked gemv and gemm alike take each block's whole integer dot, `acc = fma(float(Σ), d_w·d_a,
// acc)` per block and row, which is also the cheapest order (one multiply-add per block). Twin:
// `vecDotLaneOrder` (`laneDotBlocks`).
//
// Codes are made unsigned for the u8 × s8 instructions and the offset taken back out in integers
// from the activation block's code sum: Q4_0's nibble u stands for u − 8; IQ4_NL's nibble for the
// table value v (−127…113), read as v + 128 through a byte shuffle (with VNNI), or, without VNNI
// (whose maddubs would saturate on 241 × 127 pairs), as |v| against the activation signed by v.

// IQ4_NL's non-linear code values (ggml's kvalues_iq4nl).
static const int8_t pg_iq4nl_values[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// The code offset taken back out per block: Σ(u − K)·y = Σu·y − K·Σy.
INL int q4_offset(const int type) {
  if (type == PG_Q4_0) return 8;
  return PG_VNNI ? 128 : 0;
}

// The byte table a shuffle maps IQ4_NL nibbles through, in both 128-bit halves.
INL __m256i iq4nl_table(void) {
  int8_t t[16];
  for (int i = 0; i < 16; i++) t[i] = (int8_t)(PG_VNNI ? pg_iq4nl_values[i] + 128 : pg_iq4nl_values[i]);
  const __m128i v = _mm_loadu_si128((const __m128i *)t);
  return _mm256_set_m128i(v, v);
}

// 8 weight rows (one per lane) × T activation rows. corr[t*nb + b] = K·Σ codes of activation row t's
// block b; da the blocks' scales.
INL void q4_tile(const int type, const int T, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride,
                 const float *da, const int32_t *corr, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i table = iq4nl_table();
  __m256 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q4_0_GROUP_BLOCK;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const uint8_t *ya[PG_TILE_T];
    __m256i s[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 34 + 2;
      s[t] = _mm256_set1_epi32(-corr[t * nb + b]);
    }
#if PG_VNNI
    for (int c = 0; c < 4; c++) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 16 + 32 * c));
      __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
      if (type == PG_IQ4_NL) {
        lo = _mm256_shuffle_epi8(table, lo);
        hi = _mm256_shuffle_epi8(table, hi);
      }
      for (int t = 0; t < T; t++) {
        s[t] = _mm256_dpbusd_epi32(s[t], lo, bcast4(ya[t] + 4 * c));
        s[t] = _mm256_dpbusd_epi32(s[t], hi, bcast4(ya[t] + 16 + 4 * c));
      }
    }
#else
    if (type == PG_Q4_0) {
      // Nibble × int8 pair sums stay within 2·15·127, so all 16 of a row's pairs fit one int16 lane.
      __m256i p[PG_TILE_T];
      for (int t = 0; t < T; t++) p[t] = _mm256_setzero_si256();
      for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 16 + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(lo, bcast4(ya[t] + 4 * c)));
          p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(hi, bcast4(ya[t] + 16 + 4 * c)));
        }
      }
      for (int t = 0; t < T; t++) s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(p[t], _mm256_set1_epi16(1)));
    } else {
      for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 16 + 32 * c));
        const __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(v, m4));
        const __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
        const __m256i alo = _mm256_sign_epi8(lo, lo), ahi = _mm256_sign_epi8(hi, hi);
        for (int t = 0; t < T; t++) {
          s[t] = _mm256_add_epi32(s[t], dot_u8s8(alo, _mm256_sign_epi8(bcast4(ya[t] + 4 * c), lo)));
          s[t] = _mm256_add_epi32(s[t], dot_u8s8(ahi, _mm256_sign_epi8(bcast4(ya[t] + 16 + 4 * c), hi)));
        }
      }
    }
#endif
    for (int t = 0; t < T; t++)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dw, _mm256_broadcast_ss(da + t * nb + b)), acc[t]);
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, acc[t], valid_rows);
}

#if PG_ZMM
// q4_tile for two groups at once on 512-bit vectors: group g0 in lanes 0..7, g1 in lanes 8..15, one
// weight row per lane, so every lane does exactly q4_tile's operations (same bits) while each
// instruction covers 16 rows and each activation dword is broadcast from memory once for both.
INL void q4_tile_zmm(const int type, const int T, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a,
                     size_t a_stride, const float *da, const int32_t *corr, float *y, size_t y_stride, int valid_rows,
                     const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  const __m512i table = _mm512_broadcast_i32x4(_mm256_castsi256_si128(iq4nl_table()));
  const __mmask16 store = valid_rows >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << valid_rows) - 1);
  __m512 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q4_0_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q4_0_GROUP_BLOCK;
    prefetch_stream(g0, n0, b, nb, PG_Q4_0_GROUP_BLOCK, ahead);
    prefetch_stream(g1, n1, b, nb, PG_Q4_0_GROUP_BLOCK, ahead);
    const __m512 dw = _mm512_cvtph_ps(
        _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)p0)), _mm_loadu_si128((const __m128i *)p1), 1));
    const uint8_t *ya[PG_TILE_T];
    __m512i s[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 34 + 2;
      s[t] = _mm512_set1_epi32(-corr[t * nb + b]);
    }
    // A decode step (T = 1) sums each block in two integer chains (low and high nibbles): one chain of
    // eight dependent dpbusd per block kept too few blocks in flight to stream at full bandwidth.
    // Integer sums, so the bits are the same in any order.
    __m512i hi_sum = _mm512_setzero_si512();
    for (int c = 0; c < 4; c++) {
      const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(p0 + 16 + 32 * c))),
                                           _mm256_loadu_si256((const __m256i *)(p1 + 16 + 32 * c)), 1);
      __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
      if (type == PG_IQ4_NL) {
        lo = _mm512_shuffle_epi8(table, lo);
        hi = _mm512_shuffle_epi8(table, hi);
      }
      for (int t = 0; t < T; t++) {
        int32_t y0, y1;
        memcpy(&y0, ya[t] + 4 * c, 4);
        memcpy(&y1, ya[t] + 16 + 4 * c, 4);
        s[t] = _mm512_dpbusd_epi32(s[t], lo, _mm512_set1_epi32(y0));
        if (T == 1) hi_sum = _mm512_dpbusd_epi32(hi_sum, hi, _mm512_set1_epi32(y1));
        else s[t] = _mm512_dpbusd_epi32(s[t], hi, _mm512_set1_epi32(y1));
      }
    }
    if (T == 1) s[0] = _mm512_add_epi32(s[0], hi_sum);
    for (int t = 0; t < T; t++)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[t]), _mm512_mul_ps(dw, _mm512_set1_ps(da[t * nb + b])), acc[t]);
  }
  for (int t = 0; t < T; t++) _mm512_mask_storeu_ps(y + t * y_stride, store, acc[t]);
}
#endif

// Activation rows [0, m) against one group (or, with g1, a pair): PG_TILE_T rows at a time, the rest
// in one tile whose size is a compile-time constant. The first tile prefetches `ahead` bytes along the
// pair's streams and into the next pair (n0, n1; NULL at the end of the range; see prefetch_stream).
INL void q4_tiles(const int type, int m, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *a,
                  size_t a_stride, const float *da, const int32_t *corr, float *y, size_t y_stride, int valid,
                  const uint8_t *n0, const uint8_t *n1, size_t ahead) {
  enum { T = PG_TILE_T };
#if PG_ZMM
#define PG_Q4_TILE(n, off)                                                                                          \
  (g1 ? q4_tile_zmm(type, n, g0, g1, nb, a + (size_t)(off) * a_stride, a_stride, da + (off) * nb, corr + (off) * nb, \
                    y + (size_t)(off) * y_stride, y_stride, valid, (off) ? NULL : n0, (off) ? NULL : n1, ahead)    \
      : q4_tile(type, n, g0, nb, a + (size_t)(off) * a_stride, a_stride, da + (off) * nb, corr + (off) * nb,         \
                y + (size_t)(off) * y_stride, y_stride, valid))
#else
#define PG_Q4_TILE(n, off)                                                                                     \
  q4_tile(type, n, g0, nb, a + (size_t)(off) * a_stride, a_stride, da + (off) * nb, corr + (off) * nb,          \
          y + (size_t)(off) * y_stride, y_stride, valid)
#endif
  int t = 0;
  for (; t + T <= m; t += T) PG_Q4_TILE(T, t);
  switch (m - t) {
  case 1: PG_Q4_TILE(1, t); break;
#if PG_TILE_T > 2
  case 2: PG_Q4_TILE(2, t); break;
  case 3: PG_Q4_TILE(3, t); break;
#endif
  default: break;
  }
#undef PG_Q4_TILE
}

// The driver: per span of activation rows, their block scales and code-sum corrections up front, then
// every group (pairs of groups on 512-bit vectors).
INL int gemm_packed_q4_range(const int type, const uint8_t *packed, int rows, int g0, int g1, const uint8_t *a,
                             size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  enum { T = PG_TILE_T, CAP = 8192 };
  const int nb = cols / 32;
  const size_t group_bytes = (size_t)nb * PG_Q4_0_GROUP_BLOCK;
  if (nb <= 0 || nb * T > CAP) return 0;
  float da[CAP];
  int32_t corr[CAP];
  int span = (int)(24576 / (a_stride ? a_stride : 1)) / T * T;
  if (span < T) span = T;
  if (span * nb > CAP) span = CAP / nb / T * T;
  const int k = q4_offset(type);
  for (int t0 = 0; t0 < n; t0 += span) {
    const int t1 = t0 + span < n ? t0 + span : n;
    for (int t = t0; t < t1; t++)
      for (int b = 0; b < nb; b++) {
        const uint8_t *ab = a + (size_t)t * a_stride + (size_t)b * 34;
        const int i = (t - t0) * nb + b;
        da[i] = half_at(ab);
        corr[i] = k * hsum_epi32(_mm256_madd_epi16(
                          _mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)(ab + 2))),
                          _mm256_set1_epi16(1)));
      }
    const uint8_t *at = a + (size_t)t0 * a_stride;
    float *yt = y + (size_t)t0 * y_stride;
    int g = g0;
#if PG_ZMM
    for (; g + 2 <= g1; g += 2) {
      const int valid = rows - 8 * g < 16 ? rows - 8 * g : 16;
      const uint8_t *group = packed + (size_t)g * group_bytes;
      q4_tiles(type, t1 - t0, group, group + group_bytes, nb, at, a_stride, da, corr, yt + 8 * g, y_stride, valid,
               g + 2 < g1 ? group + 2 * group_bytes : NULL, g + 3 < g1 ? group + 3 * group_bytes : NULL,
               prefetch_ahead(n, group_bytes));
    }
#endif
    for (; g < g1; g++) {
      const int valid = rows - 8 * g < 8 ? rows - 8 * g : 8;
      q4_tiles(type, t1 - t0, packed + (size_t)g * group_bytes, NULL, nb, at, a_stride, da, corr, yt + 8 * g, y_stride,
               valid, NULL, NULL, 0);
    }
  }
  return 1;
}

INL int gemm_packed_q4(const int type, const uint8_t *packed, int rows, int g0, int g1, const uint8_t *a,
                       size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  const size_t group_bytes = (size_t)(cols / 32) * PG_Q4_0_GROUP_BLOCK;
  PG_IN_WEIGHT_BLOCKS(gemm_packed_q4_range(type, packed, rows, c0, c1, a, a_stride, n, y, y_stride, cols));
}
