// Run-time choice between the per-ISA variants.
#include "KernelsC.h"

#if defined(__x86_64__)
int pg_quantize_q8_avx2(const float *x, void *dst, int count, int with_sum);
int pg_quantize_q8_avx512(const float *x, void *dst, int count, int with_sum);
int pg_quantize_q8k_avx2(const float *x, void *dst, int count);
int pg_quantize_q8k_avx512(const float *x, void *dst, int count);
int pg_gemm_avx2(int type, const void *w, size_t w_stride, int r0, int r1, const void *act, size_t a_stride, int n,
                 float *y, size_t y_stride, int cols);
int pg_gemm_avx512(int type, const void *w, size_t w_stride, int r0, int r1, const void *act, size_t a_stride, int n,
                   float *y, size_t y_stride, int cols);
int pg_gemm_packed_avx2(int type, const void *packed, int rows, int g0, int g1, const void *act, size_t a_stride,
                        int n, float *y, size_t y_stride, int cols);
int pg_gemm_packed_avx512(int type, const void *packed, int rows, int g0, int g1, const void *act, size_t a_stride,
                          int n, float *y, size_t y_stride, int cols);
int pg_attend_heads_avx2(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                         const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                         size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                         size_t out_stride);
int pg_attend_heads_avx512(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                           const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                           size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                           size_t out_stride);
int pg_attend_head_avx2(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                        const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride, int first,
                        int last, int head_dim, float scale, float *out);
int pg_attend_head_half_avx2(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                             const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride,
                             int first, int last, int head_dim, float scale, float *out);
int pg_attend_head_half_avx512(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                               const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride,
                               int first, int last, int head_dim, float scale, float *out);
int pg_attend_heads_half_avx2(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                              const uint16_t *value_base, const int32_t *block_table, int block_size,
                              size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                              float *outs, size_t out_stride);
int pg_attend_heads_half_avx512(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                                const uint16_t *value_base, const int32_t *block_table, int block_size,
                                size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                                float *outs, size_t out_stride);

int pg_attend_heads_q8_avx2(const float *queries, size_t query_stride, int nq, const uint8_t *key_base,
                            const uint8_t *value_base, const int32_t *block_table, int block_size,
                            size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                            float *outs, size_t out_stride);
#define PG_ROWS_ARGS                                                                                      \
  const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh, const uint16_t *key_base,    \
      const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,             \
      size_t row_stride, int last0, int window, int head_dim, float scale, float *outs, size_t out_token_stride, \
      size_t out_head_stride
int pg_attend_rows_avx2(PG_ROWS_ARGS);
int pg_attend_rows_avx512(PG_ROWS_ARGS);
#endif

int pg_quantize_q8(const float *x, void *dst, int count, int with_sum) {
  return pg_quantize_q8_at(pg_isa(), x, dst, count, with_sum);
}

int pg_quantize_q8_at(int level, const float *x, void *dst, int count, int with_sum) {
  if (level > pg_isa_supported()) return 0;
#if defined(__x86_64__)
  switch (level) {
  case PG_ISA_AVX512: return pg_quantize_q8_avx512(x, dst, count, with_sum);
  case PG_ISA_AVX2: return pg_quantize_q8_avx2(x, dst, count, with_sum);
  }
#endif
  return 0;
}

int pg_quantize_q8k(const float *x, void *dst, int count) { return pg_quantize_q8k_at(pg_isa(), x, dst, count); }

int pg_quantize_q8k_at(int level, const float *x, void *dst, int count) {
  if (level > pg_isa_supported()) return 0;
#if defined(__x86_64__)
  switch (level) {
  case PG_ISA_AVX512: return pg_quantize_q8k_avx512(x, dst, count);
  case PG_ISA_AVX2: return pg_quantize_q8k_avx2(x, dst, count);
  }
#endif
  return 0;
}

int pg_gemm(int type, const void *w, size_t w_stride, int r0, int r1, const void *act, size_t a_stride, int n,
            float *y, size_t y_stride, int cols) {
  return pg_gemm_at(pg_isa(), type, w, w_stride, r0, r1, act, a_stride, n, y, y_stride, cols);
}

int pg_gemm_at(int level, int type, const void *w, size_t w_stride, int r0, int r1, const void *act,
               size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  if (level > pg_isa_supported()) return 0;
#if defined(__x86_64__)
  switch (level) {
  case PG_ISA_AVX512: return pg_gemm_avx512(type, w, w_stride, r0, r1, act, a_stride, n, y, y_stride, cols);
  case PG_ISA_AVX2: return pg_gemm_avx2(type, w, w_stride, r0, r1, act, a_stride, n, y, y_stride, cols);
  }
#endif
  return 0;
}

int pg_attend_head(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                   const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride, int first,
                   int last, int head_dim, float scale, float *out) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2)
    return pg_attend_head_avx2(query, key_base, value_base, block_table, block_size, block_stride, row_stride, first,
                               last, head_dim, scale, out);
#endif
  return 0;
}

