// Element-wise passes of the forward pass (SwiGLU, RMSNorm), AVX2 + FMA.
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

// e^x as llama.cpp's 16-lane CPU code computes it (a published single-precision routine: x = n·ln2 + b
// with n = round(x/ln2), e^b from a degree-5 polynomial in b and b², scaled by 2^n; at most 1.5 ulp
// from e^x), reproduced operation for operation so SiLU outputs are bit-identical to the reference
// engine's. 2^n is applied as two exact power-of-two factors so results that overflow or fall into
// the subnormal range round once, as a hardware scale-by-power-of-two does.
INL __m256 exp_ref(__m256 x) {
  const __m256 r = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
  const __m256 n = _mm256_sub_ps(z, r);
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 j = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
      u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
  // n is an integer in float form; |n| ≤ 192 is handled by the scaling, beyond it the limit values.
  const __m256i ni = _mm256_cvtps_epi32(_mm256_max_ps(_mm256_min_ps(n, _mm256_set1_ps(192)), _mm256_set1_ps(-192)));
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
  const __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
  const __m256 res = _mm256_mul_ps(_mm256_mul_ps(j, p1), p2);
  const __m256 big = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), n), _mm256_set1_ps(192), _CMP_GT_OQ);
  if (_mm256_testz_ps(big, big)) return res;
  const __m256 alt = _mm256_blendv_ps(_mm256_set1_ps(INFINITY), _mm256_setzero_ps(),
                                      _mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ));
  return _mm256_blendv_ps(res, alt, big);
}

static int TARGET swiglu_avx2(float *gate, const float *up, int n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // silu(g) = g / (1 + e^−g), times up.
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_ref(_mm256_sub_ps(_mm256_setzero_ps(), g));
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    // The tail through the same vector code, padded.
    float g[8] = {0}, u[8] = {0};
    memcpy(g, gate + i, sizeof(float) * (size_t)(n - i));
    memcpy(u, up + i, sizeof(float) * (size_t)(n - i));
    swiglu_avx2(g, u, 8);
    memcpy(gate + i, g, sizeof(float) * (size_t)(n - i));
  }
  return 1;
}

// x · (1/√(mean(x²) + ε)) · w as llama.cpp computes it: squares rounded to f32 and summed in double,
// the mean and scale in f32, then two f32 multiplies.
static int TARGET rms_norm_avx2(const float *x, const float *w, float *out, int n, float eps) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 sq = _mm256_mul_ps(v, v);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
  }
  __m256d s = _mm256_add_pd(s0, s1);
  __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  for (; i < n; i++) sum += (double)(x[i] * x[i]);
  const float mean = (float)(sum / (double)n);
  const float scale = 1.0f / sqrtf(mean + eps);
  const __m256 vs = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
  for (; i < n; i++) out[i] = x[i] * scale * w[i];
  return 1;
}
#endif

int pg_swiglu(float *gate, const float *up, int n) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2) return swiglu_avx2(gate, up, n);
#endif
  return 0;
}


int pg_rms_norm(const float *x, const float *weight, float *out, int n, float eps) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2) return rms_norm_avx2(x, weight, out, n, eps);
#endif
  return 0;
}
