// Streaming (online-softmax) attention of query heads over f16 keys/values in blocks.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

INL float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

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

// e^x for x ≤ 0 (scores minus their maximum): 2^n · p(r) with r = x − n·ln2, |r| ≤ ln2/2, degree-6
// polynomial; relative error ~2e-7, far below the f16 rounding of the keys and values.
INL __m256 exp_neg(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 720);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
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
    float m8[8];
    _mm256_storeu_ps(m8, vmax);
    float chunk_max = -INFINITY;
    for (int j = 0; j < 8; j++) chunk_max = m8[j] > chunk_max ? m8[j] : chunk_max;
    for (; i < count; i++) {
      const float s = scale * dot_f32_f16(query, k + (size_t)i * row_stride, head_dim);
      scores[i] = s;
      if (s > chunk_max) chunk_max = s;
    }
    // Rescale what has been accumulated when the maximum grows; weights stay ≤ 1.
    if (chunk_max > running_max) {
      const float correction = expf(running_max - chunk_max);
      running_max = chunk_max;
      denominator *= correction;
      const __m256 c = _mm256_set1_ps(correction);
      int e = 0;
      for (; e + 8 <= head_dim; e += 8) _mm256_storeu_ps(out + e, _mm256_mul_ps(c, _mm256_loadu_ps(out + e)));
      for (; e < head_dim; e++) out[e] *= correction;
    }
    // Weights for the whole chunk at once (padding lanes become e^-87 ≈ 0 and are not used).
    const __m256 vm = _mm256_set1_ps(running_max);
    for (int j = count; j < ((count + 7) & ~7); j++) scores[j] = -INFINITY;
    __m256 vsum = _mm256_setzero_ps();
    for (int j = 0; j < count; j += 8) {
      const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(scores + j), vm));
      _mm256_storeu_ps(scores + j, e);
      if (j + 8 <= count) vsum = _mm256_add_ps(vsum, e);
    }
    denominator += hsum(vsum);
    for (int j = count & ~7; j < count; j++) denominator += scores[j];
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
#endif
