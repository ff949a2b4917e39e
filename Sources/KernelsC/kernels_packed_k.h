// Packed (8-row interleaved) kernels for the Gemma 3 weight types, Q5_0 × Q8_0, Q4_K × Q8_K and
// Q6_K × Q8_K (Q5_K's and Q6_K's tiles in kernels_packed_q5k.h / _q6k.h), and the Q8_K activation
// quantizer. Included by kernels_impl.h once per instruction set
// (same PG_FN / PG_TARGET / PG_VNNI / PG_TILE_T macros); layouts are described in pack.c.
//
// Two float orders (the type code's PG_FAST_ORDER flag): llama.cpp's (Numerics.exact, twin
// vecDotLaneOrder) and the fast one (integer dot products per block or sub-block, integer scale
// products per super-block, one float multiply-add per (super-)block; twin vecDotReference within
// tolerance). Offsets that make codes unsigned for the u8 × s8 instructions are taken back out in
// integers from activation sums.

// ---- Q8_K activation quantizer (bit-identical to quantizeQ8K) ----

int PG_TARGET PG_FN(quantize_q8k)(const float *x, void *dst, int count) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  uint8_t *out = (uint8_t *)dst;
  for (int b = 0; b < count / 256; b++) {
    const float *xb = x + 256 * b;
    uint8_t *block = out + (size_t)b * 292;
    // max_ps(v, m) returns m when v is NaN, so NaNs are skipped like the twin's `>` test.
    __m256 m = _mm256_setzero_ps();
    for (int i = 0; i < 32; i++) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xb + 8 * i)), m);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    if (!(amax > 0)) {
      memset(block, 0, 292);
      continue;
    }
    // The first element of greatest magnitude gives the scale its sign, as in the twin.
    float extreme = 0;
    const __m256 vmax = _mm256_set1_ps(amax);
    for (int i = 0; i < 32; i++) {
      const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(xb + 8 * i)), vmax, _CMP_EQ_OQ));
      if (hit) {
        extreme = xb[8 * i + __builtin_ctz((unsigned)hit)];
        break;
      }
    }
    const float iscale = -127.0f / extreme;
    const __m256 vis = _mm256_set1_ps(iscale);
    int16_t bsums[16];
    for (int g = 0; g < 8; g++) {
      const float *xg = xb + 32 * g;
      // cvtps rounds to nearest even (default MXCSR); packs saturates at 127 like the twin's min.
      __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xg)));
      __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xg + 8)));
      __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xg + 16)));
      __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(xg + 24)));
      __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
      p = _mm256_permutevar8x32_epi32(p, order);
      _mm256_storeu_si256((__m256i *)(block + 4 + 32 * g), p);
      // Sums of the stored (saturated) codes: widen the packed bytes back.
      const __m256i lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(p));
      const __m256i hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(p, 1));
      bsums[2 * g] = (int16_t)hsum_epi32(_mm256_madd_epi16(lo, _mm256_set1_epi16(1)));
      bsums[2 * g + 1] = (int16_t)hsum_epi32(_mm256_madd_epi16(hi, _mm256_set1_epi16(1)));
    }
    memcpy(block + 260, bsums, 32);
    const float d = 1.0f / iscale;
    memcpy(block, &d, 4);
  }
  return 1;
}

// ---- Packed tiles: 8 weight rows (one per 32-bit lane) × T activation rows ----

// Q5_0 codes of one 32-byte chunk: nibbles plus the fifth bit from bit plane p of H, at bit 4.
INL __m256i q5_with_plane(__m256i nibbles, __m256i planes, const int p) {
#if PG_VNNI
  const __mmask32 k = _mm256_test_epi8_mask(planes, _mm256_set1_epi8((char)(1 << p)));
  return _mm256_mask_add_epi8(nibbles, k, nibbles, _mm256_set1_epi8(16));
#else
  // 16-bit shifts keep bit 4 of every byte within its byte for these shift counts.
  __m256i bit = p < 4 ? _mm256_slli_epi16(planes, 4 - p) : p > 4 ? _mm256_srli_epi16(planes, p - 4) : planes;
  return _mm256_or_si256(nibbles, _mm256_and_si256(bit, _mm256_set1_epi8(16)));
#endif
}

