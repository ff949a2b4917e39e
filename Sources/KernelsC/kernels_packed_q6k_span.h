// Q6_K in the batched and fast orders for a pair of groups against a whole span of activation rows,
// super-block by super-block: each super-block's codes are unpacked once (q6_quad_zmm) into a 4 KB
// buffer that every row of the span then reads, where q6_k_fast_zmm unpacks them again for every
// tile of PG_TILE_T rows. Each row's float sum lives in `acc` between super-blocks; the integer sums
// and the float steps are q6_k_fast_zmm's, so the bits are the same. Included by kernels_packed_kzmm.h.
//
// The span flips the dot product's operands: the codes become signed (q, −32..31) and the activations
// unsigned (y + 128, a copy q6_biased_activations makes once per product), so
//   Σ sc·Σ q·y = Σ sc·Σ q·(y + 128) − 128·Σ sc·Σ q,
// and the last term depends on the weights alone: one value per row and super-block for the whole
// span, where q6_k_fast_zmm pays eight madds per tile for Q8_K's −32·Σ sc·bsum. Integer sums are
// exact, so the bits do not change.

enum { PG_Q6_SPAN = 64 };  // rows per call: their sums (4 KB) stay in L1 beside the codes

// This thread's buffer for q6_biased_activations (thread_scratch; the product takes the tiles
// without it).
static uint8_t *q6_span_buffer(size_t bytes) {
  static __thread void *buffer;
  static __thread size_t capacity;
  return thread_scratch(&buffer, &capacity, bytes);
}

// Activation codes of n rows as y + 128 (unsigned), 256 bytes per super-block, rows `cols` bytes
// apart. `out` holds n·cols bytes.
INL void q6_biased_activations(const uint8_t *a, size_t a_stride, int n, int nb, uint8_t *out) {
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  for (int t = 0; t < n; t++)
    for (int b = 0; b < nb; b++)
      for (int i = 0; i < 4; i++) {
        const __m512i v = _mm512_loadu_si512(a + (size_t)t * a_stride + (size_t)b * 292 + 4 + 64 * i);
        _mm512_storeu_si512(out + ((size_t)t * nb + b) * 256 + 64 * i, _mm512_xor_si512(v, flip));
      }
}

// Rows [0, T) of the span (T ≤ 4) for super-block b: codes[16q + 4c + j] are sub-block 4q + j's
// chunk c (signed), sc[sb] its scales, `bias` 128·Σ sc·Σ q per row; `yb` the first row's biased
// codes of this super-block, rows y_stride bytes apart.
INL void q6_k_span_tile(const int T, const int tiled, const __m512i *codes, const __m512i *sc, __m512i bias, __m512 dv,
                        const uint8_t *yb, size_t y_stride, const float *da, int nb, float *acc) {
  __m512i sum[PG_TILE_T];
  for (int t = 0; t < T; t++) sum[t] = _mm512_setzero_si512();
  for (int q = 0; q < 4; q++) {
    __m512i qs[PG_TILE_T][4];
    for (int t = 0; t < T; t++)
      for (int j = 0; j < 4; j++) qs[t][j] = _mm512_setzero_si512();
    for (int c = 0; c < 4; c++)
      for (int j = 0; j < 4; j++) {
        const __m512i w = codes[16 * q + 4 * c + j];
        for (int t = 0; t < T; t++)
          qs[t][j] = _mm512_dpbusd_epi32(qs[t][j], bcast4_zmm(yb + t * y_stride + 16 * (4 * q + j) + 4 * c), w);
      }
    for (int j = 0; j < 4; j++)
      for (int t = 0; t < T; t++) sum[t] = _mm512_add_epi32(sum[t], _mm512_mullo_epi32(qs[t][j], sc[4 * q + j]));
  }
  for (int t = 0; t < T; t++) {
    const __m512i sumi = _mm512_sub_epi32(sum[t], bias);
    const __m512 dat = _mm512_set1_ps(da[t * nb]);
    const __m512 a = _mm512_loadu_ps(acc + 16 * t);
    _mm512_storeu_ps(acc + 16 * t, tiled ? _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(sumi), dv), dat, a)
                                         : _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi), _mm512_mul_ps(dv, dat), a));
  }
}

// m ≤ PG_Q6_SPAN activation rows against a pair of groups; `yb` their biased codes
// (q6_biased_activations), nb·256 bytes a row; `tiled` as in q6_k_fast.
INL void q6_k_span_zmm(const int tiled, const uint8_t *g0, const uint8_t *g1, int nb, const uint8_t *yb, int m,
                       const float *da, float *y, size_t y_stride, int valid_rows) {
  const size_t yb_stride = (size_t)nb * 256;
  float acc[PG_Q6_SPAN * 16];
  __m512i codes[64], sc[16];
  for (int i = 0; i < 16 * m; i++) acc[i] = 0.0f;
  for (int b = 0; b < nb; b++) {
    const uint8_t *p0 = g0 + (size_t)b * PG_Q6_K_GROUP_BLOCK, *p1 = g1 + (size_t)b * PG_Q6_K_GROUP_BLOCK;
    const __m512i offset = _mm512_set1_epi8(32), ones = _mm512_set1_epi8(1);
    __m512i bias = _mm512_setzero_si512();
    for (int sb = 0; sb < 16; sb++) sc[sb] = q6_scale_zmm(p0, p1, sb);
    for (int q = 0; q < 4; q++) {
      __m512i part[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
      for (int c = 0; c < 4; c++) {
        __m512i *w = codes + 16 * q + 4 * c;
        q6_quad_zmm(p0, p1, q, c, w);
        for (int j = 0; j < 4; j++) {
          w[j] = _mm512_sub_epi8(w[j], offset);
          part[j] = _mm512_dpbusd_epi32(part[j], ones, w[j]);  // Σ q over the chunk, per row
        }
      }
      for (int j = 0; j < 4; j++) bias = _mm512_add_epi32(bias, _mm512_mullo_epi32(part[j], sc[4 * q + j]));
    }
    bias = _mm512_slli_epi32(bias, 7);
    const __m512 dv = _mm512_cvtph_ps(load2_128(p0, p1));
    const uint8_t *yt = yb + (size_t)b * 256;
    // Tiles of PG_TILE_T rows, then the rest in one tile whose size is a compile-time constant.
    for (int t = 0; t < m; t += PG_TILE_T) {
#define PG_Q6_SPAN_TILE(n) \
  q6_k_span_tile(n, tiled, codes, sc, bias, dv, yt + t * yb_stride, yb_stride, da + t * nb + b, nb, acc + 16 * t)
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
