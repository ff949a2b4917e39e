// Packed Q4_1 and Q8_0 tiles on 512-bit vectors, for the AVX-512 build (PG_ZMM). Included by
// kernels_impl.h after packed_tile (kernels_packed_q8.h), whose arithmetic these reproduce bit for bit.
//
// packed_tile keeps, per activation row, eight 8-lane partial sums: lane r is weight row r of the
// group, partial j covers elements 4j..4j+3 of a 32-element run. Here one 16-lane vector holds two
// of them side by side: lane 2r partial c of row r, lane 2r + 1 partial c + 4 of row r. Every lane
// still sees the same operations in the same order (integer dot of 4 elements, convert, multiply-add
// by the same scale, then the same fold), so each output equals packed_tile's, while each
// instruction does twice the work; on cores with full-width 512-bit units (Zen 5) that halves the
// cost per activation row, which is what verifying several draft tokens in one pass pays for.
//
// The activations of partials c and c + 4 are dwords c and c + 4 of a block's 32 bytes. The tile
// reads them from a copy with dwords reordered 0 4 1 5 2 6 3 7, so each pair is one 8-byte
// broadcast from memory: no shuffle per activation row.

// Scratch capacity in 32-byte activation blocks (the reordered copy of one span of rows) on the
// stack (Q5_0), and in this thread's heap buffer of Q4_1/Q8_0 spans (zmm_pair_span_buffer), where
// spans of up to PG_PAIR_SPAN_ROWS rows let each group's codes, permuted once, serve several tiles.
enum { PG_PAIR_CAPACITY = 1024, PG_PAIR_SPAN_BLOCKS = 8192, PG_PAIR_SPAN_ROWS = 64 };

// A per-thread scratch buffer of at least `bytes`, 64-byte aligned: `*buffer` and `*capacity` are
// the caller's own thread-local pair. It grows to the largest request and is kept (products come
// back at the same few sizes); NULL when memory runs out, and the caller then takes a path without it.
static void *thread_scratch(void **buffer, size_t *capacity, size_t bytes) {
  if (bytes > *capacity) {
    free(*buffer);
    *buffer = aligned_alloc(64, (bytes + 63) / 64 * 64);
    *capacity = *buffer ? bytes : 0;
  }
  return *buffer;
}

// This thread's buffer for a span's reordered activations (32 bytes a block) and then, for Q8_0,
// their starting values (32 bytes a block): PG_PAIR_SPAN_BLOCKS of each (the product takes the
// 256-bit tiles without it).
static uint8_t *zmm_pair_span_buffer(void) {
  static __thread void *buffer;
  static __thread size_t capacity;
  return thread_scratch(&buffer, &capacity, (size_t)PG_PAIR_SPAN_BLOCKS * 64);
}

// Copies rows [0, n) of Q8 activations (a_hdr header bytes, then 32 codes per block) into `pairs`,
// [n][nb][32] bytes, with dwords reordered 0 4 1 5 2 6 3 7.
INL void zmm_pair_activations(const uint8_t *a, size_t a_stride, int ab_bytes, int a_hdr, int n, int nb,
                              uint8_t *pairs) {
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int t = 0; t < n; t++)
    for (int b = 0; b < nb; b++) {
      const __m256i v = _mm256_loadu_si256((const __m256i *)(a + t * a_stride + (size_t)b * ab_bytes + a_hdr));
      _mm256_storeu_si256((__m256i *)(pairs + ((size_t)t * nb + b) * 32), _mm256_permutevar8x32_epi32(v, order));
    }
}

