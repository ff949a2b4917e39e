// SIMD kernel bodies, included once per instruction set by kernels_avx2.c and kernels_avx512.c.
// The includer defines:
//   PG_FN(name)   the per-ISA function name
//   PG_TARGET     the target attribute for every function here
//   PG_ZMM        1 to run packed Q4_1/Q8_0 tiles on 512-bit vectors (kernels_packed_zmm.h)
//   PG_VNNI       1 to use vpdpbusd (AVX-512 VNNI) for u8×s8 dot products, 0 for vpmaddubsw/vpmaddwd
//   PG_TILE_R/T   weight rows × activation rows per register tile in the matrix-matrix path
//   PG_FTILE_R    weight rows per register tile of the float (F32/F16) path (PG_TILE_T activation rows)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "KernelsC.h"

#define INL static inline __attribute__((always_inline)) PG_TARGET

INL float half_at(const uint8_t *p) {
  uint16_t h;
  memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

INL void store_half(uint8_t *p, float v) {
  uint16_t h = (uint16_t)_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT);
  memcpy(p, &h, 2);
}

// Eight int32 partial sums of u[i]·s[i] over 32 unsigned × signed bytes.
INL __m256i dot_u8s8(__m256i u, __m256i s) {
#if PG_VNNI
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  // maddubs pairs stay below 2·255·127 only for u ≤ 128; callers keep u ≤ 128.
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// −2^shift × the eight 4-code sums of a Q8 activation block's 32 codes, in the dword order `pairs`
// reorders a block (0 4 1 5 2 6 3 7) when `paired`: the starting values of dots whose weight codes
// carry an offset of 2^shift (Q5_0's 16, Q8_0's 128 on the 512-bit tiles).
INL __m256i neg_partial_sums(const uint8_t *codes, int shift, int paired) {
  const __m256i sums = dot_u8s8(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)codes));
  const __m256i neg = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_sll_epi32(sums, _mm_cvtsi32_si128(shift)));
  return paired ? _mm256_permutevar8x32_epi32(neg, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)) : neg;
}

// 32 nibbles: low nibbles of the 16 bytes are elements 0..15, high nibbles 16..31 (ggml order).
INL __m256i unpack_nibbles(const uint8_t *q) {
  __m128i v = _mm_loadu_si128((const __m128i *)q);
  __m128i m = _mm_set1_epi8(0x0F);
  __m128i lo = _mm_and_si128(v, m);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
  return _mm256_set_m128i(hi, lo);
}

INL float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

INL int hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

int PG_TARGET PG_FN(quantize_q8)(const float *x, void *dst, int count, int with_sum) {
  const int block_bytes = with_sum ? 36 : 34;
  const int header = with_sum ? 4 : 2;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  uint8_t *out = (uint8_t *)dst;
  for (int b = 0; b < count / 32; b++) {
    const float *xb = x + 32 * b;
    uint8_t *block = out + (size_t)b * block_bytes;
    __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
    __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    // cvtps rounds to nearest even under the default MXCSR, as the Swift twin's .toNearestOrEven.
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
    if (with_sum) {
      int sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3)));
      store_half(block + 2, d * (float)sum);
    }
    // packs works within 128-bit lanes; the permute restores element order.
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    p = _mm256_permutevar8x32_epi32(p, order);
    _mm256_storeu_si256((__m256i *)(block + header), p);
    store_half(block, d);
  }
  return 1;
}

