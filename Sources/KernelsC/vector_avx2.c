// Element-wise passes of the forward pass (SwiGLU, GeGLU, RMSNorm), AVX2 + FMA.
#include <math.h>

#include "KernelsC.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INL static inline __attribute__((always_inline)) TARGET

// e^x for x ≤ 0: 2^n · p(r), degree-6 polynomial, relative error ~2e-7; x below −87 gives ~e^−87.
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

static int TARGET swiglu_avx2(float *gate, const float *up, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 one = _mm256_set1_ps(1.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    // sigmoid(g) from e^−|g| (never overflows): 1/(1+e) for g ≥ 0, e/(1+e) for g < 0.
    const __m256 e = exp_neg(_mm256_or_ps(g, sign));
    const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
    const __m256 neg = _mm256_cmp_ps(g, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 sig = _mm256_blendv_ps(inv, _mm256_mul_ps(e, inv), neg);
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_mul_ps(g, sig), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; i++) {
    const float g = gate[i];
    gate[i] = g / (1.0f + expf(-g)) * up[i];
  }
  return 1;
}

// GELU (tanh form) gated, in the twin's formula and operation order: 0.5·x·(1 + tanh(u)),
// u = (√(2/π)·x)·(1 + 0.044715·x·x), tanh(u) = ±(1 − e)/(1 + e) with e = e^−2|u|. (x·sigmoid(2u) is the
// same function without the cancellation in 1 + tanh for x ≪ 0, but it moved Gemma's logits further
// from the twin's than the twin's own rounding does, so the kernel follows the twin.)
static int TARGET gelu_tanh_gated_avx2(float *gate, const float *up, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 one = _mm256_set1_ps(1.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    const __m256 u = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.79788456f), x),
                                   _mm256_add_ps(one, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x), x)));
    const __m256 e = exp_neg(_mm256_mul_ps(_mm256_set1_ps(-2.0f), _mm256_andnot_ps(sign, u)));
    __m256 t = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    t = _mm256_or_ps(t, _mm256_and_ps(u, sign));
    const __m256 g = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(one, t));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(g, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; i++) {
    const float x = gate[i];
    const float u = 0.79788456f * x * (1 + 0.044715f * x * x);
    gate[i] = 0.5f * x * (1 + tanhf(u)) * up[i];
  }
  return 1;
}

static int TARGET rms_norm_avx2(const float *x, const float *w, float *out, int n, float eps) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
    const __m256d b = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
    s0 = _mm256_fmadd_pd(a, a, s0);
    s1 = _mm256_fmadd_pd(b, b, s1);
  }
  __m256d s = _mm256_add_pd(s0, s1);
  __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  double sum = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  for (; i < n; i++) sum += (double)x[i] * (double)x[i];
  const float scale = (float)(1.0 / sqrt(sum / (double)n + (double)eps));
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

int pg_gelu_tanh_gated(float *gate, const float *up, int n) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2) return gelu_tanh_gated_avx2(gate, up, n);
#endif
  return 0;
}

int pg_rms_norm(const float *x, const float *weight, float *out, int n, float eps) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2) return rms_norm_avx2(x, weight, out, n, eps);
#endif
  return 0;
}
