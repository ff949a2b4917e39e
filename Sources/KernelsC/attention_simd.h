// Helpers shared by the f32-accumulating attention kernels (f16 and Q8_0 keys/values). Include after
// defining TARGET and INL (the AVX2 + FMA + F16C target attributes).
#ifndef PG_ATTENTION_SIMD_H
#define PG_ATTENTION_SIMD_H

INL float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
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

// The largest of a chunk's scores: the 8-lane maximum of its full groups (`vmax`), then its tail.
INL float chunk_max_of(__m256 vmax) {
  float m8[8];
  _mm256_storeu_ps(m8, vmax);
  float m = -INFINITY;
  for (int j = 0; j < 8; j++) m = m8[j] > m ? m8[j] : m;
  return m;
}

// Online softmax, when a chunk's maximum exceeds the running one: what has been accumulated (`out`,
// `denominator`) is rescaled so every weight stays ≤ 1.
INL void rescale_running(float *out, int head_dim, float *running_max, float *denominator, float chunk_max) {
  if (chunk_max <= *running_max) return;
  const float correction = expf(*running_max - chunk_max);
  *running_max = chunk_max;
  *denominator *= correction;
  const __m256 c = _mm256_set1_ps(correction);
  int e = 0;
  for (; e + 8 <= head_dim; e += 8) _mm256_storeu_ps(out + e, _mm256_mul_ps(c, _mm256_loadu_ps(out + e)));
  for (; e < head_dim; e++) out[e] *= correction;
}

// Replaces a chunk's `count` scores by their weights e^(s − running_max) and adds them to
// `denominator` (8-lane sum first, then the tail, one by one); the buffer must hold `count` rounded up
// to 8 (padding lanes become e^-87 ≈ 0 and are not used).
INL void chunk_weights(float *scores, int count, float running_max, float *denominator) {
  const __m256 vm = _mm256_set1_ps(running_max);
  for (int j = count; j < ((count + 7) & ~7); j++) scores[j] = -INFINITY;
  __m256 vsum = _mm256_setzero_ps();
  for (int j = 0; j < count; j += 8) {
    const __m256 e = exp_neg(_mm256_sub_ps(_mm256_loadu_ps(scores + j), vm));
    _mm256_storeu_ps(scores + j, e);
    if (j + 8 <= count) vsum = _mm256_add_ps(vsum, e);
  }
  *denominator += hsum(vsum);
  for (int j = count & ~7; j < count; j++) *denominator += scores[j];
}

#endif
