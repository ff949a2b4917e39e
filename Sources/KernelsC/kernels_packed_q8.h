// Packed Q4_1 and Q8_0 tiles on 256-bit vectors (layout in pack.c), in llama.cpp's order and the
// fast order. Included by kernels_impl.h once per instruction set; the 512-bit pairs that reproduce
// them bit for bit are in kernels_packed_zmm.h.

// Q4_1: for activation row t and each of the group's 8 rows (one per lane), the eight partial sums
// over elements 4j..4j+3 of the block, kept apart in s[8t + j] (j < 4: low nibbles of chunk j;
// j ≥ 4: high nibbles of chunk j − 4). llama.cpp scales and accumulates these eight partials
// separately (one float lane each) before its final horizontal sum; doing the same keeps every
// output bit-identical to it, which matters because a one-ulp difference can flip a Q8 rounding
// of the next layer's input and grow from there.
INL void packed_block_q4_1(const int T, const uint8_t *codes, const uint8_t *const *ya, __m256i *s) {
  const __m256i mask = _mm256_set1_epi8(0x0F);
  for (int c = 0; c < 4; c++) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
    const __m256i lo = _mm256_and_si256(v, mask);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    for (int t = 0; t < T; t++) {
      s[8 * t + c] = dot_u8s8(lo, bcast4(ya[t] + 4 * c));
      s[8 * t + 4 + c] = dot_u8s8(hi, bcast4(ya[t] + 16 + 4 * c));
    }
  }
}

// Q4_1 in the fast order: a block's eight partial sums added in integers (per activation row t, one
// lane per weight row), scaled once.
INL void packed_block_q4_1_fast(const int T, const uint8_t *codes, const uint8_t *const *ya, __m256i *s) {
  const __m256i mask = _mm256_set1_epi8(0x0F);
  __m256i s0[PG_TILE_T], s1[PG_TILE_T];
  for (int t = 0; t < T; t++) s0[t] = s1[t] = _mm256_setzero_si256();
  for (int c = 0; c < 4; c++) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
    const __m256i lo = _mm256_and_si256(v, mask);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    for (int t = 0; t < T; t++) {
      s0[t] = _mm256_add_epi32(s0[t], dot_u8s8(lo, bcast4(ya[t] + 4 * c)));
      s1[t] = _mm256_add_epi32(s1[t], dot_u8s8(hi, bcast4(ya[t] + 16 + 4 * c)));
    }
  }
  for (int t = 0; t < T; t++) s[t] = _mm256_add_epi32(s0[t], s1[t]);
}

// Q8_0 in the fast order: a block's chunks added in integers (one lane per weight row), scaled once.
INL void packed_block_q8_0_fast(const int T, const uint8_t *codes, const uint8_t *const *ya, __m256i *s) {
  __m256i s0[PG_TILE_T], s1[PG_TILE_T];
  for (int t = 0; t < T; t++) s0[t] = s1[t] = _mm256_setzero_si256();
  for (int c = 0; c < 8; c++) {
    const __m256i w = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
    const __m256i aw = _mm256_sign_epi8(w, w);
    for (int t = 0; t < T; t++) {
      const __m256i y = _mm256_sign_epi8(bcast4(ya[t] + 4 * c), w);
      if (c & 1) s1[t] = _mm256_add_epi32(s1[t], dot_u8s8(aw, y));
      else s0[t] = _mm256_add_epi32(s0[t], dot_u8s8(aw, y));
    }
  }
  for (int t = 0; t < T; t++) s[t] = _mm256_add_epi32(s0[t], s1[t]);
}

// Q8_0: chunk c holds elements 4c..4c+3, so its dot is partial sum c; signs moved onto the activations
// (|w| · sign(y, w)) keep the u8 × s8 products exact.
INL void packed_block_q8_0(const int T, const uint8_t *codes, const uint8_t *const *ya, __m256i *s) {
  for (int c = 0; c < 8; c++) {
    const __m256i w = _mm256_loadu_si256((const __m256i *)(codes + 32 * c));
    const __m256i aw = _mm256_sign_epi8(w, w);
    for (int t = 0; t < T; t++) s[8 * t + c] = dot_u8s8(aw, _mm256_sign_epi8(bcast4(ya[t] + 4 * c), w));
  }
}

