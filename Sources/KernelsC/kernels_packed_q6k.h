// Packed Q6_K × Q8_K on 256-bit vectors (layout in pack.c: 6-bit codes, a nibble plane and a high-bit
// plane). Included by kernels_packed_k.h before its tile dispatch, once per instruction set. The
// fast order is q6_k_fast (and llama.cpp's tiled order for 8+ rows, `tiled`); llama.cpp's vec_dot
// order is q6_k_tile. The 512-bit pairs of groups are in kernels_packed_kzmm.h.

// Code bytes 4c..4c+3 (u = q + 32, 0..63) of 16-element sub-block sb for the group's 8 rows, row r
// at 4r, unpacked from pack.c's 6-bit Q6_K layout: a low nibble from the pair's byte, two high bits
// from the quad's byte.
INL __m256i q6_codes(const uint8_t *pb, int sb, int c) {
  const __m256i nib = _mm256_loadu_si256((const __m256i *)(pb + 144 + 128 * (sb >> 1) + 32 * c));
  const __m256i hb = _mm256_loadu_si256((const __m256i *)(pb + 1168 + 128 * (sb >> 2) + 32 * c));
  const __m256i lo = _mm256_and_si256(_mm256_srl_epi16(nib, _mm_cvtsi32_si128(4 * (sb & 1))), _mm256_set1_epi8(0x0F));
  const __m256i hi = _mm256_and_si256(_mm256_srl_epi16(hb, _mm_cvtsi32_si128(2 * (sb & 3))), _mm256_set1_epi8(0x03));
  return _mm256_or_si256(lo, _mm256_slli_epi16(hi, 4));
}

// Codes are stored as q + 32 (0..63): Σ sc·Σ(q − 32)·y = Σ sc·Σ u·y − 32·Σ sc·bsum, the last term
// from Q8_K's per-16 sums (one madd per pair of sub-blocks).
// `tiled`: the same integer sums finished in llama.cpp's tiled order for 8+ rows, (S·d_w) rounded and
// then fused-multiplied by d_a (its compiler fuses that multiply and add), instead of S·(d_w·d_a).
INL void q6_k_fast(const int T, const int tiled, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride,
                   const float *da, float *y, size_t y_stride, int valid_rows) {
  __m256 acc[PG_TILE_T];
  for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    const uint8_t *ab[PG_TILE_T];
    __m256i sum[PG_TILE_T], corr[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ab[t] = a + t * a_stride + (size_t)b * 292;
      sum[t] = corr[t] = _mm256_setzero_si256();
    }
    for (int i = 0; i < 8; i++) {
      const __m256i pair = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(pb + 16 + 16 * i)));
      for (int t = 0; t < T; t++) {
        int32_t bs;
        memcpy(&bs, ab[t] + 260 + 4 * i, 4);
        corr[t] = _mm256_add_epi32(corr[t], _mm256_madd_epi16(pair, _mm256_set1_epi32(bs)));
      }
      for (int h = 0; h < 2; h++) {
        const int sb = 2 * i + h;
        const __m256i sc = h ? _mm256_srai_epi32(pair, 16) : _mm256_srai_epi32(_mm256_slli_epi32(pair, 16), 16);
        const __m256i w0 = q6_codes(pb, sb, 0), w1 = q6_codes(pb, sb, 1);
        const __m256i w2 = q6_codes(pb, sb, 2), w3 = q6_codes(pb, sb, 3);
#if PG_VNNI
        for (int t = 0; t < T; t++) {
          const uint8_t *yq = ab[t] + 4 + 16 * sb;
          __m256i q = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w0, bcast4(yq));
          q = _mm256_dpbusd_epi32(q, w1, bcast4(yq + 4));
          q = _mm256_dpbusd_epi32(q, w2, bcast4(yq + 8));
          q = _mm256_dpbusd_epi32(q, w3, bcast4(yq + 12));
          sum[t] = _mm256_add_epi32(sum[t], _mm256_mullo_epi32(q, sc));
        }