// ---- The fast order (Numerics.fast, PG_FAST_ORDER): one integer sum per (super-)block, one float
// multiply-add per block and row; the same for any batch, not llama.cpp's order. ----

// corr[t*nb + b] = 16·Σy of activation row t's block b: Σ(c − 16)·y = Σc·y − 16·Σy.
INL void q5_0_fast(const int T, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride, const float *da,
                   const int32_t *corr, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q5_0_GROUP_BLOCK;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const __m256i planes = _mm256_loadu_si256((const __m256i *)(pb + 16));
    const uint8_t *ya[PG_TILE_T];
    __m256i s[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 34 + 2;
      s[t] = _mm256_set1_epi32(-corr[t * nb + b]);
    }
#if PG_VNNI
    for (int c = 0; c < 4; c++) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 48 + 32 * c));
      const __m256i lo = q5_with_plane(_mm256_and_si256(v, m4), planes, 2 * c);
      const __m256i hi = q5_with_plane(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), planes, 2 * c + 1);
      for (int t = 0; t < T; t++) {
        s[t] = _mm256_dpbusd_epi32(s[t], lo, bcast4(ya[t] + 4 * c));
        s[t] = _mm256_dpbusd_epi32(s[t], hi, bcast4(ya[t] + 16 + 4 * c));
      }
    }
#else
    // 5-bit × int8 pair sums stay within 2·31·127, so four of them fit one int16 lane.
    for (int half = 0; half < 2; half++) {
      __m256i p[PG_TILE_T];
      for (int t = 0; t < T; t++) p[t] = _mm256_setzero_si256();
      for (int c = 2 * half; c < 2 * half + 2; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 48 + 32 * c));
        const __m256i lo = q5_with_plane(_mm256_and_si256(v, m4), planes, 2 * c);
        const __m256i hi = q5_with_plane(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), planes, 2 * c + 1);
        for (int t = 0; t < T; t++) {
          p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(lo, bcast4(ya[t] + 4 * c)));
          p[t] = _mm256_add_epi16(p[t], _mm256_maddubs_epi16(hi, bcast4(ya[t] + 16 + 4 * c)));
        }
      }
      for (int t = 0; t < T; t++) s[t] = _mm256_add_epi32(s[t], _mm256_madd_epi16(p[t], _mm256_set1_epi16(1)));
    }
#endif
    for (int t = 0; t < T; t++)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[t]), _mm256_mul_ps(dw, _mm256_broadcast_ss(da + t * nb + b)), acc[t]);
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, acc[t], valid_rows);
}

// aux[(t*nb + b)*4 + i]: activation sums of sub-blocks 2i and 2i+1 (32 codes each) as an int16 pair,
// multiplied against the rows' (min 2i, min 2i+1) pairs by one madd.
INL void q4_k_fast(const int T, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride, const float *da,
                   const int32_t *aux, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  __m256 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q4_K_GROUP_BLOCK;
    const uint8_t *ya[PG_TILE_T];
    __m256i sumi[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 292 + 4;
      sumi[t] = _mm256_setzero_si256();
    }
    for (int ch = 0; ch < 4; ch++) {
      const __m256i pair = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 32 + 16 * ch)));
      const __m256i sc_even = _mm256_and_si256(pair, low16), sc_odd = _mm256_srli_epi32(pair, 16);
      const uint8_t *codes = pb + 160 + 256 * ch;
