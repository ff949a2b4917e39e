// Streaming (online-softmax) attention of query heads over f16 keys/values in blocks.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

#include "attention_simd.h"

INL float dot_f32_f16(const float *q, const uint16_t *k, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i + 8))), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), s0);
  float sum = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) sum += q[i] * _cvtsh_ss(k[i]);
  return sum;
}

// Scores of 8 consecutive key rows: eight accumulators, then one transposing reduction.
INL __m256 dot8_f32_f16(const float *q, const uint16_t *k, size_t stride, int n) {
  __m256 a[8];
  for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 qv = _mm256_loadu_ps(q + i);
    for (int j = 0; j < 8; j++)
      a[j] = _mm256_fmadd_ps(qv, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + j * stride + i))), a[j]);
  }
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h03 = _mm256_hadd_ps(h01, h23), h47 = _mm256_hadd_ps(h45, h67);
  __m256 s = _mm256_add_ps(_mm256_permute2f128_ps(h03, h47, 0x20), _mm256_permute2f128_ps(h03, h47, 0x31));
  if (i < n) {
    float tail[8];
    for (int j = 0; j < 8; j++) {
      float t = 0;
      for (int e = i; e < n; e++) t += q[e] * _cvtsh_ss(k[j * stride + e]);
      tail[j] = t;
    }
    s = _mm256_add_ps(s, _mm256_loadu_ps(tail));
  }
  return s;
}

// out += w·v
INL void add_scaled_f16(float *out, float w, const uint16_t *v, int n) {
  const __m256 vw = _mm256_set1_ps(w);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_fmadd_ps(vw, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))), _mm256_loadu_ps(out + i)));
  for (; i < n; i++) out[i] += w * _cvtsh_ss(v[i]);
}

enum { CHUNK = 64 };

int TARGET pg_attend_head_avx2(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                               const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride,
                               int first, int last, int head_dim, float scale, float *out) {
  float scores[CHUNK];
  float running_max = -INFINITY;
  float denominator = 0;
  memset(out, 0, sizeof(float) * (size_t)head_dim);
  int p = first;
  while (p <= last) {
    // A chunk never crosses a block, so its rows are one stride apart.
    const int block = p / block_size;
    const int row = p % block_size;
    int count = block_size - row;
    if (count > CHUNK) count = CHUNK;
    if (count > last - p + 1) count = last - p + 1;
    const size_t base = (size_t)block_table[block] * block_stride + (size_t)row * row_stride;
    const uint16_t *k = key_base + base;
    const uint16_t *v = value_base + base;
    int i = 0;
    const __m256 vscale = _mm256_set1_ps(scale);
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= count; i += 8) {
      const __m256 s = _mm256_mul_ps(vscale, dot8_f32_f16(query, k + (size_t)i * row_stride, row_stride, head_dim));
      _mm256_storeu_ps(scores + i, s);
      vmax = _mm256_max_ps(vmax, s);
    }
    float chunk_max = chunk_max_of(vmax);
    for (; i < count; i++) {
      const float s = scale * dot_f32_f16(query, k + (size_t)i * row_stride, head_dim);
      scores[i] = s;
      if (s > chunk_max) chunk_max = s;
    }
    rescale_running(out, head_dim, &running_max, &denominator, chunk_max);
    chunk_weights(scores, count, running_max, &denominator);
    // Values in slabs of 64 columns held in registers across the chunk's positions.
    int col = 0;
    for (; col + 64 <= head_dim; col += 64) {
      __m256 acc[8];
      for (int e = 0; e < 8; e++) acc[e] = _mm256_loadu_ps(out + col + 8 * e);
      for (int j = 0; j < count; j++) {
        const __m256 w = _mm256_set1_ps(scores[j]);
        const uint16_t *vr = v + (size_t)j * row_stride + col;
        for (int e = 0; e < 8; e++)
          acc[e] = _mm256_fmadd_ps(w, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(vr + 8 * e))), acc[e]);
      }
      for (int e = 0; e < 8; e++) _mm256_storeu_ps(out + col + 8 * e, acc[e]);
    }
    if (col < head_dim)
      for (int j = 0; j < count; j++)
        add_scaled_f16(out + col, scores[j], v + (size_t)j * row_stride + col, head_dim - col);
    p += count;
  }
  if (denominator > 0) {
    const float inv = 1.0f / denominator;
    for (int i = 0; i < head_dim; i++) out[i] *= inv;
  }
  return 1;
}
// Query heads of one group, one after the other. (Widening a chunk of keys/values to f32 once for the
// group measured slower here: the f32 copies crowd L1, and the f16 loads convert for free in FMAs.)
int TARGET pg_attend_heads_avx2(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                                const uint16_t *value_base, const int32_t *block_table, int block_size,
                                size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                                float *outs, size_t out_stride) {
  for (int h = 0; h < nq; h++)
    pg_attend_head_avx2(queries + (size_t)h * query_stride, key_base, value_base, block_table, block_size,
                        block_stride, row_stride, first, last, head_dim, scale, outs + (size_t)h * out_stride);
  return 1;
}