// The group's weight codes of partials c (even lanes) and c + 4 (odd lanes), unsigned: Q8_0's w as
// w ⊕ 0x80 = w + 128, whose extra 128·Σy the dot's starting value takes back out (pair_corrections).
INL __m512i zmm_pair_codes(const int type, const uint8_t *codes, int c) {
  if (type == PG_Q4_1) {
    // Row r's dword in qword r: its low nibbles stay in the low dword, its high nibbles are
    // shifted into the high dword.
    const __m512i q = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(codes + 32 * c)));
    return _mm512_and_si512(_mm512_or_si512(q, _mm512_slli_epi64(q, 28)), _mm512_set1_epi8(0x0F));
  }
  const __m512i index = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i w = _mm512_permutex2var_epi32(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(codes + 32 * c))),
                                              index,
                                              _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(codes + 32 * (c + 4)))));
  return _mm512_xor_si512(w, _mm512_set1_epi8((char)0x80));
}

// All nb blocks' codes of a group in pair order (zmm_pair_codes), block b's partial pair c at
// codes[4b + c]: made once when several tiles of activation rows read the same group, so each tile
// loads them instead of permuting them again.
INL void zmm_pair_group(const int type, const uint8_t *group, int nb, __m512i *codes) {
  const int header = type == PG_Q4_1 ? 32 : 16;
  const int block_bytes = type == PG_Q4_1 ? 160 : 272;
  for (int b = 0; b < nb; b++)
    for (int c = 0; c < 4; c++) codes[4 * b + c] = zmm_pair_codes(type, group + (size_t)b * block_bytes + header, c);
}

// This thread's buffer for zmm_pair_group (the tiles permute the codes themselves without it).
static __m512i *zmm_pair_group_buffer(int nb) {
  static __thread void *buffer;
  static __thread size_t capacity;
  return thread_scratch(&buffer, &capacity, (size_t)nb * 4 * sizeof(__m512i));
}

// Q8_0's starting values, corr[(t·nb + b)·8 + 2c + h] = −128·Σ of the 4 activation codes of partial
// c + 4h (pair order, one 8-byte broadcast per partial pair), for rows [0, n) of the span.
INL void pair_corrections(const uint8_t *a, size_t a_stride, int n, int nb, int32_t *corr) {
  for (int t = 0; t < n; t++)
    for (int b = 0; b < nb; b++)
      _mm256_storeu_si256((__m256i *)(corr + ((size_t)t * nb + b) * 8),
                          neg_partial_sums(a + t * a_stride + (size_t)b * 34 + 2, 7, 1));
}

// Even lanes of v as 8 floats.
INL __m256 zmm_even_lanes(__m512 v) {
  const __m512i index = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps256(_mm512_permutexvar_ps(index, v));
}

// fold8's order on four paired accumulators (lane 2r partial c, lane 2r + 1 partial c + 4):
// h[c] = partial c + partial c+4 (addition commutes bitwise), then (h0 + h2) + (h1 + h3), as 8
// floats (one per weight row).
INL __m256 zmm_fold_pairs(const __m512 *acc) {
  __m512 h[4];
  for (int c = 0; c < 4; c++) h[c] = _mm512_add_ps(acc[c], _mm512_permute_ps(acc[c], 0xB1));
  return zmm_even_lanes(_mm512_add_ps(_mm512_add_ps(h[0], h[2]), _mm512_add_ps(h[1], h[3])));
}

