// Attention with llama.cpp's CPU flash-attention arithmetic ("half accumulator"): the query rounded
// to f16, each score a dot product summed in a fixed order, one position at a time with an online
// softmax whose weighted value sum is kept in f16 (rounded after every position). This is what
// llama.cpp computes for decode steps and short prompts; reproducing it operation for operation
// makes Peregrine's logits agree with its reference fixtures instead of drifting by tenths of a nat
// on models with large activation outliers (see docs/correctness.md).
//
// Included once per instruction set by attention_half_avx2.c and attention_half_avx512.c, which define
//   PGH_FN(name)  the per-ISA function name
//   PGH_TARGET    the target attribute
//   PGH_ZMM       1 to work 16 lanes at a time (every lane's arithmetic is the same, so are the bits)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET PGH_TARGET
#define INL static inline __attribute__((always_inline)) TARGET

// q·k for an f16 key row and a query already widened from f16 (so every product is exact), summed
// as a 16-lane machine sums it: elements 64i + 16a + l go to accumulator a, lane l (fused
// multiply-adds over i); accumulators fold 0+2, 1+3, then 0+1; the 16 lanes fold as upper 8 +
// lower 8, upper 4 + lower 4, then (0+2) + (1+3). Here a 16-lane accumulator is one 512-bit vector
// (PGH_ZMM) or two 8-lane halves.
// Elements past the last multiple of 64 are added one by one in double.
INL float dot_f16_ordered(const uint16_t *k, const float *q, int n) {
  const int np = n & ~63;
#if PGH_ZMM
  __m512 acc[4];
  for (int a = 0; a < 4; a++) acc[a] = _mm512_setzero_ps();
  for (int i = 0; i < np; i += 64)
    for (int a = 0; a < 4; a++)
      acc[a] = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(k + i + 16 * a))),
                               _mm512_loadu_ps(q + i + 16 * a), acc[a]);
  const __m512 s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[2]), _mm512_add_ps(acc[1], acc[3]));
  const __m256 l = _mm512_castps512_ps256(s);
  const __m256 h = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));
#else
  __m256 lo[4], hi[4];
  for (int a = 0; a < 4; a++) lo[a] = hi[a] = _mm256_setzero_ps();
  for (int i = 0; i < np; i += 64)
    for (int a = 0; a < 4; a++) {
      const uint16_t *kp = k + i + 16 * a;
      const float *qp = q + i + 16 * a;
      lo[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)kp)), _mm256_loadu_ps(qp), lo[a]);
      hi[a] = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(kp + 8))), _mm256_loadu_ps(qp + 8),
                              hi[a]);
    }
  const __m256 l = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
  const __m256 h = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
#endif
  const __m256 t3 = _mm256_add_ps(h, l);
  const __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
  const __m128 t8 = _mm_add_ps(t6, _mm_movehl_ps(t6, t6));  // (0+2), (1+3)
  const float folded = _mm_cvtss_f32(_mm_add_ss(t8, _mm_movehdup_ps(t8)));
  if (np == n) return folded;
  double sum = (double)folded;
  for (int i = np; i < n; i++) sum += (double)(_cvtsh_ss(k[i]) * q[i]);
  return (float)sum;
}

// Rounds to the nearest f16 value, kept in f32 form.
INL __m256 round_f16(__m256 x) { return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }
#if PGH_ZMM
INL __m512 round_f16x16(__m512 x) { return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT)); }
#endif

enum { MAX_HEAD_DIM = 1024, RUN = 16, GROUP_MAX = 8, GROUP_HEAD_DIM = 256 };

// One query head's running softmax state.
typedef struct {
  float running_max, denominator;
} half_state;

// One position's update of one head: the order-dependent part of the online softmax.
INL void half_update(float *acc, half_state *st, float s, const uint16_t *v, int head_dim) {
  float rescale = 1, weight = 1;
  if (s > st->running_max) {
    // A new maximum: what is accumulated shrinks by e^(old − new), this position weighs 1.
    rescale = expf(st->running_max - s);
    st->running_max = s;
    const __m256 vr = _mm256_set1_ps(rescale);
    int e = 0;
#if PGH_ZMM
    for (; e + 16 <= head_dim; e += 16)
      _mm512_storeu_ps(acc + e, round_f16x16(_mm512_mul_ps(_mm512_loadu_ps(acc + e), _mm512_set1_ps(rescale))));
#endif
    for (; e + 8 <= head_dim; e += 8) _mm256_storeu_ps(acc + e, round_f16(_mm256_mul_ps(_mm256_loadu_ps(acc + e), vr)));
    for (; e < head_dim; e++) acc[e] = _cvtsh_ss(_cvtss_sh(acc[e] * rescale, _MM_FROUND_TO_NEAREST_INT));
  } else {
    weight = expf(s - st->running_max);
    // e^x underflowed to exactly 0: the update would change nothing.
    if (weight == 0) return;
  }
  // acc = f16(v · weight + acc), the product-sum rounded once.
  const __m256 vw = _mm256_set1_ps(weight);
  int e = 0;
#if PGH_ZMM
  for (; e + 16 <= head_dim; e += 16) {
    const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + e)));
    _mm512_storeu_ps(acc + e, round_f16x16(_mm512_fmadd_ps(x, _mm512_set1_ps(weight), _mm512_loadu_ps(acc + e))));
  }