#if PG_VNNI
      __m256i se[PG_TILE_T], so[PG_TILE_T];
      for (int t = 0; t < T; t++) se[t] = so[t] = _mm256_setzero_si256();
      for (int c = 0; c < 8; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          se[t] = _mm256_dpbusd_epi32(se[t], lo, bcast4(ya[t] + 64 * ch + 4 * c));
          so[t] = _mm256_dpbusd_epi32(so[t], hi, bcast4(ya[t] + 64 * ch + 32 + 4 * c));
        }
      }
      for (int t = 0; t < T; t++)
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(_mm256_mullo_epi32(se[t], sc_even), _mm256_mullo_epi32(so[t], sc_odd)));
#else
      // Nibble × int8 pair sums stay within 2·15·127, so the 8 chunks of a sub-block fit int16;
      // madd with (scale, scale) then applies the sub-block scale while widening.
      const __m256i se16 = _mm256_or_si256(sc_even, _mm256_slli_epi32(sc_even, 16));
      const __m256i so16 = _mm256_or_si256(sc_odd, _mm256_slli_epi32(sc_odd, 16));
      __m256i pe[PG_TILE_T], po[PG_TILE_T];
      for (int t = 0; t < T; t++) pe[t] = po[t] = _mm256_setzero_si256();
      for (int c = 0; c < 8; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          pe[t] = _mm256_add_epi16(pe[t], _mm256_maddubs_epi16(lo, bcast4(ya[t] + 64 * ch + 4 * c)));
          po[t] = _mm256_add_epi16(po[t], _mm256_maddubs_epi16(hi, bcast4(ya[t] + 64 * ch + 32 + 4 * c)));
        }
      }
      for (int t = 0; t < T; t++)
        sumi[t] = _mm256_add_epi32(sumi[t], _mm256_add_epi32(_mm256_madd_epi16(pe[t], se16), _mm256_madd_epi16(po[t], so16)));
#endif
    }
    const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const __m256 mv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pb + 16)));
    __m256i mins[4];
    for (int i = 0; i < 4; i++) mins[i] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 96 + 16 * i)));
    for (int t = 0; t < T; t++) {
      const int32_t *w = aux + ((size_t)t * nb + b) * 4;
      __m256i msum = _mm256_madd_epi16(mins[0], _mm256_set1_epi32(w[0]));
      for (int i = 1; i < 4; i++) msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[i], _mm256_set1_epi32(w[i])));
      const __m256 dat = _mm256_broadcast_ss(da + t * nb + b);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), _mm256_mul_ps(dv, dat), acc[t]);
      acc[t] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(mv, dat), acc[t]);
    }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, acc[t], valid_rows);
}

// ---- llama.cpp's order (Numerics.exact) ----

// The tiles below reproduce llama.cpp's float order for each type (its x86 kernels), so outputs are
// bit-identical to it: which integer sums are converted to float, and in which order the float
// multiply-adds and the final lane fold happen. Integer sums may be formed in any order (exact).

// Q5_0 (llama.cpp's vec_dot and tinyBLAS alike): per row, eight float sums, partial j taking the
// 4-element integer dot over elements 4j..4j+3 of every block, scaled by d_w·d_a; folded at the end.
// corr[(t*nb + b)*8 + j] = −16·(y[4j] + … + y[4j+3]): Σ(c − 16)·y = Σc·y − 16·Σy per partial. Stored
// negated so it is the dot's starting value, one broadcast load (negating it per use cost ~30 %).
// Callers split tiles of 4 activation rows into pairs: 4 × 8 float sums would spill registers.
INL void q5_0_tile(const int T, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride, const float *da,
                   const int32_t *corr, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  __m256 acc[8 * PG_TILE_T];
  for (int j = 0; j < 8 * T; j++) acc[j] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q5_0_GROUP_BLOCK;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const __m256i planes = _mm256_loadu_si256((const __m256i *)(pb + 16));
    const uint8_t *ya[PG_TILE_T];
    __m256 scale[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 34 + 2;
      scale[t] = _mm256_mul_ps(dw, _mm256_broadcast_ss(da + t * nb + b));
    }
    for (int c = 0; c < 4; c++) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 48 + 32 * c));
      const __m256i lo = q5_with_plane(_mm256_and_si256(v, m4), planes, 2 * c);
      const __m256i hi = q5_with_plane(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), planes, 2 * c + 1);
      for (int t = 0; t < T; t++) {
        const int32_t *ct = corr + ((size_t)t * nb + b) * 8;
#if PG_VNNI
        const __m256i slo = _mm256_dpbusd_epi32(_mm256_set1_epi32(ct[c]), lo, bcast4(ya[t] + 4 * c));
        const __m256i shi = _mm256_dpbusd_epi32(_mm256_set1_epi32(ct[4 + c]), hi, bcast4(ya[t] + 16 + 4 * c));
#else
        const __m256i slo = _mm256_add_epi32(dot_u8s8(lo, bcast4(ya[t] + 4 * c)), _mm256_set1_epi32(ct[c]));
        const __m256i shi = _mm256_add_epi32(dot_u8s8(hi, bcast4(ya[t] + 16 + 4 * c)), _mm256_set1_epi32(ct[4 + c]));
#endif
        acc[8 * t + c] = _mm256_fmadd_ps(scale[t], _mm256_cvtepi32_ps(slo), acc[8 * t + c]);
        acc[8 * t + 4 + c] = _mm256_fmadd_ps(scale[t], _mm256_cvtepi32_ps(shi), acc[8 * t + 4 + c]);
      }
    }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, fold8(acc + 8 * t), valid_rows);
}