// packed_tile for Q4_1 and Q8_0 (either order) on 512-bit vectors, T ≤ 4 activation rows whose
// reordered blocks are `pairs` ([T][nb][32] bytes, row stride nb·32); Q8_0's starting values `corr`
// (pair_corrections).
INL void packed_tile_zmm(const int type, const int fast, const int T, const uint8_t *group, int nb, const uint8_t *pairs,
                         const float *da, const float *sa, const int32_t *corr, float *y, size_t y_stride, int valid_rows,
                         const uint8_t *next, const __m512i *codes) {
  const int header = type == PG_Q4_1 ? 32 : 16;
  const int block_bytes = type == PG_Q4_1 ? 160 : 272;
  const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  __m512 acc[4 * PG_TILE_T];  // exact: [t][c]; fast: acc[t], the sum in every lane pair
  __m256 accm[PG_TILE_T];
  for (int t = 0; t < T; t++) {
    accm[t] = _mm256_setzero_ps();
    for (int c = 0; c < 4; c++) acc[4 * t + c] = _mm512_setzero_ps();
  }
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * block_bytes;
    if (next)
      for (int line = 0; line < block_bytes; line += 64)
        _mm_prefetch((const char *)(next + (size_t)b * block_bytes + line), _MM_HINT_T0);
    // Row r's weight scale in lanes 2r and 2r + 1.
    const __m512 dw = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb))));
    __m512 scale[PG_TILE_T];
    __m512i sum[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      scale[t] = _mm512_mul_ps(dw, _mm512_set1_ps(da[t * nb + b]));
      sum[t] = _mm512_setzero_si512();
    }
    for (int c = 0; c < 4; c++) {
      const __m512i w = codes ? codes[4 * b + c] : zmm_pair_codes(type, pb + header, c);
      for (int t = 0; t < T; t++) {
        int64_t pair, start = 0;
        memcpy(&pair, pairs + ((size_t)t * nb + b) * 32 + 8 * c, 8);
        if (type == PG_Q8_0) memcpy(&start, corr + ((size_t)t * nb + b) * 8 + 2 * c, 8);
        const __m512i yc = _mm512_set1_epi64(pair);
        if (fast) {
          sum[t] = _mm512_dpbusd_epi32(type == PG_Q8_0 ? _mm512_add_epi32(sum[t], _mm512_set1_epi64(start)) : sum[t], w, yc);
        } else {
          const __m512 s = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_set1_epi64(start), w, yc));
          acc[4 * t + c] = _mm512_fmadd_ps(scale[t], s, acc[4 * t + c]);
        }
      }
    }
    if (fast)
      for (int t = 0; t < T; t++) {
        // The eight partials added in integers (any order gives the same sum), scaled once.
        const __m512i s = _mm512_add_epi32(sum[t], _mm512_shuffle_epi32(sum[t], _MM_PERM_CDAB));
        acc[4 * t] = _mm512_fmadd_ps(scale[t], _mm512_cvtepi32_ps(s), acc[4 * t]);
      }
    if (type == PG_Q4_1) {
      const __m256 mw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(pb + 16)));
      for (int t = 0; t < T; t++) accm[t] = _mm256_fmadd_ps(mw, _mm256_broadcast_ss(sa + t * nb + b), accm[t]);
    }
  }
  for (int t = 0; t < T; t++) {
    __m256 out = fast ? zmm_even_lanes(acc[4 * t]) : zmm_fold_pairs(acc + 4 * t);
    if (type == PG_Q4_1) out = _mm256_add_ps(out, accm[t]);
    store_rows8(y + t * y_stride, out, valid_rows);
  }
}

// Rows [0, m) of a span (m ≤ span, reordered in `pairs`) against one group, PG_TILE_T at a time. The
// first tile also prefetches the next group (`next`, group_bytes on): the hardware prefetcher alone
// falls behind a stream consumed this slowly, and several activation rows leave time to fetch.
INL void packed_tiles_zmm(const int type, const int fast, int m, const uint8_t *group, int nb, const uint8_t *pairs,
                          const float *da, const float *sa, const int32_t *corr, float *y, size_t y_stride, int valid,
                          const uint8_t *next) {
  enum { T = PG_TILE_T };
  // Codes permuted once for all tiles when there are several (a decode step's one row keeps the
  // direct path: a copy would only add a store and a load).
  const __m512i *codes = NULL;
  if (m >= 2 * T) {
    __m512i *buffer = zmm_pair_group_buffer(nb);
    if (buffer) zmm_pair_group(type, group, nb, buffer);
    codes = buffer;
  }
#define PG_PAIR_TILE(n, off, from)                                                                                  \
  packed_tile_zmm(type, fast, n, group, nb, pairs + (size_t)(off) * nb * 32, da + (off) * nb, sa + (off) * nb,      \
                  corr + (size_t)(off) * nb * 8, y + (off) * y_stride, y_stride, valid, next, from)
  // Two loops, so each tile is compiled knowing where its codes come from (one branch per code
  // vector cost registers and spilled the accumulators); the last partial tile permutes its own.
  int t = 0;
  if (codes)
    for (; t + T <= m; t += T, next = NULL) PG_PAIR_TILE(T, t, codes);
  else
    for (; t + T <= m; t += T, next = NULL) PG_PAIR_TILE(T, t, NULL);
  switch (m - t) {
  case 1: PG_PAIR_TILE(1, t, NULL); break;
  case 2: PG_PAIR_TILE(2, t, NULL); break;
  case 3: PG_PAIR_TILE(3, t, NULL); break;
  default: break;
  }
#undef PG_PAIR_TILE
}