int pg_attend_head_half(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                        const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride, int first,
                        int last, int head_dim, float scale, float *out) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX512)
    return pg_attend_head_half_avx512(query, key_base, value_base, block_table, block_size, block_stride, row_stride,
                                      first, last, head_dim, scale, out);
  if (pg_isa() >= PG_ISA_AVX2)
    return pg_attend_head_half_avx2(query, key_base, value_base, block_table, block_size, block_stride, row_stride,
                                    first, last, head_dim, scale, out);
#endif
  return 0;
}

int pg_attend_heads_half(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                         const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                         size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                         size_t out_stride) {
  return pg_attend_heads_half_at(pg_isa(), queries, query_stride, nq, key_base, value_base, block_table, block_size,
                                 block_stride, row_stride, first, last, head_dim, scale, outs, out_stride);
}

int pg_attend_heads_half_at(int level, const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                            const uint16_t *value_base, const int32_t *block_table, int block_size,
                            size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                            float *outs, size_t out_stride) {
  if (level > pg_isa_supported()) return 0;
#if defined(__x86_64__)
  switch (level) {
  case PG_ISA_AVX512:
    return pg_attend_heads_half_avx512(queries, query_stride, nq, key_base, value_base, block_table, block_size,
                                       block_stride, row_stride, first, last, head_dim, scale, outs, out_stride);
  case PG_ISA_AVX2:
    return pg_attend_heads_half_avx2(queries, query_stride, nq, key_base, value_base, block_table, block_size,
                                     block_stride, row_stride, first, last, head_dim, scale, outs, out_stride);
  }
#endif
  return 0;
}

int pg_gemm_packed(int type, const void *packed, int rows, int g0, int g1, const void *act, size_t a_stride, int n,
                   float *y, size_t y_stride, int cols) {
  return pg_gemm_packed_at(pg_isa(), type, packed, rows, g0, g1, act, a_stride, n, y, y_stride, cols);
}

int pg_gemm_packed_at(int level, int type, const void *packed, int rows, int g0, int g1, const void *act,
                      size_t a_stride, int n, float *y, size_t y_stride, int cols) {
  if (level > pg_isa_supported()) return 0;
  pg_prefetch_level();
#if defined(__x86_64__)
  switch (level) {
  case PG_ISA_AVX512: return pg_gemm_packed_avx512(type, packed, rows, g0, g1, act, a_stride, n, y, y_stride, cols);
  case PG_ISA_AVX2: return pg_gemm_packed_avx2(type, packed, rows, g0, g1, act, a_stride, n, y, y_stride, cols);
  }
#endif
  return 0;
}

int pg_attend_heads(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                    const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                    size_t row_stride, int first, int last, int head_dim, float scale, float *outs, size_t out_stride) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX512)
    return pg_attend_heads_avx512(queries, query_stride, nq, key_base, value_base, block_table, block_size,
                                  block_stride, row_stride, first, last, head_dim, scale, outs, out_stride);
  if (pg_isa() >= PG_ISA_AVX2)
    return pg_attend_heads_avx2(queries, query_stride, nq, key_base, value_base, block_table, block_size, block_stride,
                                row_stride, first, last, head_dim, scale, outs, out_stride);
#endif
  return 0;
}

int pg_attend_heads_q8(const float *queries, size_t query_stride, int nq, const uint8_t *key_base,
                       const uint8_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                       size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                       size_t out_stride) {
#if defined(__x86_64__)
  if (pg_isa() >= PG_ISA_AVX2)
    return pg_attend_heads_q8_avx2(queries, query_stride, nq, key_base, value_base, block_table, block_size,
                                   block_stride, row_stride, first, last, head_dim, scale, outs, out_stride);
#endif
  return 0;
}

int pg_attend_rows(const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh,
                   const uint16_t *key_base, const uint16_t *value_base, const int32_t *block_table, int block_size,
                   size_t block_stride, size_t row_stride, int last0, int window, int head_dim, float scale,
                   float *outs, size_t out_token_stride, size_t out_head_stride) {
  return pg_attend_rows_at(pg_isa(), queries, token_stride, head_stride, ntok, nh, key_base, value_base, block_table,
                           block_size, block_stride, row_stride, last0, window, head_dim, scale, outs,
                           out_token_stride, out_head_stride);
}

int pg_attend_rows_at(int level, const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh,
                      const uint16_t *key_base, const uint16_t *value_base, const int32_t *block_table,
                      int block_size, size_t block_stride, size_t row_stride, int last0, int window, int head_dim,
                      float scale, float *outs, size_t out_token_stride, size_t out_head_stride) {
#if defined(__x86_64__)
  if (level > pg_isa_supported()) return 0;
  switch (level) {
  case PG_ISA_AVX512:
    // A head size that is no multiple of 16 falls through to the 8-lane build (the same bits).
    if (pg_attend_rows_avx512(queries, token_stride, head_stride, ntok, nh, key_base, value_base, block_table,
                              block_size, block_stride, row_stride, last0, window, head_dim, scale, outs,
                              out_token_stride, out_head_stride))
      return 1;
    // fallthrough
  case PG_ISA_AVX2:
    return pg_attend_rows_avx2(queries, token_stride, head_stride, ntok, nh, key_base, value_base, block_table,
                               block_size, block_stride, row_stride, last0, window, head_dim, scale, outs,
                               out_token_stride, out_head_stride);
  }
#endif
  return 0;
}
