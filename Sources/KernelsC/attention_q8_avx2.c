// Streaming (online-softmax) attention of query heads over keys/values stored as Q8_0 in blocks.
//
// One head's key (or value) row is head_dim / 32 Q8_0 blocks of 34 bytes: an f16 scale d, then 32
// int8 codes; element i of block b is d_b · code_i. Everything is f32: a score is q · dequant(k),
// each block's 32 products summed in f32 (codes widen to f32 exactly) and scaled by its d_b; values
// accumulate (w · d_b) · code. The query is not quantized, so scores lose nothing beyond the
// keys' own rounding to 8 bits.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

#include "attention_simd.h"

enum { Q8_BYTES = 34, CHUNK = 64 };

INL float q8_scale(const uint8_t *block) {
  uint16_t h;
  memcpy(&h, block, 2);  // blocks are 34 bytes apart, so the scale is not 2-aligned in general
  return _cvtsh_ss(h);
}

// Eight int8 codes widened to f32.
INL __m256 codes8(const uint8_t *p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)));
}

// The 32 products q[0..32) · codes, left in 8 lanes.
INL __m256 block_products(const float *q, const uint8_t *codes) {
  __m256 a = _mm256_mul_ps(_mm256_loadu_ps(q), codes8(codes));
  __m256 b = _mm256_mul_ps(_mm256_loadu_ps(q + 8), codes8(codes + 8));
  a = _mm256_fmadd_ps(_mm256_loadu_ps(q + 16), codes8(codes + 16), a);
  b = _mm256_fmadd_ps(_mm256_loadu_ps(q + 24), codes8(codes + 24), b);
  return _mm256_add_ps(a, b);
}

// q · dequant(k) for one row of nb blocks.
INL float dot_q8(const float *q, const uint8_t *k, int nb) {
  __m256 acc = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *block = k + (size_t)b * Q8_BYTES;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(q8_scale(block)), block_products(q + 32 * b, block + 2), acc);
  }
  return hsum(acc);
}

// Scores of 8 consecutive key rows (stride bytes apart): eight accumulators, one transposing reduction.
INL __m256 dot8_q8(const float *q, const uint8_t *k, size_t stride, int nb) {
  __m256 a[8];
  for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++)
    for (int j = 0; j < 8; j++) {
      const uint8_t *block = k + j * stride + (size_t)b * Q8_BYTES;
      a[j] = _mm256_fmadd_ps(_mm256_set1_ps(q8_scale(block)), block_products(q + 32 * b, block + 2), a[j]);
    }
  const __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 h03 = _mm256_hadd_ps(h01, h23), h47 = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(h03, h47, 0x20), _mm256_permute2f128_ps(h03, h47, 0x31));
}

// out[0..32·n) += w · dequant(blocks) for n (1 or 2) consecutive blocks, accumulators in registers.
INL void add_scaled_q8(__m256 *acc, float w, const uint8_t *blocks, int n) {
  for (int b = 0; b < n; b++) {
    const uint8_t *block = blocks + (size_t)b * Q8_BYTES;
    const __m256 wd = _mm256_set1_ps(w * q8_scale(block));
    for (int e = 0; e < 4; e++) acc[4 * b + e] = _mm256_fmadd_ps(wd, codes8(block + 2 + 8 * e), acc[4 * b + e]);
  }
}

int TARGET pg_attend_head_q8_avx2(const float *query, const uint8_t *key_base, const uint8_t *value_base,
                                  const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride,
                                  int first, int last, int head_dim, float scale, float *out) {
  const int nb = head_dim / 32;
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
    const uint8_t *k = key_base + base;
    const uint8_t *v = value_base + base;
    const __m256 vscale = _mm256_set1_ps(scale);
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= count; i += 8) {
      const __m256 s = _mm256_mul_ps(vscale, dot8_q8(query, k + (size_t)i * row_stride, row_stride, nb));
      _mm256_storeu_ps(scores + i, s);
      vmax = _mm256_max_ps(vmax, s);
    }
    float chunk_max = chunk_max_of(vmax);
    for (; i < count; i++) {
      const float s = scale * dot_q8(query, k + (size_t)i * row_stride, nb);
      scores[i] = s;
      if (s > chunk_max) chunk_max = s;
    }
    rescale_running(out, head_dim, &running_max, &denominator, chunk_max);
    chunk_weights(scores, count, running_max, &denominator);
    // Values in slabs of 64 columns (two Q8_0 blocks; the last slab may hold one) kept in registers
    // across the chunk's positions.
    for (int col = 0; col < head_dim; col += 64) {
      const int n = head_dim - col >= 64 ? 2 : 1;
      __m256 acc[8];
      for (int e = 0; e < 4 * n; e++) acc[e] = _mm256_loadu_ps(out + col + 8 * e);
      const uint8_t *vb = v + (size_t)(col / 32) * Q8_BYTES;
      for (int j = 0; j < count; j++) add_scaled_q8(acc, scores[j], vb + (size_t)j * row_stride, n);
      for (int e = 0; e < 4 * n; e++) _mm256_storeu_ps(out + col + 8 * e, acc[e]);
    }
    p += count;
  }
  if (denominator > 0) {
    const float inv = 1.0f / denominator;
    for (int i = 0; i < head_dim; i++) out[i] *= inv;
  }
  return 1;
}

// Query heads of one group, one after the other.
int TARGET pg_attend_heads_q8_avx2(const float *queries, size_t query_stride, int nq, const uint8_t *key_base,
                                   const uint8_t *value_base, const int32_t *block_table, int block_size,
                                   size_t block_stride, size_t row_stride, int first, int last, int head_dim,
                                   float scale, float *outs, size_t out_stride) {
  if (head_dim <= 0 || head_dim % 32 != 0) return 0;
  for (int h = 0; h < nq; h++)
    pg_attend_head_q8_avx2(queries + (size_t)h * query_stride, key_base, value_base, block_table, block_size,
                           block_stride, row_stride, first, last, head_dim, scale, outs + (size_t)h * out_stride);
  return 1;
}
#endif