// Q5_0 in llama.cpp's order (q5_0_tile in kernels_packed_k.h) on 512-bit vectors, the same pairing:
// lane 2r partial c of row r, lane 2r + 1 partial c + 4. `pairs` holds the activations reordered
// as above; corr[(t·nb + b)·8 + 2c + h] = −16·Σ of the 4 activation codes of partial c + 4h (the
// dot's starting value; pair order, so one 8-byte broadcast per partial pair).
INL void q5_0_tile_zmm(const int T, const uint8_t *group, int nb, const uint8_t *pairs, const float *da,
                       const int32_t *corr, float *y, size_t y_stride, int valid_rows) {
  const __m512i dup = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  __m512 acc[4 * PG_TILE_T];
  for (int j = 0; j < 4 * T; j++) acc[j] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *pb = group + (size_t)b * PG_Q5_0_GROUP_BLOCK;
    const __m512 dw = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)pb))));
    // Row r's bit planes in both dwords of qword r.
    const __m512i p = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(pb + 16)));
    const __m512i planes = _mm512_or_si512(p, _mm512_slli_epi64(p, 32));
    __m512 scale[PG_TILE_T];
    for (int t = 0; t < T; t++) scale[t] = _mm512_mul_ps(dw, _mm512_set1_ps(da[t * nb + b]));
    for (int c = 0; c < 4; c++) {
      const __m512i q = _mm512_cvtepu32_epi64(_mm256_loadu_si256((const __m256i *)(pb + 48 + 32 * c)));
      const __m512i nib = _mm512_and_si512(_mm512_or_si512(q, _mm512_slli_epi64(q, 28)), _mm512_set1_epi8(0x0F));
      // Fifth bits: plane 2c for the low nibbles (even dwords), 2c + 1 for the high ones (odd).
      const __m512i bits = _mm512_set1_epi64(
          (long long)(0x01010101ULL * (1u << (2 * c)) | (0x01010101ULL * (1u << (2 * c + 1))) << 32));
      const __mmask64 k = _mm512_test_epi8_mask(planes, bits);
      const __m512i w = _mm512_mask_add_epi8(nib, k, nib, _mm512_set1_epi8(16));
      for (int t = 0; t < T; t++) {
        int64_t pair, start;
        memcpy(&pair, pairs + ((size_t)t * nb + b) * 32 + 8 * c, 8);
        memcpy(&start, corr + ((size_t)t * nb + b) * 8 + 2 * c, 8);
        const __m512i s = _mm512_dpbusd_epi32(_mm512_set1_epi64(start), w, _mm512_set1_epi64(pair));
        acc[4 * t + c] = _mm512_fmadd_ps(scale[t], _mm512_cvtepi32_ps(s), acc[4 * t + c]);
      }
    }
  }
  for (int t = 0; t < T; t++) store_rows8(y + t * y_stride, zmm_fold_pairs(acc + 4 * t), valid_rows);
}
