// Prompt attention for a tile of query rows (several consecutive tokens × the query heads of one KV
// head) over f16 keys and values in blocks, with the rows held across vector lanes.
//
// Each row's arithmetic depends on nothing but its own query and its own positions, so a row gets the
// same bits in any tile, at any lane width (this file is compiled for 8 and 16 lanes), and from
// `attendRowReference`, the scalar twin in Sources/Kernels/AttentionKernel+Rows.swift:
//   - a score is q·k summed over the head dimension in order, one fused multiply-add per element
//     starting from 0, then times `scale`;
//   - positions go in chunks of PGR_CHUNK aligned to absolute positions; a chunk whose largest score
//     beats the running maximum rescales what came before by exp(old − new), and a position's weight
//     is exp(score − maximum) (the polynomial `exp_neg` below);
//   - a chunk's weights are summed into four partial sums by slot mod 4, folded (0+1)+(2+3), and added
//     to the denominator after the old sum is rescaled; the weighted value sum takes positions in
//     order, one fused multiply-add each;
//   - the output is that sum times 1/denominator.
// Positions outside a row's range [first, last] weigh exactly 0 in chunks the tile shares, which
// leaves the row's sums unchanged, so tiling only changes how much work the keys' widening is shared
// by: one key row is widened once per tile instead of once per query row, and no reduction across
// lanes is needed (the score of one key for 16 rows is one vector).
//
// Included once per instruction set by attention_rows_avx2.c and attention_rows_avx512.c, which define
//   PGR_FN(name)  the per-ISA function name
//   PGR_TARGET    the target attribute
//   PGR_ZMM       1 for 16 lanes (AVX-512), 0 for 8 (AVX2)
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "KernelsC.h"

#define TARGET PGR_TARGET
#define INL static inline __attribute__((always_inline)) TARGET

enum { PGR_CHUNK = 32, PGR_ROWS = 32, PGR_MAX_HEAD = 256 };

