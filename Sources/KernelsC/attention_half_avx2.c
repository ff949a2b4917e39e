// Attention with llama.cpp's CPU flash-attention arithmetic ("half accumulator"): the query rounded
// to f16, each score a dot product summed in a fixed order, one position at a time with an online
// softmax whose weighted value sum is kept in f16 (rounded after every position). This is what
// llama.cpp computes for decode steps and short prompts; reproducing it operation for operation
// makes Peregrine's logits agree with its reference fixtures instead of drifting by tenths of a nat
// on models with large activation outliers (see docs/correctness.md).
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

// q·k for f16 vectors as a 16-lane machine sums them: elements 64i + 16a + l go to accumulator a,
// lane l (fused multiply-adds over i); accumulators fold 0+2, 1+3, then 0+1; the 16 lanes fold as
// upper 8 + lower 8, upper 4 + lower 4, then (0+2) + (1+3). Here a 16-lane accumulator is two
// 8-lane halves. Elements past the last multiple of 64 are added one by one in double.
INL float dot_f16_ordered(const uint16_t *k, const uint16_t *q, int n) {
  __m256 lo[4], hi[4];
  for (int a = 0; a < 4; a++) lo[a] = hi[a] = _mm256_setzero_ps();
  const int np = n & ~63;
  for (int i = 0; i < np; i += 64)
    for (int a = 0; a < 4; a++) {
      const uint16_t *kp = k + i + 16 * a, *qp = q + i + 16 * a;
      lo[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)kp)),
                              _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)qp)), lo[a]);
      hi[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kp + 8))),
                              _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(qp + 8))), hi[a]);
    }
  const __m256 l = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
  const __m256 h = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
  const __m256 t3 = _mm256_add_ps(h, l);
  const __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
  float f[4];
  _mm_storeu_ps(f, t6);
  double sum = (double)((f[0] + f[2]) + (f[1] + f[3]));
  for (int i = np; i < n; i++) sum += (double)(_cvtsh_ss(k[i]) * _cvtsh_ss(q[i]));
  return (float)sum;
}

// acc = f16(acc · s), element by element.
INL void scale_f16(uint16_t *acc, float s, int n) {
  const __m256 vs = _mm256_set1_ps(s);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + i)));
    _mm_storeu_si128((__m128i *)(acc + i), _mm256_cvtps_ph(_mm256_mul_ps(a, vs), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; i++) acc[i] = _cvtss_sh(_cvtsh_ss(acc[i]) * s, _MM_FROUND_TO_NEAREST_INT);
}

// acc = f16(v · w + acc) with one rounding of the product-sum (fused), element by element.
INL void mad_f16(uint16_t *acc, const uint16_t *v, float w, int n) {
  const __m256 vw = _mm256_set1_ps(w);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(acc + i)));
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i)));
    _mm_storeu_si128((__m128i *)(acc + i), _mm256_cvtps_ph(_mm256_fmadd_ps(x, vw, a), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; i++) acc[i] = _cvtss_sh(fmaf(_cvtsh_ss(v[i]), w, _cvtsh_ss(acc[i])), _MM_FROUND_TO_NEAREST_INT);
}

enum { MAX_HEAD_DIM = 1024 };

int TARGET pg_attend_head_half_avx2(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                                    const int32_t *block_table, int block_size, size_t block_stride,
                                    size_t row_stride, int first, int last, int head_dim, float scale, float *out) {
  if (head_dim > MAX_HEAD_DIM) return 0;
  uint16_t q16[MAX_HEAD_DIM];
  uint16_t acc[MAX_HEAD_DIM];
  int i = 0;
  for (; i + 8 <= head_dim; i += 8)
    _mm_storeu_si128((__m128i *)(q16 + i), _mm256_cvtps_ph(_mm256_loadu_ps(query + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < head_dim; i++) q16[i] = _cvtss_sh(query[i], _MM_FROUND_TO_NEAREST_INT);
  memset(acc, 0, sizeof(uint16_t) * (size_t)head_dim);
  float running_max = -INFINITY;
  float denominator = 0;
  for (int p = first; p <= last; p++) {
    const size_t base = (size_t)block_table[p / block_size] * block_stride + (size_t)(p % block_size) * row_stride;
    const float s = dot_f16_ordered(key_base + base, q16, head_dim) * scale;
    float rescale = 1, weight = 1;
    if (s > running_max) {
      // A new maximum: what is accumulated shrinks by e^(old − new), this position weighs 1.
      rescale = expf(running_max - s);
      running_max = s;
      scale_f16(acc, rescale, head_dim);
    } else {
      weight = expf(s - running_max);
    }
    mad_f16(acc, value_base + base, weight, head_dim);
    denominator = fmaf(denominator, rescale, weight);
  }
  const float inv = denominator == 0 ? 0 : 1.0f / denominator;
  for (int e = 0; e < head_dim; e++) out[e] = _cvtsh_ss(acc[e]) * inv;
  return 1;
}
#endif