// One R×T register tile of a quantized matrix product: weight rows w[0..R) (w_stride apart) against
// activation rows a[0..T) (a_stride apart), all nb blocks; y[t*y_stride + r].
INL void tile_q(const int type, const int R, const int T, const uint8_t *w, size_t w_stride, const uint8_t *a,
                size_t a_stride, int nb, float *y, size_t y_stride) {
  const int wb_bytes = type == PG_Q4_0 ? 18 : type == PG_Q4_1 ? 20 : 34;
  const int ab_bytes = type == PG_Q4_1 ? 36 : 34;
  const int a_hdr = type == PG_Q4_1 ? 4 : 2;
  __m256 acc[PG_TILE_R][PG_TILE_T];
  float mins[PG_TILE_R][PG_TILE_T];
  for (int r = 0; r < R; r++)
    for (int t = 0; t < T; t++) {
      acc[r][t] = _mm256_setzero_ps();
      mins[r][t] = 0;
    }
  for (int b = 0; b < nb; b++) {
    __m256i ya[PG_TILE_T], ycorr[PG_TILE_T];
    float da[PG_TILE_T], sa[PG_TILE_T];
    for (int t = 0; t < T; t++) {
      const uint8_t *ab = a + t * a_stride + (size_t)b * ab_bytes;
      da[t] = half_at(ab);
      if (type == PG_Q4_1) sa[t] = half_at(ab + 2);
      ya[t] = _mm256_loadu_si256((const __m256i *)(ab + a_hdr));
      // Offsets turning signed weights into unsigned ones are removed exactly in integers:
      // Q4_0 stores w+8, so Σ(w+8)y − 8Σy; with VNNI, Q8_0 uses w⊕0x80 = w+128, so −128Σy.
      if (type == PG_Q4_0) ycorr[t] = dot_u8s8(_mm256_set1_epi8(8), ya[t]);
#if PG_VNNI
      if (type == PG_Q8_0) ycorr[t] = _mm256_slli_epi32(dot_u8s8(_mm256_set1_epi8(1), ya[t]), 7);
#endif
    }
    for (int r = 0; r < R; r++) {
      const uint8_t *wb = w + r * w_stride + (size_t)b * wb_bytes;
      const float dw = half_at(wb);
      float mw = 0;
      __m256i u;
      if (type == PG_Q4_1) {
        mw = half_at(wb + 2);
        u = unpack_nibbles(wb + 4);
      } else if (type == PG_Q4_0) {
        u = unpack_nibbles(wb + 2);
      } else {
        u = _mm256_loadu_si256((const __m256i *)(wb + 2));
#if PG_VNNI
        u = _mm256_xor_si256(u, _mm256_set1_epi8((char)0x80));
#endif
      }
#if !PG_VNNI
      __m256i absw = type == PG_Q8_0 ? _mm256_sign_epi8(u, u) : u;
#endif
      for (int t = 0; t < T; t++) {
        __m256i p;
        if (type == PG_Q4_1) {
          p = dot_u8s8(u, ya[t]);
        } else if (type == PG_Q4_0) {
          p = _mm256_sub_epi32(dot_u8s8(u, ya[t]), ycorr[t]);
        } else {
#if PG_VNNI
          p = _mm256_sub_epi32(dot_u8s8(u, ya[t]), ycorr[t]);
#else
          p = dot_u8s8(absw, _mm256_sign_epi8(ya[t], u));
#endif
        }
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * da[t]), acc[r][t]);
        if (type == PG_Q4_1) mins[r][t] += mw * sa[t];
      }
    }
  }
  for (int r = 0; r < R; r++)
    for (int t = 0; t < T; t++) y[t * y_stride + r] = hsum_ps(acc[r][t]) + mins[r][t];
}

// Rows are tiled by R and activation rows by T; activation rows are taken in groups small enough to
// stay in L1 while every weight row tile streams past them.
INL void gemm_q(const int type, const uint8_t *w, size_t w_stride, int r0, int r1, const uint8_t *a,
                size_t a_stride, int n, float *y, size_t y_stride, int nb) {
  enum { R = PG_TILE_R, T = PG_TILE_T };
  int group = (int)(24576 / (a_stride ? a_stride : 1)) / T * T;
  if (group < T) group = T;
  for (int t0 = 0; t0 < n; t0 += group) {
    const int t1 = t0 + group < n ? t0 + group : n;
    int r = r0;
    for (; r + R <= r1; r += R) {
      const uint8_t *wr = w + (size_t)r * w_stride;
      int t = t0;
      for (; t + T <= t1; t += T)
        tile_q(type, R, T, wr, w_stride, a + (size_t)t * a_stride, a_stride, nb, y + (size_t)t * y_stride + r, y_stride);
      for (; t < t1; t++)
        tile_q(type, R, 1, wr, w_stride, a + (size_t)t * a_stride, a_stride, nb, y + (size_t)t * y_stride + r, y_stride);
    }
    for (; r < r1; r++) {
      const uint8_t *wr = w + (size_t)r * w_stride;
      int t = t0;
      for (; t + T <= t1; t += T)
        tile_q(type, 1, T, wr, w_stride, a + (size_t)t * a_stride, a_stride, nb, y + (size_t)t * y_stride + r, y_stride);
      for (; t < t1; t++)
        tile_q(type, 1, 1, wr, w_stride, a + (size_t)t * a_stride, a_stride, nb, y + (size_t)t * y_stride + r, y_stride);
    }
  }
}