#if PGR_ZMM
#define VL 16
typedef __m512 vf;
typedef __m512i vi;
typedef __mmask16 vmask;
#define vload _mm512_loadu_ps
#define vstore _mm512_storeu_ps
#define vset1 _mm512_set1_ps
#define vzero _mm512_setzero_ps
#define vfmadd _mm512_fmadd_ps
#define vfnmadd _mm512_fnmadd_ps
#define vmul _mm512_mul_ps
#define vadd _mm512_add_ps
#define vsub _mm512_sub_ps
#define vmax _mm512_max_ps
#define viload(p) _mm512_loadu_si512((const void *)(p))
#define viset1 _mm512_set1_epi32
INL vf cvt_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
INL vf vround(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
INL vf vexp2i(vf n) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), viset1(127)), 23));
}
// Lanes whose row range [first, last] holds position p.
INL vmask valid_at(vi p, vi first, vi last) {
  return _mm512_cmp_epi32_mask(p, last, _MM_CMPINT_LE) & _mm512_cmp_epi32_mask(first, p, _MM_CMPINT_LE);
}
INL vf keep(vmask m, vf x, vf otherwise) { return _mm512_mask_blend_ps(m, otherwise, x); }
INL vmask greater(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
#else
#define VL 8
typedef __m256 vf;
typedef __m256i vi;
typedef __m256 vmask;
#define vload _mm256_loadu_ps
#define vstore _mm256_storeu_ps
#define vset1 _mm256_set1_ps
#define vzero _mm256_setzero_ps
#define vfmadd _mm256_fmadd_ps
#define vfnmadd _mm256_fnmadd_ps
#define vmul _mm256_mul_ps
#define vadd _mm256_add_ps
#define vsub _mm256_sub_ps
#define vmax _mm256_max_ps
#define viload(p) _mm256_loadu_si256((const __m256i *)(p))
#define viset1 _mm256_set1_epi32
INL vf cvt_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
INL vf vround(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
INL vf vexp2i(vf n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), viset1(127)), 23));
}
INL vmask valid_at(vi p, vi first, vi last) {
  const __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(p, last), _mm256_cmpgt_epi32(first, p));
  return _mm256_castsi256_ps(_mm256_xor_si256(out, _mm256_set1_epi32(-1)));
}
INL vf keep(vmask m, vf x, vf otherwise) { return _mm256_blendv_ps(otherwise, x, m); }
INL vmask greater(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
#endif

// e^x for x ≤ 0: x clamped at −87, 2^n · p(r) with n = round(x·log2 e), r = x − n·ln2 in two steps,
// p a degree-6 polynomial by Horner's rule in fused multiply-adds (Swift twin `expNeg`). The same
// operations as attention_simd.h's 8-lane `exp_neg`, written for either lane count.
INL vf exp_neg_v(vf x) {
  x = vmax(x, vset1(-87.0f));
  const vf n = vround(vmul(x, vset1(1.44269504088896341f)));
  vf r = vfnmadd(n, vset1(0.693359375f), x);
  r = vfnmadd(n, vset1(-2.12194440e-4f), r);
  vf p = vset1(1.0f / 720);
  p = vfmadd(p, r, vset1(1.0f / 120));
  p = vfmadd(p, r, vset1(1.0f / 24));
  p = vfmadd(p, r, vset1(1.0f / 6));
  p = vfmadd(p, r, vset1(0.5f));
  p = vfmadd(p, r, vset1(1.0f));
  p = vfmadd(p, r, vset1(1.0f));
  return vmul(p, vexp2i(n));
}

// Scores of keys j0..j0+P-1 of the chunk (rows kf + j·d, widened) for NG lane groups of rows:
// s[j][row] = Σ_e kf[j][e]·qt[e][row] in order of e, times scale.
INL void score_block(const int NG, const int P, const float *kf, const float *qt, int d, int j0, float scale,
                     float *s) {
  vf acc[8][PGR_ROWS / VL];
  for (int p = 0; p < P; p++)
    for (int g = 0; g < NG; g++) acc[p][g] = vzero();
  for (int e = 0; e < d; e++) {
    vf q[PGR_ROWS / VL];
    for (int g = 0; g < NG; g++) q[g] = vload(qt + (size_t)e * PGR_ROWS + g * VL);
    for (int p = 0; p < P; p++) {
      const vf k = vset1(kf[(size_t)(j0 + p) * d + e]);
      for (int g = 0; g < NG; g++) acc[p][g] = vfmadd(k, q[g], acc[p][g]);
    }
  }
  const vf vs = vset1(scale);
  for (int p = 0; p < P; p++)
    for (int g = 0; g < NG; g++) vstore(s + (size_t)(j0 + p) * PGR_ROWS + g * VL, vmul(acc[p][g], vs));
}

INL void score_chunk(const int NG, const float *kf, const float *qt, int d, int j0, int j1, float scale, float *s) {
  enum { P = VL == 16 ? 8 : 4 };
  int j = j0;
  if (NG == 1 || VL == 16) {
    for (; j + P <= j1; j += P) score_block(NG, P, kf, qt, d, j, scale, s);
  } else {
    for (; j + 2 <= j1; j += 2) score_block(NG, 2, kf, qt, d, j, scale, s);
  }
  for (; j < j1; j++) score_block(NG, 1, kf, qt, d, j, scale, s);
}

// o[r][col..col+64) = o·corr[r], then += w[j][r]·v[j] for chunk slots j0..j1-1, for RT rows from r0.
INL void value_tile(const int RT, const int CW, float *const *orow, int r0, int col, const float *corr, const float *w,
                    const float *vfl, int d, int j0, int j1) {
  vf o[4][64 / VL];
  for (int r = 0; r < RT; r++) {
    const vf c = vset1(corr[r0 + r]);
    for (int u = 0; u < CW; u++) o[r][u] = vmul(vload(orow[r0 + r] + col + u * VL), c);
  }
  for (int j = j0; j < j1; j++) {
    vf v[64 / VL];
    for (int u = 0; u < CW; u++) v[u] = vload(vfl + (size_t)j * d + col + u * VL);
    for (int r = 0; r < RT; r++) {
      const vf wr = vset1(w[(size_t)j * PGR_ROWS + r0 + r]);
      for (int u = 0; u < CW; u++) o[r][u] = vfmadd(wr, v[u], o[r][u]);
    }
  }
  for (int r = 0; r < RT; r++)
    for (int u = 0; u < CW; u++) vstore(orow[r0 + r] + col + u * VL, o[r][u]);
}

int TARGET PGR_FN(attend_rows)(const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh,
                               const uint16_t *key_base, const uint16_t *value_base, const int32_t *block_table,
                               int block_size, size_t block_stride, size_t row_stride, int last0, int window,
                               int head_dim, float scale, float *outs, size_t out_token_stride,
                               size_t out_head_stride) {
  const int rows = ntok * nh;
  const int d = head_dim;
  if (ntok < 1 || nh < 1 || rows > PGR_ROWS || d < VL || d % VL != 0 || d > PGR_MAX_HEAD || last0 < 0) return 0;
  const int ng = (rows + VL - 1) / VL;
  // Sized by the head (28 KB at 64, 100 KB at 256): the transposed queries, the chunk's widened rows.
  float qt[d * PGR_ROWS];
  float kf[PGR_CHUNK * d], vfl[PGR_CHUNK * d];
  float w[PGR_CHUNK * PGR_ROWS];
  float running[PGR_ROWS], denominator[PGR_ROWS], corr[PGR_ROWS];
  int32_t firsts[PGR_ROWS], lasts[PGR_ROWS];
  float *orow[PGR_ROWS];
  memset(qt, 0, sizeof(float) * (size_t)d * PGR_ROWS);
  for (int r = 0; r < PGR_ROWS; r++) {
    running[r] = -INFINITY;
    denominator[r] = 0;
    firsts[r] = INT32_MAX;  // padding lanes: no position is theirs
    lasts[r] = -1;
  }
  for (int r = 0; r < rows; r++) {
    const int t = r / nh, h = r % nh;
    const float *q = queries + (size_t)t * token_stride + (size_t)h * head_stride;
    for (int e = 0; e < d; e++) qt[(size_t)e * PGR_ROWS + r] = q[e];
    lasts[r] = last0 + t;
    firsts[r] = window > 0 && lasts[r] - window + 1 > 0 ? lasts[r] - window + 1 : 0;
    orow[r] = outs + (size_t)t * out_token_stride + (size_t)h * out_head_stride;
    memset(orow[r], 0, sizeof(float) * (size_t)d);
  }
  const int min_first = firsts[0], max_last = lasts[rows - 1];
  const int max_first = firsts[rows - 1], min_last = lasts[0];
  vi vfirst[PGR_ROWS / VL], vlast[PGR_ROWS / VL];
  for (int g = 0; g < ng; g++) {
    vfirst[g] = viload(firsts + g * VL);
    vlast[g] = viload(lasts + g * VL);
  }
  for (int cs = min_first / PGR_CHUNK * PGR_CHUNK; cs <= max_last; cs += PGR_CHUNK) {
    const int pa = cs > min_first ? cs : min_first;
    const int pb = cs + PGR_CHUNK - 1 < max_last ? cs + PGR_CHUNK - 1 : max_last;
    const int j0 = pa - cs, j1 = pb - cs + 1;
    // Widen the chunk's key and value rows once for every row of the tile.
    for (int p = pa; p <= pb; p++) {
      const size_t at = (size_t)block_table[p / block_size] * block_stride + (size_t)(p % block_size) * row_stride;
      float *kd = kf + (size_t)(p - cs) * d, *vd = vfl + (size_t)(p - cs) * d;
      for (int e = 0; e < d; e += VL) {
        vstore(kd + e, cvt_f16(key_base + at + e));
        vstore(vd + e, cvt_f16(value_base + at + e));
      }
    }
    switch (ng) {
    case 1: score_chunk(1, kf, qt, d, j0, j1, scale, w); break;
    case 2: score_chunk(2, kf, qt, d, j0, j1, scale, w); break;
#if !PGR_ZMM
    case 3: score_chunk(3, kf, qt, d, j0, j1, scale, w); break;
    case 4: score_chunk(4, kf, qt, d, j0, j1, scale, w); break;
#endif
    }
    const vf ninf = vset1(-INFINITY);
    // Every row holds every position of the chunk (most chunks of a long prompt): nothing to mask.
    const int whole = pa >= max_first && pb <= min_last;
    for (int g = 0; g < ng; g++) {
      // Mask, chunk maximum, rescale factor, weights, the chunk's sum.
      // This lane group's rows all hold every position of the chunk and none is padding.
      const int plain = whole && (g + 1) * VL <= rows;
      vf cm = ninf;
      if (plain) {
        for (int j = j0; j < j1; j++) cm = vmax(cm, vload(w + (size_t)j * PGR_ROWS + g * VL));
      } else {
        for (int j = j0; j < j1; j++) {
          float *sp = w + (size_t)j * PGR_ROWS + g * VL;
          const vf s = keep(valid_at(viset1(cs + j), vfirst[g], vlast[g]), vload(sp), ninf);
          vstore(sp, s);
          cm = vmax(cm, s);
        }
      }
      const vf old = vload(running + g * VL);
      const vmask up = greater(cm, old);
      const vf m = keep(up, cm, old);
      const vf c = keep(up, exp_neg_v(vsub(old, cm)), vset1(1.0f));
      vstore(running + g * VL, m);
      vstore(corr + g * VL, c);
      vf part[4] = {vzero(), vzero(), vzero(), vzero()};
      for (int j = j0; j < j1; j++) {
        float *sp = w + (size_t)j * PGR_ROWS + g * VL;
        const vf s = vload(sp);
        const vf e = plain ? exp_neg_v(vsub(s, m)) : keep(greater(s, ninf), exp_neg_v(vsub(s, m)), vzero());
        vstore(sp, e);
        part[j & 3] = vadd(part[j & 3], e);
      }
      const vf sum = vadd(vadd(part[0], part[1]), vadd(part[2], part[3]));
      vstore(denominator + g * VL, vadd(vmul(vload(denominator + g * VL), c), sum));
    }
    // Weighted values: tiles of rows × 64 columns held in registers across the chunk.
    enum { RT = VL == 16 ? 4 : 2 };
    for (int col = 0; col < d; col += 64) {
      const int cw = (d - col < 64 ? d - col : 64) / VL;
      for (int r0 = 0; r0 < rows; r0 += RT) {
        const int rt = rows - r0 < RT ? rows - r0 : RT;
#define PGR_VT(nr, nc) value_tile(nr, nc, orow, r0, col, corr, w, vfl, d, j0, j1)
        if (cw == 64 / VL) {
          switch (rt) {
          case 1: PGR_VT(1, 64 / VL); break;
          case 2: PGR_VT(2, 64 / VL); break;
          case 3: PGR_VT(3, 64 / VL); break;
          default: PGR_VT(RT, 64 / VL); break;
          }
        } else {
          for (int u = 0; u < cw; u++)
            for (int r = r0; r < r0 + rt; r++) value_tile(1, 1, orow, r, col + u * VL, corr, w, vfl, d, j0, j1);
        }
#undef PGR_VT
      }
    }
  }
  for (int r = 0; r < rows; r++) {
    if (!(denominator[r] > 0)) continue;
    const vf inv = vset1(1.0f / denominator[r]);
    for (int e = 0; e < d; e += VL) vstore(orow[r] + e, vmul(vload(orow[r] + e), inv));
  }
  return 1;
}