// Q4_K (llama.cpp repacks it to 8 interleaved rows): one float sum for the scaled code dots and one for
// the minimum terms, subtracted at the end. Its one-row kernel (gemv) adds each super-block's integer
// sums at once; its four-row kernel (gemm) adds each pair of sub-blocks (64 elements) separately —
// `pairs` chooses the latter. aux[(t*nb + b)*4 + i]: activation sums of sub-blocks 2i and 2i+1
// (32 codes each) as an int16 pair, multiplied against the rows' (min 2i, min 2i+1) pairs by one madd.
INL void q4_k_tile(const int T, const int pairs, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride,
                   const float *da, const int32_t *aux, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  __m256 acc[PG_TILE_T], accm[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = accm[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q4_K_GROUP_BLOCK;
    const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const __m256 mv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pb + 16)));
    const uint8_t *ya[PG_TILE_T];
    __m256i sumi[PG_TILE_T], msum[PG_TILE_T];
    __m256 sd[PG_TILE_T], sm[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ya[t] = a + t * a_stride + (size_t)b * 292 + 4;
      sumi[t] = msum[t] = _mm256_setzero_si256();
      const __m256 dat = _mm256_broadcast_ss(da + t * nb + b);
      sd[t] = _mm256_mul_ps(dv, dat);
      sm[t] = _mm256_mul_ps(mv, dat);
    }
    for (int ch = 0; ch < 4; ch++) {
      const __m256i pair = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 32 + 16 * ch)));
      const __m256i sc_even = _mm256_and_si256(pair, low16), sc_odd = _mm256_srli_epi32(pair, 16);
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 96 + 16 * ch)));
      const uint8_t *codes = pb + 160 + 256 * ch;
      __m256i part[PG_TILE_T];
#if PG_VNNI
      __m256i se[PG_TILE_T], so[PG_TILE_T];
      for (int t = 0; t < T; t++) se[t] = so[t] = _mm256_setzero_si256();
      for (int c = 0; c < 8; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          se[t] = _mm256_dpbusd_epi32(se[t], lo, bcast4(ya[t] + 64 * ch + 4 * c));
          so[t] = _mm256_dpbusd_epi32(so[t], hi, bcast4(ya[t] + 64 * ch + 32 + 4 * c));
        }
      }
      for (int t = 0; t < T; t++)
        part[t] = _mm256_add_epi32(_mm256_mullo_epi32(se[t], sc_even), _mm256_mullo_epi32(so[t], sc_odd));
#else
      // Nibble × int8 pair sums stay within 2·15·127, so the 8 chunks of a sub-block fit int16;
      // madd with (scale, scale) then applies the sub-block scale while widening.
      const __m256i se16 = _mm256_or_si256(sc_even, _mm256_slli_epi32(sc_even, 16));
      const __m256i so16 = _mm256_or_si256(sc_odd, _mm256_slli_epi32(sc_odd, 16));
      __m256i pe[PG_TILE_T], po[PG_TILE_T];
      for (int t = 0; t < T; t++) pe[t] = po[t] = _mm256_setzero_si256();
      for (int c = 0; c < 8; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
        const __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        for (int t = 0; t < T; t++) {
          pe[t] = _mm256_add_epi16(pe[t], _mm256_maddubs_epi16(lo, bcast4(ya[t] + 64 * ch + 4 * c)));
          po[t] = _mm256_add_epi16(po[t], _mm256_maddubs_epi16(hi, bcast4(ya[t] + 64 * ch + 32 + 4 * c)));
        }
      }
      for (int t = 0; t < T; t++) part[t] = _mm256_add_epi32(_mm256_madd_epi16(pe[t], se16), _mm256_madd_epi16(po[t], so16));