INL __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

INL __m256 load8_w(const int is_half, const uint8_t *row, int i) {
  return is_half ? load8_f16((const uint16_t *)row + i) : _mm256_loadu_ps((const float *)row + i);
}

INL float weight_at(const int is_half, const uint8_t *row, int i) {
  return is_half ? _cvtsh_ss(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

// One R×T register tile of a float (F32 or F16) matrix product against f32 activations: weight rows
// w[0..R) (w_stride bytes apart), activation rows x[0..T) (x_stride bytes apart); y[t*y_stride + r].
// Each weight vector is loaded and widened once for the T activation rows, so verifying several
// tokens reads and converts every weight once. Every output is the same arithmetic whatever tile
// it falls in: one 8-lane FMA chain over the columns in order, `hsum_ps`, then the remaining
// columns one fused multiply-add each. So a row's result does not depend on how many rows share
// the call (speculative verification equals one-at-a-time decoding bit for bit), nor on the ISA
// level (AVX-512 uses the same 8-lane chains, more of them, or two per 512-bit vector in the packed
// F16 tiles). `matmulFloatReference` in Kernels is the Swift twin of this order.
INL void tile_f(const int is_half, const int R, const int T, const uint8_t *w, size_t w_stride, const uint8_t *x,
                size_t x_stride, int cols, float *y, size_t y_stride) {
  __m256 acc[2 * PG_FTILE_R][PG_TILE_T];  // 2R rows for a single activation row (gemm_f)
  for (int r = 0; r < R; r++)
    for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= cols; i += 8) {
    __m256 xv[PG_TILE_T];
    for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps((const float *)(x + t * x_stride) + i);
    for (int r = 0; r < R; r++) {
      const __m256 wv = load8_w(is_half, w + r * w_stride, i);
      for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int t = 0; t < T; t++) {
      const float *xt = (const float *)(x + t * x_stride);
      float s = hsum_ps(acc[r][t]);
      for (int j = i; j < cols; j++) s = fmaf(weight_at(is_half, w + r * w_stride, j), xt[j], s);
      y[t * y_stride + r] = s;
    }
}

// A tile of R weight rows against m ≤ PG_TILE_T activation rows, with m a compile-time constant in
// each branch so the accumulators stay in registers.
INL void tile_f_rows(const int is_half, const int R, int m, const uint8_t *w, size_t w_stride, const uint8_t *x,
                     size_t x_stride, int cols, float *y, size_t y_stride) {
  switch (m) {
  case 1: tile_f(is_half, R, 1, w, w_stride, x, x_stride, cols, y, y_stride); break;
#if PG_TILE_T > 2
  case 2: tile_f(is_half, R, 2, w, w_stride, x, x_stride, cols, y, y_stride); break;
  case 3: tile_f(is_half, R, 3, w, w_stride, x, x_stride, cols, y, y_stride); break;
#endif
  default: tile_f(is_half, R, PG_TILE_T, w, w_stride, x, x_stride, cols, y, y_stride); break;
  }
}

// Rows in tiles of PG_FTILE_R (2·PG_FTILE_R for a single activation row, whose tile needs no
// registers for other activation rows: more independent FMA chains), activation rows in tiles of
// PG_TILE_T. Activation rows are taken in groups that stay in L2 while a thread's rows stream past;
// a tile of weight rows stays in L1 while it meets every activation row of the group.
INL void gemm_f(const int is_half, const uint8_t *w, size_t w_stride, int r0, int r1, const uint8_t *a,
                size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  enum { R = PG_FTILE_R, T = PG_TILE_T };
  if (n == 1) {
    int r = r0;
    for (; r + 2 * R <= r1; r += 2 * R)
      tile_f(is_half, 2 * R, 1, w + (size_t)r * w_stride, w_stride, a, a_stride, cols, y + r, y_stride);
    for (; r < r1; r++) tile_f(is_half, 1, 1, w + (size_t)r * w_stride, w_stride, a, a_stride, cols, y + r, y_stride);
    return;
  }
  int group = (int)(262144 / (a_stride ? a_stride : 1)) / T * T;
  if (group < T) group = T;
  for (int t0 = 0; t0 < n; t0 += group) {
    const int t1 = t0 + group < n ? t0 + group : n;
    int r = r0;
    for (; r + R <= r1; r += R) {
      const uint8_t *wr = w + (size_t)r * w_stride;
      for (int t = t0; t < t1; t += T) {
        const int m = t1 - t < T ? t1 - t : T;
        tile_f_rows(is_half, R, m, wr, w_stride, a + (size_t)t * a_stride, a_stride, cols, y + (size_t)t * y_stride + r,
                    y_stride);
      }
    }
    for (; r < r1; r++) {
      const uint8_t *wr = w + (size_t)r * w_stride;
      for (int t = t0; t < t1; t += T) {
        const int m = t1 - t < T ? t1 - t : T;
        tile_f_rows(is_half, 1, m, wr, w_stride, a + (size_t)t * a_stride, a_stride, cols, y + (size_t)t * y_stride + r,
                    y_stride);
      }
    }
  }
}

int PG_TARGET PG_FN(gemm)(int type, const void *w, size_t w_stride, int r0, int r1, const void *act, size_t a_stride,
                          int n, float *y, size_t y_stride, int cols) {
  const uint8_t *wp = (const uint8_t *)w;
  const uint8_t *ap = (const uint8_t *)act;
  switch (type) {
  case PG_Q4_0:
    gemm_q(PG_Q4_0, wp, w_stride, r0, r1, ap, a_stride, n, y, y_stride, cols / 32);
    return 1;
  case PG_Q4_1:
    gemm_q(PG_Q4_1, wp, w_stride, r0, r1, ap, a_stride, n, y, y_stride, cols / 32);
    return 1;
  case PG_Q8_0:
    gemm_q(PG_Q8_0, wp, w_stride, r0, r1, ap, a_stride, n, y, y_stride, cols / 32);
    return 1;
  case PG_F32:
    gemm_f(0, wp, w_stride, r0, r1, ap, a_stride, n, y, y_stride, cols);
    return 1;
  case PG_F16:
    gemm_f(1, wp, w_stride, r0, r1, ap, a_stride, n, y, y_stride, cols);
    return 1;
  default:
    return 0;
  }
}

// ---- Packed (8-row interleaved) weights ----

// Broadcast 4 activation bytes to every 32-bit lane.
INL __m256i bcast4(const uint8_t *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

#include "kernels_prefetch.h"

// A group's 8 outputs, which are adjacent; a padded last group writes only its real rows.
INL void store_rows8(float *y, __m256 sum, int valid_rows) {
  if (valid_rows == 8) {
    _mm256_storeu_ps(y, sum);
  } else {
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid_rows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(y, mask, sum);
  }
}

// The eight partial-sum accumulators of one activation row folded as llama.cpp's horizontal sum
// folds its eight lanes: ((p4 + p0) + (p6 + p2)) + ((p5 + p1) + (p7 + p3)).
INL __m256 fold8(const __m256 *p) {
  const __m256 even = _mm256_add_ps(_mm256_add_ps(p[4], p[0]), _mm256_add_ps(p[6], p[2]));
  const __m256 odd = _mm256_add_ps(_mm256_add_ps(p[5], p[1]), _mm256_add_ps(p[7], p[3]));
  return _mm256_add_ps(even, odd);
}

#include "kernels_packed_q8.h"

#if PG_ZMM
#include "kernels_packed_zmm.h"
#endif

enum { PG_SCALE_CAPACITY = 8192 };

// A prompt's weights are taken in blocks of about PG_WEIGHT_BLOCK bytes (an even number of 8-row
// groups) that stay in L2 while every span of activation rows passes over them. Without the blocks a
// matrix was read again from L3 or memory for each span of 4 rows, and a matrix larger than L3 (an
// 8B model's feed-forward, 33 MB in Q4_0) made prefill memory-bound.
enum { PG_WEIGHT_BLOCK = 1 << 19 };
INL int weight_block_groups(size_t group_bytes) {
  const size_t g = (PG_WEIGHT_BLOCK / (group_bytes ? group_bytes : 1)) & ~(size_t)1;
  return g < 2 ? 2 : g > 1 << 20 ? 1 << 20 : (int)g;
}

// Runs `range(c0, c1)` over [g0, g1) in weight blocks when there are more activation rows than one
// register tile (a decode step takes the whole range at once).
#define PG_IN_WEIGHT_BLOCKS(range)                                                        \
  do {                                                                                    \
    const int block_ = n > PG_TILE_T ? weight_block_groups(group_bytes) : g1 - g0;        \
    for (int c0 = g0; c0 < g1; c0 += block_) {                                            \
      const int c1 = g1 - c0 > block_ ? c0 + block_ : g1;                                 \
      if (!(range)) return 0;                                                             \
    }                                                                                     \
    return 1;                                                                             \
  } while (0)
_Static_assert(PG_TILE_T == 2 || PG_TILE_T == 4, "gemm_packed's remainder switch covers tiles of 2 and 4 rows");

INL int gemm_packed_range(const int type, const int fast, const uint8_t *packed, int rows, int g0, int g1,
                          const uint8_t *a, size_t a_stride, int n, float *y, size_t y_stride, int nb) {
  enum { T = PG_TILE_T };
  if (nb * T > PG_SCALE_CAPACITY) return 0;
  float da[PG_SCALE_CAPACITY], sa[PG_SCALE_CAPACITY];
  const int ab_bytes = type == PG_Q4_1 ? 36 : 34;
  const size_t group_bytes = (size_t)nb * (type == PG_Q4_1 ? 160 : 272);
  // Activation rows per pass: small enough to stay in L1 while the groups stream past.
  int span = (int)(24576 / (a_stride ? a_stride : 1)) / T * T;
  if (span < T) span = T;
  if (span * nb > PG_SCALE_CAPACITY) span = PG_SCALE_CAPACITY / nb / T * T;
#if PG_ZMM
  // The 512-bit tiles read a reordered copy of the span's activations (without memory for it, the
  // 256-bit tiles run). Their spans are longer than the 256-bit tiles' (up to PG_PAIR_SPAN_ROWS
  // rows, up to 512 KB of activations: they are read from L2), so each group's codes, permuted once,
  // serve several tiles.
  uint8_t *pairs = NULL;
  int32_t *corr = NULL;
  int zmm = nb > 0 && nb * T <= PG_PAIR_SPAN_BLOCKS && (pairs = zmm_pair_span_buffer()) != NULL;
  _Static_assert(PG_PAIR_SPAN_BLOCKS <= PG_SCALE_CAPACITY, "a 512-bit span's scales fit da and sa");
  if (zmm) {
    span = PG_PAIR_SPAN_BLOCKS / nb;
    if (span > PG_PAIR_SPAN_ROWS) span = PG_PAIR_SPAN_ROWS;
    span = span / T * T;
    corr = (int32_t *)(pairs + (size_t)span * nb * 32);
  }
#endif
  for (int t0 = 0; t0 < n; t0 += span) {
    const int t1 = t0 + span < n ? t0 + span : n;
    for (int t = t0; t < t1; t++)
      for (int b = 0; b < nb; b++) {
        const uint8_t *ab = a + (size_t)t * a_stride + (size_t)b * ab_bytes;
        da[(t - t0) * nb + b] = half_at(ab);
        if (type == PG_Q4_1) sa[(t - t0) * nb + b] = half_at(ab + 2);
      }
    int g = g0;
#if PG_ZMM
    if (zmm) {
      // All groups on 512-bit vectors (kernels_packed_zmm.h).
      zmm_pair_activations(a + (size_t)t0 * a_stride, a_stride, ab_bytes, type == PG_Q4_1 ? 4 : 2, t1 - t0, nb, pairs);
      if (type == PG_Q8_0) pair_corrections(a + (size_t)t0 * a_stride, a_stride, t1 - t0, nb, corr);
      for (; g < g1; g++) {
        const int valid = rows - 8 * g < 8 ? rows - 8 * g : 8;
        const uint8_t *group = packed + (size_t)g * group_bytes;
        packed_tiles_zmm(type, fast, t1 - t0, group, nb, pairs, da, sa, corr, y + (size_t)t0 * y_stride + 8 * g, y_stride,
                         valid, g + 1 < g1 ? group + group_bytes : NULL);
      }
    }
#endif
    for (; g < g1; g++) {
      const uint8_t *group = packed + (size_t)g * group_bytes;
      const int valid = rows - 8 * g < 8 ? rows - 8 * g : 8;
      int t = t0;
      for (; t + T <= t1; t += T)
        packed_tile_split(type, fast, T, group, nb, a + (size_t)t * a_stride, a_stride, da + (t - t0) * nb, sa + (t - t0) * nb,
                          y + (size_t)t * y_stride + 8 * g, y_stride, valid);
      // The remainder in one pass over the group (one pass per row used to make 7 rows cost as much
      // as 16); a row's result is the same whatever tile it is in.
      const float *dr = da + (t - t0) * nb, *sr = sa + (t - t0) * nb;
      const uint8_t *ar = a + (size_t)t * a_stride;
      float *yr = y + (size_t)t * y_stride + 8 * g;
      switch (t1 - t) {
      case 1: packed_tile(type, fast, 1, group, nb, ar, a_stride, dr, sr, yr, y_stride, valid); break;
#if PG_TILE_T > 2
      case 2: packed_tile(type, fast, 2, group, nb, ar, a_stride, dr, sr, yr, y_stride, valid); break;
      case 3: packed_tile_split(type, fast, 3, group, nb, ar, a_stride, dr, sr, yr, y_stride, valid); break;
#endif
      default: break;
      }
    }
  }
  return 1;
}

INL int gemm_packed(const int type, const int fast, const uint8_t *packed, int rows, int g0, int g1, const uint8_t *a,
                    size_t a_stride, int n, float *y, size_t y_stride, int nb) {
  const size_t group_bytes = (size_t)nb * (type == PG_Q4_1 ? 160 : 272);
  PG_IN_WEIGHT_BLOCKS(gemm_packed_range(type, fast, packed, rows, c0, c1, a, a_stride, n, y, y_stride, nb));
}

#include "kernels_packed_f16.h"

#include "kernels_packed_k.h"

#include "kernels_packed_q4.h"

int PG_TARGET PG_FN(gemm_packed)(int type, const void *packed, int rows, int g0, int g1, const void *act,
                                 size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  // PG_FAST_ORDER wins over PG_BATCHED: the fast order is the same for single and batched rows.
  const int fast = (type & PG_FAST_ORDER) != 0;
  const int order = fast ? PG_ORDER_FAST : (type & PG_BATCHED) ? PG_ORDER_BATCHED : PG_ORDER_ONE_ROW;
  const uint8_t *p = (const uint8_t *)packed, *x = (const uint8_t *)act;
  switch (type & ~(PG_FAST_ORDER | PG_BATCHED)) {
  case PG_Q4_1:
    // Two instantiations, so the exact one keeps its constant-folded eight-lane loops.
    if (fast) return gemm_packed(PG_Q4_1, 1, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols / 32);
    return gemm_packed(PG_Q4_1, 0, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols / 32);
  case PG_Q8_0:
    if (fast) return gemm_packed(PG_Q8_0, 1, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols / 32);
    return gemm_packed(PG_Q8_0, 0, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols / 32);
  case PG_F16:
    return gemm_packed_f16(p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_Q4_0:
    // One order for both numerics and every batch (kernels_packed_q4.h).
    return gemm_packed_q4(PG_Q4_0, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_IQ4_NL:
    return gemm_packed_q4(PG_IQ4_NL, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_Q5_0:
    // llama.cpp uses one order for single and batched Q5_0 rows.
    if (fast) return gemm_packed_k(PG_Q5_0, PG_ORDER_FAST, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
    return gemm_packed_k(PG_Q5_0, PG_ORDER_ONE_ROW, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_Q4_K:
    return gemm_packed_k_in_order(PG_Q4_K, order, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_Q5_K:
    return gemm_packed_k_in_order(PG_Q5_K, order, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  case PG_Q6_K:
    return gemm_packed_k_in_order(PG_Q6_K, order, p, rows, g0, g1, x, a_stride, n, y, y_stride, cols);
  default:
    return 0;
  }
}