#endif
  for (; e + 8 <= head_dim; e += 8) {
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + e)));
    _mm256_storeu_ps(acc + e, round_f16(_mm256_fmadd_ps(x, vw, _mm256_loadu_ps(acc + e))));
  }
  for (; e < head_dim; e++) acc[e] = _cvtsh_ss(_cvtss_sh(fmaf(_cvtsh_ss(v[e]), weight, acc[e]), _MM_FROUND_TO_NEAREST_INT));
  st->denominator = fmaf(st->denominator, rescale, weight);
}

// The query rounded to f16 and widened back; the running sum as f32 values that are always exact
// f16 numbers (rounded after every update), so no f16 loads or stores are needed in the loop.
INL void half_init(const float *query, float *q, float *acc, int head_dim) {
  int i = 0;
  for (; i + 8 <= head_dim; i += 8) {
    _mm256_storeu_ps(q + i, round_f16(_mm256_loadu_ps(query + i)));
    _mm256_storeu_ps(acc + i, _mm256_setzero_ps());
  }
  for (; i < head_dim; i++) {
    q[i] = _cvtsh_ss(_cvtss_sh(query[i], _MM_FROUND_TO_NEAREST_INT));
    acc[i] = 0;
  }
}

INL void half_finish(const float *acc, const half_state *st, float *out, int head_dim) {
  const float inv = st->denominator == 0 ? 0 : 1.0f / st->denominator;
  for (int e = 0; e < head_dim; e++) out[e] = acc[e] * inv;
}

#if PGH_ZMM
// half_update for `count` consecutive positions (values v0 + j·row_stride) and NH heads of HD
// dimensions (both compile-time, NH·HD ≤ 256), their running sums held in registers for the whole
// run. Storing a 512-bit sum and loading it back for the next position stalls on store-to-load
// forwarding; in registers, each lane still takes the same operations in the same order.
INL void half_updates_in_registers(const int HD, const int NH, float *const *accs, half_state *st,
                                   const float (*scores)[RUN], int count, const uint16_t *v0, size_t row_stride) {
  __m512 a[4][16];
  for (int h = 0; h < NH; h++)
    for (int e = 0; e < HD / 16; e++) a[h][e] = _mm512_loadu_ps(accs[h] + 16 * e);
  for (int j = 0; j < count; j++) {
    const uint16_t *v = v0 + (size_t)j * row_stride;
    for (int h = 0; h < NH; h++) {
      const float s = scores[h][j];
      float rescale = 1, weight = 1;
      if (s > st[h].running_max) {
        rescale = expf(st[h].running_max - s);
        st[h].running_max = s;
        const __m512 vr = _mm512_set1_ps(rescale);
        for (int e = 0; e < HD / 16; e++) a[h][e] = round_f16x16(_mm512_mul_ps(a[h][e], vr));
      } else {
        weight = expf(s - st[h].running_max);
        if (weight == 0) continue;
      }
      const __m512 vw = _mm512_set1_ps(weight);
      for (int e = 0; e < HD / 16; e++)
        a[h][e] = round_f16x16(
            _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(v + 16 * e))), vw, a[h][e]));
      st[h].denominator = fmaf(st[h].denominator, rescale, weight);
    }
  }
  for (int h = 0; h < NH; h++)
    for (int e = 0; e < HD / 16; e++) _mm512_storeu_ps(accs[h] + 16 * e, a[h][e]);
}

// The run's updates with register-resident sums, heads in groups that fit 16 registers; 0 for head
// sizes without such a path (the caller then updates through memory).
INL int half_run_in_registers(float *const *accs, half_state *st, int nq, const float (*scores)[RUN], int count,
                              const uint16_t *v0, size_t row_stride, int head_dim) {
  if (head_dim != 64 && head_dim != 128 && head_dim != 256) return 0;
  const int per = 256 / head_dim;
  for (int h0 = 0; h0 < nq; h0 += per) {
    const int m = nq - h0 < per ? nq - h0 : per;
    float *const *ac = accs + h0;
    half_state *sh = st + h0;
    const float(*sc)[RUN] = scores + h0;
    if (head_dim == 64) {
      switch (m) {
      case 1: half_updates_in_registers(64, 1, ac, sh, sc, count, v0, row_stride); break;
      case 2: half_updates_in_registers(64, 2, ac, sh, sc, count, v0, row_stride); break;
      case 3: half_updates_in_registers(64, 3, ac, sh, sc, count, v0, row_stride); break;
      default: half_updates_in_registers(64, 4, ac, sh, sc, count, v0, row_stride); break;
      }
    } else if (head_dim == 128) {
      if (m == 1) half_updates_in_registers(128, 1, ac, sh, sc, count, v0, row_stride);
      else half_updates_in_registers(128, 2, ac, sh, sc, count, v0, row_stride);
    } else {
      half_updates_in_registers(256, 1, ac, sh, sc, count, v0, row_stride);
    }
  }
  return 1;
}
#endif

