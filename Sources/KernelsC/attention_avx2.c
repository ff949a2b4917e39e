// Streaming (online-softmax) attention of one query head over f16 keys/values in blocks.
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

// out = out·c + w·v
INL void scale_add_f16(float *out, float c, float w, const uint16_t *v, int n) {
  const __m256 vc = _mm256_set1_ps(c), vw = _mm256_set1_ps(w);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 o = _mm256_mul_ps(_mm256_loadu_ps(out + i), vc);
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(vw, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))), o));
  }
  for (; i < n; i++) out[i] = out[i] * c + w * _cvtsh_ss(v[i]);
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
    float chunk_max = -INFINITY;
    for (int i = 0; i < count; i++) {
      float s = scale * dot_f32_f16(query, k + (size_t)i * row_stride, head_dim);
      scores[i] = s;
      if (s > chunk_max) chunk_max = s;
    }
    // Rescale what has been accumulated when the maximum grows; weights stay ≤ 1.
    float correction = 1;
    if (chunk_max > running_max) {
      correction = expf(running_max - chunk_max);
      running_max = chunk_max;
      denominator *= correction;
    }
    for (int i = 0; i < count; i++) {
      const float e = expf(scores[i] - running_max);
      denominator += e;
      scale_add_f16(out, i == 0 ? correction : 1.0f, e, v + (size_t)i * row_stride, head_dim);
    }
    p += count;
  }
  if (denominator > 0) {
    const float inv = 1.0f / denominator;
    for (int i = 0; i < head_dim; i++) out[i] *= inv;
  }
  return 1;
}
#endif