// da/sa: the activation rows' block scales (and Q4_1 scaled sums) as f32, [T][nb] with row stride
// `nb`, so each block costs one broadcast multiply and one FMA per activation row.
INL void packed_tile(const int type, const int fast, const int T, const uint8_t *group, int nb, const uint8_t *a,
                     size_t a_stride, const float *da, const float *sa, float *y, size_t y_stride, int valid_rows) {
  const int header = type == PG_Q4_1 ? 32 : 16;
  const int block_bytes = type == PG_Q4_1 ? 160 : 272;
  const int ab_bytes = type == PG_Q4_1 ? 36 : 34;
  const int a_hdr = type == PG_Q4_1 ? 4 : 2;
  // llama.cpp's order keeps eight accumulators per activation row, one per 4-element partial sum (see
  // packed_block_q4_1); the fast order one.
  const int lanes = fast ? 1 : 8;
  __m256 acc[8 * PG_TILE_T], accm[PG_TILE_T];
  for (int t = 0; t < T; t++) {
    accm[t] = _mm256_setzero_ps();
    for (int j = 0; j < lanes; j++) acc[8 * t + j] = _mm256_setzero_ps();
  }
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * block_bytes;
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb));
    const uint8_t *ya[PG_TILE_T];
    for (int t = 0; t < T; t++) ya[t] = a + t * a_stride + (size_t)b * ab_bytes + a_hdr;
    if (fast) {
      __m256i s[PG_TILE_T];
      if (type == PG_Q4_1) packed_block_q4_1_fast(T, pb + header, ya, s);
      else packed_block_q8_0_fast(T, pb + header, ya, s);
      for (int t = 0; t < T; t++) {
        const __m256 scale = _mm256_mul_ps(dw, _mm256_broadcast_ss(da + t * nb + b));
        acc[8 * t] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s[t]), acc[8 * t]);
      }
    } else {
      __m256i s[8 * PG_TILE_T];
      if (type == PG_Q4_1) packed_block_q4_1(T, pb + header, ya, s);
      else packed_block_q8_0(T, pb + header, ya, s);
      for (int t = 0; t < T; t++) {
        const __m256 scale = _mm256_mul_ps(dw, _mm256_broadcast_ss(da + t * nb + b));
        for (int j = 0; j < 8; j++) acc[8 * t + j] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(s[8 * t + j]), acc[8 * t + j]);
      }
    }
    if (type == PG_Q4_1) {
      const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pb + 16)));
      for (int t = 0; t < T; t++) accm[t] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(sa + t * nb + b), accm[t]);
    }
  }
  for (int t = 0; t < T; t++) {
    // Per row: the (folded) partials, then (Q4_1) the minimum term.
    __m256 sum = fast ? acc[8 * t] : fold8(acc + 8 * t);
    if (type == PG_Q4_1) sum = _mm256_add_ps(sum, accm[t]);
    store_rows8(y + t * y_stride, sum, valid_rows);
  }
}

// Exact-order tiles of more than two activation rows run as pairs: eight float accumulators per
// row would need 32+ registers at four rows and spill.
INL void packed_tile_split(const int type, const int fast, const int T, const uint8_t *group, int nb, const uint8_t *a,
                           size_t a_stride, const float *da, const float *sa, float *y, size_t y_stride, int valid_rows) {
  if (fast || T <= 2) {
    packed_tile(type, fast, T, group, nb, a, a_stride, da, sa, y, y_stride, valid_rows);
    return;
  }
  packed_tile(type, fast, 2, group, nb, a, a_stride, da, sa, y, y_stride, valid_rows);
  packed_tile(type, fast, T - 2, group, nb, a + 2 * a_stride, a_stride, da + 2 * nb, sa + 2 * nb, y + 2 * y_stride,
              y_stride, valid_rows);
}