// nq query heads over the same keys and values, positions in runs inside one block: all heads'
// scores for the run first (they do not depend on the softmax state), then each position's update
// for every head in turn, so the heads' independent rounding chains overlap in the pipeline.
INL void half_heads(const float *const *qs, float *const *accs, half_state *st, int nq, const uint16_t *key_base,
                    const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                    size_t row_stride, int first, int last, int head_dim, float scale) {
  float scores[GROUP_MAX][RUN];
  int p = first;
  while (p <= last) {
    const int row = p % block_size;
    int count = block_size - row;
    if (count > RUN) count = RUN;
    if (count > last - p + 1) count = last - p + 1;
    const size_t base = (size_t)block_table[p / block_size] * block_stride + (size_t)row * row_stride;
    for (int h = 0; h < nq; h++)
      for (int j = 0; j < count; j++)
        scores[h][j] = dot_f16_ordered(key_base + base + (size_t)j * row_stride, qs[h], head_dim) * scale;
#if PGH_ZMM
    if (half_run_in_registers(accs, st, nq, (const float(*)[RUN])scores, count, value_base + base, row_stride, head_dim)) {
      p += count;
      continue;
    }
#endif
    for (int j = 0; j < count; j++) {
      const uint16_t *v = value_base + base + (size_t)j * row_stride;
      for (int h = 0; h < nq; h++) half_update(accs[h], &st[h], scores[h][j], v, head_dim);
    }
    p += count;
  }
}

int TARGET PGH_FN(attend_head_half)(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                                    const int32_t *block_table, int block_size, size_t block_stride,
                                    size_t row_stride, int first, int last, int head_dim, float scale, float *out) {
  if (head_dim > MAX_HEAD_DIM) return 0;
  float q[MAX_HEAD_DIM] __attribute__((aligned(64))), acc[MAX_HEAD_DIM] __attribute__((aligned(64)));
  half_init(query, q, acc, head_dim);
  half_state st = {-INFINITY, 0};
  const float *qs[1] = {q};
  float *accs[1] = {acc};
  half_heads(qs, accs, &st, 1, key_base, value_base, block_table, block_size, block_stride, row_stride, first, last,
             head_dim, scale);
  half_finish(acc, &st, out, head_dim);
  return 1;
}

int TARGET PGH_FN(attend_heads_half)(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                                     const uint16_t *value_base, const int32_t *block_table, int block_size,
                                     size_t block_stride, size_t row_stride, int first, int last, int head_dim,
                                     float scale, float *outs, size_t out_stride) {
  if (head_dim > GROUP_HEAD_DIM) {
    // Large heads one at a time (the per-head state would not fit the stack budget).
    for (int h = 0; h < nq; h++)
      if (!PGH_FN(attend_head_half)(queries + (size_t)h * query_stride, key_base, value_base, block_table, block_size,
                                    block_stride, row_stride, first, last, head_dim, scale,
                                    outs + (size_t)h * out_stride))
        return 0;
    return 1;
  }
  for (int h0 = 0; h0 < nq; h0 += GROUP_MAX) {
    const int m = nq - h0 < GROUP_MAX ? nq - h0 : GROUP_MAX;
    float q[GROUP_MAX][GROUP_HEAD_DIM] __attribute__((aligned(64))), acc[GROUP_MAX][GROUP_HEAD_DIM] __attribute__((aligned(64)));
    half_state st[GROUP_MAX];
    const float *qs[GROUP_MAX];
    float *accs[GROUP_MAX];
    for (int h = 0; h < m; h++) {
      half_init(queries + (size_t)(h0 + h) * query_stride, q[h], acc[h], head_dim);
      st[h].running_max = -INFINITY;
      st[h].denominator = 0;
      qs[h] = q[h];
      accs[h] = acc[h];
    }
    half_heads(qs, accs, st, m, key_base, value_base, block_table, block_size, block_stride, row_stride, first, last,
               head_dim, scale);
    for (int h = 0; h < m; h++) half_finish(acc[h], &st[h], outs + (size_t)(h0 + h) * out_stride, head_dim);
  }
  return 1;
}

#undef TARGET
#undef INL