#else
        // 6-bit × int8 pair sums stay within 2·63·127: two of them fit int16.
        const __m256i sc16 = _mm256_or_si256(_mm256_and_si256(sc, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(sc, 16));
        for (int t = 0; t < T; t++) {
          const uint8_t *yq = ab[t] + 4 + 16 * sb;
          const __m256i p0 = _mm256_add_epi16(_mm256_maddubs_epi16(w0, bcast4(yq)), _mm256_maddubs_epi16(w1, bcast4(yq + 4)));
          const __m256i p1 = _mm256_add_epi16(_mm256_maddubs_epi16(w2, bcast4(yq + 8)), _mm256_maddubs_epi16(w3, bcast4(yq + 12)));
          sum[t] = _mm256_add_epi32(sum[t], _mm256_add_epi32(_mm256_madd_epi16(p0, sc16), _mm256_madd_epi16(p1, sc16)));
        }
#endif
      }
    }
    const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    for (int t = 0; t < T; t++) {
      const __m256i sumi = _mm256_sub_epi32(sum[t], _mm256_slli_epi32(corr[t], 5));
      if (tiled) acc[t] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(sumi), dv), _mm256_broadcast_ss(da + t * nb + b), acc[t]);
      else acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi), _mm256_mul_ps(dv, _mm256_broadcast_ss(da + t * nb + b)), acc[t]);
    }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, acc[t], valid_rows);
}

// Q6_K (llama.cpp's vec_dot, the same for any batch): per row eight integer partials per super-block;
// partial k < 4 sums chunk k (elements 4k..4k+3) of every even 16-element sub-block, k ≥ 4 chunk
// k − 4 of every odd one, each times its sub-block scale, minus 32·(sc[2k]·bsum[2k] + sc[2k+1]·bsum[2k+1])
// (codes are stored as q + 32). Each partial is scaled by d_w·d_a into its own float sum; folded at
// the end. llama.cpp's tiled kernel for batches of 8+ rows sums the super-block's partials in
// integers: that order is q6_k_fast with `tiled` set.
INL void q6_k_tile(const int T, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride, const float *da,
                   float *y, size_t y_stride, int valid_rows) {
  __m256 acc[8 * PG_TILE_T];
  for (int j = 0; j < 8 * T; j++) acc[j] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    const uint8_t *ab[PG_TILE_T];
    __m256i part[8 * PG_TILE_T];
    for (int t = 0; t < T; t++) ab[t] = a + t * a_stride + (size_t)b * 292;
    for (int j = 0; j < 8 * T; j++) part[j] = _mm256_setzero_si256();
    for (int i = 0; i < 8; i++) {
      const __m256i pair = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(pb + 16 + 16 * i)));
      for (int h = 0; h < 2; h++) {
        const int sb = 2 * i + h;
        // The sub-block's scale in both int16 halves of each row's lane.
        const __m256i sc16 = h ? _mm256_or_si256(_mm256_srli_epi32(pair, 16), _mm256_andnot_si256(_mm256_set1_epi32(0xFFFF), pair))
                               : _mm256_or_si256(_mm256_and_si256(pair, _mm256_set1_epi32(0xFFFF)), _mm256_slli_epi32(pair, 16));
        for (int c = 0; c < 4; c++) {
          const __m256i w = q6_codes(pb, sb, c);
          for (int t = 0; t < T; t++) {
            // 6-bit × int8 pair sums stay within 2·63·127 (int16).
            const __m256i p = _mm256_maddubs_epi16(w, bcast4(ab[t] + 4 + 16 * sb + 4 * c));
            const int k = 8 * t + 4 * h + c;
#if PG_VNNI
            part[k] = _mm256_dpwssd_epi32(part[k], p, sc16);
#else
            part[k] = _mm256_add_epi32(part[k], _mm256_madd_epi16(p, sc16));
#endif
          }
        }
      }
    }
    const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    for (int t = 0; t < T; t++) {
      const __m256 scale = _mm256_mul_ps(dv, _mm256_broadcast_ss(da + t * nb + b));
      for (int k = 0; k < 8; k++) {
        int32_t bs;
        memcpy(&bs, ab[t] + 260 + 4 * k, 4);
        const __m256i pair = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(pb + 16 + 16 * k)));
        const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(pair, _mm256_set1_epi32(bs)), 5);
        acc[8 * t + k] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(part[8 * t + k], corr)), acc[8 * t + k]);
      }
    }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, fold8(acc + 8 * t), valid_rows);
}