#endif
      for (int t = 0; t < T; t++) {
        const __m256i mpart = _mm256_madd_epi16(mins, _mm256_set1_epi32(aux[((size_t)t * nb + b) * 4 + ch]));
        if (pairs) {
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(part[t]), sd[t], acc[t]);
          accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mpart), sm[t], accm[t]);
        } else {
          sumi[t] = _mm256_add_epi32(sumi[t], part[t]);
          msum[t] = _mm256_add_epi32(msum[t], mpart);
        }
      }
    }
    if (!pairs)
      for (int t = 0; t < T; t++) {
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[t]), sd[t], acc[t]);
        accm[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum[t]), sm[t], accm[t]);
      }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, _mm256_sub_ps(acc[t], accm[t]), valid_rows);
}

// order: PG_ORDER_ONE_ROW / PG_ORDER_BATCHED (llama.cpp's one-row or batched order) or PG_ORDER_FAST.
enum { PG_ORDER_ONE_ROW = 0, PG_ORDER_BATCHED = 1, PG_ORDER_FAST = 2 };

#include "kernels_packed_q5k.h"

#include "kernels_packed_q6k.h"

#if PG_ZMM
#include "kernels_packed_kzmm.h"
#endif

INL void packed_k_tile(const int type, const int order, const int T, const uint8_t *group, int nb, const uint8_t *a,
                       size_t a_stride, const float *da, const int32_t *aux, float *y, size_t y_stride, int valid_rows) {
  if (type == PG_Q5_K) {
    q5_k_tiles(T, order, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
    return;
  }
  if (order == PG_ORDER_FAST) {
    if (type == PG_Q5_0) q5_0_fast(T, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
    else if (type == PG_Q4_K) q4_k_fast(T, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
    else q6_k_fast(T, 0, group, nb, a, a_stride, da, y, y_stride, valid_rows);
    return;
  }
  const int batched = order == PG_ORDER_BATCHED;
  if (type == PG_Q5_0) {
    if (T == 4) {  // see q5_0_tile
      q5_0_tile(2, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
      q5_0_tile(2, group, nb, a + 2 * a_stride, a_stride, da + 2 * nb, aux + 2 * nb * 8, y + 2 * y_stride, y_stride, valid_rows);
    } else q5_0_tile(T, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
  }
  else if (type == PG_Q4_K) q4_k_tile(T, batched, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
  else if (batched) q6_k_fast(T, 1, group, nb, a, a_stride, da, y, y_stride, valid_rows);
  else q6_k_tile(T, group, nb, a, a_stride, da, y, y_stride, valid_rows);
}

// The driver: like gemm_packed, with per-span activation scales (and sums) gathered up front.
// `biased`: Q6_K's span copy of the activations (q6_biased_activations), or NULL for the tiles.
INL int gemm_packed_k_range(const int type, const int order, const uint8_t *packed, int rows, int g0, int g1,
                            const uint8_t *a, size_t a_stride, int n, float *y, size_t y_stride, int cols,
                            const uint8_t *biased) {
  enum { T = PG_TILE_T, CAP = 8192 };
  const int kquant = type != PG_Q5_0;
  const int nb = kquant ? cols / 256 : cols / 32;
  const int ab_bytes = kquant ? 292 : 34;
  const int aux_per = type == PG_Q4_K || type == PG_Q5_K ? 4 : type == PG_Q5_0 ? (order == PG_ORDER_FAST ? 1 : 8) : 0;
  const int group_block = type == PG_Q5_0   ? PG_Q5_0_GROUP_BLOCK
                          : type == PG_Q4_K ? PG_Q4_K_GROUP_BLOCK
                          : type == PG_Q5_K ? PG_Q5_K_GROUP_BLOCK
                                            : PG_Q6_K_GROUP_BLOCK;
  const size_t group_bytes = (size_t)nb * group_block;
  const int per_row = nb * (aux_per > 1 ? aux_per : 1);  // entries of the larger of da / aux
  if (nb <= 0 || per_row * T > CAP) return 0;
  float da[CAP];
  int32_t aux[CAP];
  int span = (int)(24576 / (a_stride ? a_stride : 1)) / T * T;
  if (span < T) span = T;
  if (span * per_row > CAP) span = CAP / per_row / T * T;
#if PG_ZMM
  // Q6_K's batched and fast orders unpack each super-block once for a whole span (q6_k_span_zmm).
  const int q6_span = biased != NULL;
  if (q6_span) span = PG_Q6_SPAN * per_row <= CAP ? PG_Q6_SPAN : CAP / per_row / T * T;
  // Q5_0 in llama.cpp's order takes the 512-bit tiles (kernels_packed_zmm.h), which read the span's
  // activations reordered and their corrections in pair order.
  uint8_t pairs[PG_PAIR_CAPACITY * 32];
  const int zmm = type == PG_Q5_0 && order != PG_ORDER_FAST && nb * T <= PG_PAIR_CAPACITY;
  if (zmm && span * nb > PG_PAIR_CAPACITY) span = PG_PAIR_CAPACITY / nb / T * T;
#else
  const int zmm = 0;
#endif
  for (int t0 = 0; t0 < n; t0 += span) {
    const int t1 = t0 + span < n ? t0 + span : n;
    for (int t = t0; t < t1; t++)
      for (int b = 0; b < nb; b++) {
        const uint8_t *ab = a + (size_t)t * a_stride + (size_t)b * ab_bytes;
        const int i = (t - t0) * nb + b;
        if (type == PG_Q5_0 && order == PG_ORDER_FAST) {
          da[i] = half_at(ab);
          aux[i] = 16 * hsum_epi32(_mm256_madd_epi16(
                            _mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)(ab + 2))),
                            _mm256_set1_epi16(1)));
        } else if (type == PG_Q5_0) {
          da[i] = half_at(ab);
          _mm256_storeu_si256((__m256i *)(aux + 8 * i), neg_partial_sums(ab + 2, 4, zmm));
        } else {
          memcpy(&da[i], ab, 4);
          if (type == PG_Q4_K || type == PG_Q5_K) {
            int16_t bs[16];
            memcpy(bs, ab + 260, 32);
            for (int p = 0; p < 4; p++) {
              const int lo = bs[4 * p] + bs[4 * p + 1], hi = bs[4 * p + 2] + bs[4 * p + 3];
              aux[4 * i + p] = (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
            }
          }
        }
      }
#if PG_ZMM
    if (zmm) {
      zmm_pair_activations(a + (size_t)t0 * a_stride, a_stride, 34, 2, t1 - t0, nb, pairs);
      for (int g = g0; g < g1; g++) {
        const uint8_t *group = packed + (size_t)g * group_bytes;
        const int valid = rows - 8 * g < 8 ? rows - 8 * g : 8;
        int t = 0;
        const int m = t1 - t0;
        for (; t + T <= m; t += T)
          q5_0_tile_zmm(T, group, nb, pairs + (size_t)t * nb * 32, da + t * nb, aux + (size_t)t * nb * 8,
                        y + (size_t)(t0 + t) * y_stride + 8 * g, y_stride, valid);
        const uint8_t *pr = pairs + (size_t)t * nb * 32;
        float *yr = y + (size_t)(t0 + t) * y_stride + 8 * g;
        switch (m - t) {
        case 1: q5_0_tile_zmm(1, group, nb, pr, da + t * nb, aux + (size_t)t * nb * 8, yr, y_stride, valid); break;
        case 2: q5_0_tile_zmm(2, group, nb, pr, da + t * nb, aux + (size_t)t * nb * 8, yr, y_stride, valid); break;
        case 3: q5_0_tile_zmm(3, group, nb, pr, da + t * nb, aux + (size_t)t * nb * 8, yr, y_stride, valid); break;
        default: break;
        }
      }
      continue;
    }
#endif
    int g = g0;
#if PG_ZMM
    // K-quants: pairs of groups on 512-bit vectors (kernels_packed_kzmm.h), the odd one below.
    if (type == PG_Q4_K || type == PG_Q5_K || type == PG_Q6_K)
      for (; g + 2 <= g1; g += 2) {
        const uint8_t *group = packed + (size_t)g * group_bytes;
        const int valid = rows - 8 * g < 16 ? rows - 8 * g : 16;
        const int m = t1 - t0;
        const uint8_t *at = a + (size_t)t0 * a_stride;
        const int32_t *auxt = aux;
        float *yt = y + (size_t)t0 * y_stride + 8 * g;
        if (q6_span) {
          q6_k_span_zmm(order == PG_ORDER_BATCHED, group, group + group_bytes, nb, biased + (size_t)t0 * nb * 256, m, da, yt,
                        y_stride, valid);
          continue;
        }
        int t = 0;
        // The first tile prefetches (prefetch_stream).
        const uint8_t *n0 = g + 2 < g1 ? group + 2 * group_bytes : NULL, *n1 = g + 3 < g1 ? group + 3 * group_bytes : NULL;
        const size_t ahead = prefetch_ahead(n, group_bytes);
        for (; t + T <= m; t += T, n0 = n1 = NULL)
          packed_k_tile_zmm(type, order, T, group, group + group_bytes, nb, at + (size_t)t * a_stride, a_stride, da + t * nb,
                            auxt + (size_t)t * nb * 4, yt + (size_t)t * y_stride, y_stride, valid, n0, n1, ahead);
        switch (m - t) {
#define PG_K_REST(n)                                                                                               \
  packed_k_tile_zmm(type, order, n, group, group + group_bytes, nb, at + (size_t)t * a_stride, a_stride, da + t * nb, \
                    auxt + (size_t)t * nb * 4, yt + (size_t)t * y_stride, y_stride, valid, n0, n1, ahead)
        case 1: PG_K_REST(1); break;
        case 2: PG_K_REST(2); break;
        case 3: PG_K_REST(3); break;
#undef PG_K_REST
        default: break;
        }
      }
#endif
    for (; g < g1; g++) {
      const uint8_t *group = packed + (size_t)g * group_bytes;
      const int valid = rows - 8 * g < 8 ? rows - 8 * g : 8;
      int t = t0;
      for (; t + T <= t1; t += T)
        packed_k_tile(type, order, T, group, nb, a + (size_t)t * a_stride, a_stride, da + (t - t0) * nb,
                      aux + (size_t)(t - t0) * nb * (aux_per ? aux_per : 1), y + (size_t)t * y_stride + 8 * g, y_stride,
                      valid);
      for (; t < t1; t++)
        packed_k_tile(type, order, 1, group, nb, a + (size_t)t * a_stride, a_stride, da + (t - t0) * nb,
                      aux + (size_t)(t - t0) * nb * (aux_per ? aux_per : 1), y + (size_t)t * y_stride + 8 * g, y_stride,
                      valid);
    }
  }
  return 1;
}

INL int gemm_packed_k(const int type, const int order, const uint8_t *packed, int rows, int g0, int g1, const uint8_t *a,
                      size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  const size_t group_bytes = (size_t)(type == PG_Q5_0 ? cols / 32 : cols / 256) *
                             (type == PG_Q5_0   ? PG_Q5_0_GROUP_BLOCK
                              : type == PG_Q4_K ? PG_Q4_K_GROUP_BLOCK
                              : type == PG_Q5_K ? PG_Q5_K_GROUP_BLOCK
                                                : PG_Q6_K_GROUP_BLOCK);
  const uint8_t *biased = NULL;
#if PG_ZMM
  // Q6_K's batched and fast orders take the span kernel, whose activations are biased once here.
  if (type == PG_Q6_K && order != PG_ORDER_ONE_ROW && n > PG_TILE_T && cols % 256 == 0) {
    uint8_t *copy = q6_span_buffer((size_t)n * (size_t)cols);
    if (copy) q6_biased_activations(a, a_stride, n, cols / 256, copy);
    biased = copy;
  }
#endif
  PG_IN_WEIGHT_BLOCKS(gemm_packed_k_range(type, order, packed, rows, c0, c1, a, a_stride, n, y, y_stride, cols, biased));
}

// A K-quant product in the order chosen at run time: each branch passes the order as a constant, so
// each inlines its own tiles.
INL int gemm_packed_k_in_order(const int type, int order, const uint8_t *packed, int rows, int g0, int g1,
                               const uint8_t *a, size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  if (order == PG_ORDER_FAST)
    return gemm_packed_k(type, PG_ORDER_FAST, packed, rows, g0, g1, a, a_stride, n, y, y_stride, cols);
  if (order == PG_ORDER_BATCHED)
    return gemm_packed_k(type, PG_ORDER_BATCHED, packed, rows, g0, g1, a, a_stride, n, y, y_stride, cols);
  return gemm_packed_k(type, PG_ORDER_ONE_ROW, packed, rows, g0, g1, a, a_stride, n, y, y_stride, cols);
}