// ---- AVX-512: up to four query heads of one KV head together ----
// Each key and value row is widened from f16 once for the tile's NH heads (the AVX2 path converts it
// once per head): scores come from an NH-query × 8-key register tile over the head dimension, the
// weighted value sum from an NH-head × 64-column tile. Every float operation happens in the same order as in
// pg_attend_head_avx2 (8-lane score accumulators reduced by the same hadd tree, tail keys through
// dot_f32_f16, the same exp and value FMAs per element), so the results are bit-identical to one
// call per head: only the register reuse differs.
#define TARGET512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))
#define INL512 static inline __attribute__((always_inline)) TARGET512

INL512 __m512 load16_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }

// _mm256_hadd_ps on each 256-bit half: [x0+x1, x2+x3, y0+y1, y2+y3] in every 128-bit lane.
INL512 __m512 hadd_512(__m512 x, __m512 y) {
  return _mm512_add_ps(_mm512_shuffle_ps(x, y, 0x88), _mm512_shuffle_ps(x, y, 0xDD));
}

// The sums of eight keys' 8-lane accumulators held in pairs (p[c] = key 2c in lanes 0-7, key 2c+1 in
// lanes 8-15), each reduced by dot8_f32_f16's tree: pairs of lanes, pairs of pairs, then the two halves.
INL512 __m256 sum8_pairs(const __m512 p[4]) {
  const __m512 h = hadd_512(hadd_512(p[0], p[1]), hadd_512(p[2], p[3]));
  // 128-bit lanes of h: keys 0,2,4,6 over lanes 0-3 and 4-7 of each, then keys 1,3,5,7 likewise.
  const __m512 s = _mm512_add_ps(h, _mm512_shuffle_f32x4(h, h, _MM_SHUFFLE(2, 3, 0, 1)));
  const __m512i order = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 0, 8, 1, 9, 2, 10, 3, 11);
  return _mm512_castps512_ps256(_mm512_permutexvar_ps(order, s));
}

