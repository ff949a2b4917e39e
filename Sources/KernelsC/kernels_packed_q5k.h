// Packed Q5_K × Q8_K (layout in pack.c: Q4_K's scales and nibbles plus the fifth-bit bytes). Included
// by kernels_packed_k.h before its tile dispatch, once per instruction set.
//
// Three float orders, as for Q4_K and Q6_K (twin: vecDotLaneOrder):
// - PG_ORDER_ONE_ROW, llama.cpp's vec_dot (one row, and batches of fewer than 8): per row eight
//   integer partials per super-block, partial k summing, over the four 64-element chunks, the
//   sub-block scale times the 4-element dots of elements 4k..4k+3 of the chunk's low and of its high
//   32; each scaled by d_w·d_a into its own float sum, folded at the end, then plus one float sum of
//   the minimum terms, fma(−d_a·dmin_w, Σ min·bsum, sum) per super-block.
// - PG_ORDER_BATCHED, its tiled kernel for 8+ rows: the super-block's whole scaled integer sum S and
//   minimum sum M, r = fma(−dmin_w, M, S·d_w), then fma(r, d_a, acc).
// - PG_ORDER_FAST: fma(S, d_w·d_a, acc), then acc − M·(dmin_w·d_a), both fused.
// aux[(t*nb + b)*4 + i]: activation sums of sub-blocks 2i and 2i+1 as an int16 pair (as Q4_K).

INL void q5_k_tile(const int T, const int order, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride,
                   const float *da, const int32_t *aux, float *y, size_t y_stride, int valid_rows) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  const int lanes = order == PG_ORDER_ONE_ROW ? 8 : 1;
  __m256 acc[8 * PG_TILE_T], accm[PG_TILE_T];
  for (int t = 0; t < T; t++) {
    accm[t] = _mm256_setzero_ps();
    for (int j = 0; j < lanes; j++) acc[8 * t + j] = _mm256_setzero_ps();
  }
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q5_K_GROUP_BLOCK;
    const uint8_t *ab[PG_TILE_T];
    __m256i part[8 * PG_TILE_T], msum[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      ab[t] = a + t * a_stride + (size_t)b * 292;
      msum[t] = _mm256_setzero_si256();
      for (int j = 0; j < lanes; j++) part[8 * t + j] = _mm256_setzero_si256();
    }
    // Sub-block scales 2ch (low 32 of chunk ch) and 2ch + 1 (high 32), each in both int16 halves of
    // its row's lane, so one multiply-add of int16 pairs scales a row's pair sums.
    __m256i sc_lo[4], sc_hi[4];
    for (int ch = 0; ch < 4; ch++) {
      const __m256i pair = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 32 + 16 * ch)));
      sc_lo[ch] = _mm256_or_si256(_mm256_and_si256(pair, low16), _mm256_slli_epi32(pair, 16));
      sc_hi[ch] = _mm256_or_si256(_mm256_srli_epi32(pair, 16), _mm256_andnot_si256(low16, pair));
      const __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(pb + 96 + 16 * ch)));
      for (int t = 0; t < T; t++)
        msum[t] = _mm256_add_epi32(msum[t], _mm256_madd_epi16(mins, _mm256_set1_epi32(aux[((size_t)t * nb + b) * 4 + ch])));
    }
    for (int c = 0; c < 8; c++) {
      // Fifth bits of elements 4c..4c+3 of every chunk: bit 2ch (low 32) and 2ch + 1 (high 32).
      const __m256i planes = _mm256_loadu_si256((const __m256i *)(pb + 160 + 32 * c));
      for (int ch = 0; ch < 4; ch++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(pb + 416 + 256 * ch + 32 * c));
        const __m256i lo = q5_with_plane(_mm256_and_si256(v, m4), planes, 2 * ch);
        const __m256i hi = q5_with_plane(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), planes, 2 * ch + 1);
        for (int t = 0; t < T; t++) {
          // 5-bit × int8 pair sums stay within 2·31·127 (int16).
          const __m256i plo = _mm256_maddubs_epi16(lo, bcast4(ab[t] + 4 + 64 * ch + 4 * c));
          const __m256i phi = _mm256_maddubs_epi16(hi, bcast4(ab[t] + 4 + 64 * ch + 32 + 4 * c));
          const int k = 8 * t + (lanes == 8 ? c : 0);
#if PG_VNNI
          part[k] = _mm256_dpwssd_epi32(_mm256_dpwssd_epi32(part[k], plo, sc_lo[ch]), phi, sc_hi[ch]);
#else
          part[k] = _mm256_add_epi32(part[k], _mm256_add_epi32(_mm256_madd_epi16(plo, sc_lo[ch]), _mm256_madd_epi16(phi, sc_hi[ch])));
#endif
        }
      }
    }
    const __m256 dv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const __m256 mv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pb + 16)));
    for (int t = 0; t < T; t++) {
      const __m256 dat = _mm256_broadcast_ss(da + t * nb + b);
      const __m256 m = _mm256_cvtepi32_ps(msum[t]);
      if (order == PG_ORDER_ONE_ROW) {
        const __m256 sd = _mm256_mul_ps(dv, dat);
        for (int j = 0; j < 8; j++) acc[8 * t + j] = _mm256_fmadd_ps(sd, _mm256_cvtepi32_ps(part[8 * t + j]), acc[8 * t + j]);
        accm[t] = _mm256_fnmadd_ps(m, _mm256_mul_ps(mv, dat), accm[t]);
      } else if (order == PG_ORDER_BATCHED) {
        const __m256 r = _mm256_fnmadd_ps(mv, m, _mm256_mul_ps(_mm256_cvtepi32_ps(part[8 * t]), dv));
        acc[8 * t] = _mm256_fmadd_ps(r, dat, acc[8 * t]);
      } else {
        acc[8 * t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(part[8 * t]), _mm256_mul_ps(dv, dat), acc[8 * t]);
        acc[8 * t] = _mm256_fnmadd_ps(m, _mm256_mul_ps(mv, dat), acc[8 * t]);
      }
    }
  }
  for (int t = 0; t < T; t++)
    store_rows8(y + t * y_stride, order == PG_ORDER_ONE_ROW ? _mm256_add_ps(fold8(acc + 8 * t), accm[t]) : acc[8 * t],
                valid_rows);
}

// One-row-order tiles of more than two activation rows run as pairs (16 float and 16 integer sums
// per pair already fill the registers).
INL void q5_k_tiles(const int T, const int order, const uint8_t *group, int nb, const uint8_t *a, size_t a_stride,
                    const float *da, const int32_t *aux, float *y, size_t y_stride, int valid_rows) {
  if (order != PG_ORDER_ONE_ROW || T <= 2) {
    q5_k_tile(T, order, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
    return;
  }
  q5_k_tile(2, order, group, nb, a, a_stride, da, aux, y, y_stride, valid_rows);
  q5_k_tile(T - 2, order, group, nb, a + 2 * a_stride, a_stride, da + 2 * nb, aux + 2 * nb * 4, y + 2 * y_stride,
            y_stride, valid_rows);
}