INL512 void attend_tile_avx512(const int NH, const float *queries, size_t query_stride, const uint16_t *key_base,
                               const uint16_t *value_base, const int32_t *block_table, int block_size,
                               size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                               float *outs, size_t out_stride) {
  float scores[4][CHUNK + 8];
  float running_max[4], denominator[4];
  for (int h = 0; h < NH; h++) {
    running_max[h] = -INFINITY;
    denominator[h] = 0;
    memset(outs + (size_t)h * out_stride, 0, sizeof(float) * (size_t)head_dim);
  }
  const float *q[4];
  for (int h = 0; h < NH; h++) q[h] = queries + (size_t)h * query_stride;
  int p = first;
  while (p <= last) {
    const int block = p / block_size;
    const int row = p % block_size;
    int count = block_size - row;
    if (count > CHUNK) count = CHUNK;
    if (count > last - p + 1) count = last - p + 1;
    const size_t base = (size_t)block_table[block] * block_stride + (size_t)row * row_stride;
    const uint16_t *k = key_base + base;
    const uint16_t *v = value_base + base;
    // Scores: keys in whole groups of 8 (as dot8_f32_f16 takes them), two keys' 8-lane accumulators
    // to a 512-bit register; the rest one by one.
    const int full = count & ~7;
    __m256 vmax[4];
    for (int h = 0; h < NH; h++) vmax[h] = _mm256_set1_ps(-INFINITY);
    for (int j = 0; j < full; j += 8) {
      const uint16_t *kr = k + (size_t)j * row_stride;
      __m512 acc[4][4];
      for (int h = 0; h < NH; h++)
        for (int c = 0; c < 4; c++) acc[h][c] = _mm512_setzero_ps();
      for (int e = 0; e < head_dim; e += 8) {
        __m512 kv[4];
        for (int c = 0; c < 4; c++)
          kv[c] = _mm512_cvtph_ps(_mm256_loadu2_m128i((const __m128i *)(kr + (size_t)(2 * c + 1) * row_stride + e),
                                                      (const __m128i *)(kr + (size_t)(2 * c) * row_stride + e)));
        for (int h = 0; h < NH; h++) {
          const __m512 qv = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd((const double *)(q[h] + e))));
          for (int c = 0; c < 4; c++) acc[h][c] = _mm512_fmadd_ps(qv, kv[c], acc[h][c]);
        }
      }
      for (int h = 0; h < NH; h++) {
        const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(scale), sum8_pairs(acc[h]));
        _mm256_storeu_ps(scores[h] + j, sc);
        vmax[h] = _mm256_max_ps(vmax[h], sc);
      }
    }
    for (int j = full; j < count; j++)
      for (int h = 0; h < NH; h++) scores[h][j] = scale * dot_f32_f16(q[h], k + (size_t)j * row_stride, head_dim);
    for (int h = 0; h < NH; h++) {
      float *sc = scores[h];
      float chunk_max = chunk_max_of(vmax[h]);
      for (int j = full; j < count; j++) chunk_max = sc[j] > chunk_max ? sc[j] : chunk_max;
      float *out = outs + (size_t)h * out_stride;
      if (chunk_max > running_max[h]) {
        const float correction = expf(running_max[h] - chunk_max);
        running_max[h] = chunk_max;
        denominator[h] *= correction;
        const __m512 c = _mm512_set1_ps(correction);
        for (int e = 0; e < head_dim; e += 16) _mm512_storeu_ps(out + e, _mm512_mul_ps(c, _mm512_loadu_ps(out + e)));
      }
      const __m256 vm = _mm256_set1_ps(running_max[h]);
      for (int j = count; j < ((count + 7) & ~7); j++) sc[j] = -INFINITY;
      __m256 vsum = _mm256_setzero_ps();
      for (int j = 0; j < count; j += 8) {
        const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(sc + j), vm));
        _mm256_storeu_ps(sc + j, e);
        if (j + 8 <= count) vsum = _mm256_add_ps(vsum, e);
      }
      denominator[h] += hsum(vsum);
      for (int j = count & ~7; j < count; j++) denominator[h] += sc[j];
    }
    // Values: 64 columns × 4 heads in registers across the chunk's positions.
    for (int col = 0; col < head_dim; col += 64) {
      __m512 o[4][4];
      for (int h = 0; h < NH; h++)
        for (int c = 0; c < 4; c++) o[h][c] = _mm512_loadu_ps(outs + (size_t)h * out_stride + col + 16 * c);
      for (int j = 0; j < count; j++) {
        const uint16_t *vr = v + (size_t)j * row_stride + col;
        __m512 vv[4];
        for (int c = 0; c < 4; c++) vv[c] = load16_f16(vr + 16 * c);
        for (int h = 0; h < NH; h++) {
          const __m512 w = _mm512_set1_ps(scores[h][j]);
          for (int c = 0; c < 4; c++) o[h][c] = _mm512_fmadd_ps(w, vv[c], o[h][c]);
        }
      }
      for (int h = 0; h < NH; h++)
        for (int c = 0; c < 4; c++) _mm512_storeu_ps(outs + (size_t)h * out_stride + col + 16 * c, o[h][c]);
    }
    p += count;
  }
  for (int h = 0; h < NH; h++) {
    if (denominator[h] > 0) {
      const float inv = 1.0f / denominator[h];
      float *out = outs + (size_t)h * out_stride;
      for (int i = 0; i < head_dim; i++) out[i] *= inv;
    }
  }
}

// Heads in tiles of four (the rest, one to three, in one smaller tile) when the head dimension is in
// 64-column slabs; other shapes take the AVX2 per-head kernel. Every head's arithmetic is the same in
// any tile, so a group of 3 (Llama 3.2 3B) or 7 (Qwen2.5 7B) gets the bits of one call per head.
int TARGET512 pg_attend_heads_avx512(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                                     const uint16_t *value_base, const int32_t *block_table, int block_size,
                                     size_t block_stride, size_t row_stride, int first, int last, int head_dim,
                                     float scale, float *outs, size_t out_stride) {
  if (head_dim % 64 != 0)
    return pg_attend_heads_avx2(queries, query_stride, nq, key_base, value_base, block_table, block_size, block_stride,
                                row_stride, first, last, head_dim, scale, outs, out_stride);
  for (int h = 0; h < nq; h += 4) {
    const float *q = queries + (size_t)h * query_stride;
    float *o = outs + (size_t)h * out_stride;
#define PG_ATTEND_TILE(nh) \
  attend_tile_avx512(nh, q, query_stride, key_base, value_base, block_table, block_size, block_stride, row_stride, \
                     first, last, head_dim, scale, o, out_stride)
    switch (nq - h < 4 ? nq - h : 4) {
    case 1: PG_ATTEND_TILE(1); break;
    case 2: PG_ATTEND_TILE(2); break;
    case 3: PG_ATTEND_TILE(3); break;
    default: PG_ATTEND_TILE(4); break;
    }
#undef PG_ATTEND_TILE
  }
  return 1;
}
#endif
