// Hand-written SIMD kernels for Peregrine, compiled once per instruction set with per-function target
// attributes and chosen at run time from CPUID. Every function here has a plain Swift twin in Kernels
// (the portable fallback and the reference the tests compare against).
#ifndef PEREGRINE_KERNELS_C_H
#define PEREGRINE_KERNELS_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set levels, in increasing order.
enum {
  PG_ISA_GENERIC = 0,  ///< no SIMD kernels: callers use the Swift code
  PG_ISA_AVX2 = 1,     ///< AVX2 + FMA + F16C
  PG_ISA_AVX512 = 2,   ///< AVX-512 F/BW/VL + VNNI
};

/// The level in use: the best the CPU supports, capped by the environment variable PEREGRINE_ISA
/// (0, 1 or 2) when set, to measure or test a lower level on a bigger CPU.
int pg_isa(void);
/// The best level this CPU supports.
int pg_isa_supported(void);

/// Which cache the packed kernels' decode prefetches fill: 1 for L1 (`prefetcht0`), 2 for L2
/// (`prefetcht1`). L1 on AMD family 1Ah (Zen 5), where it was measured; L2 elsewhere (on Zen 4, L1
/// prefetches 8 KB ahead halved one core's Q6_K stream against L2's). PEREGRINE_PREFETCH=l1 or l2
/// overrides, to measure the other on a given CPU.
int pg_prefetch_level(void);
/// `pg_prefetch_level`'s choice for an AMD family (0: another vendor) and a PEREGRINE_PREFETCH value
/// (NULL: unset; anything but "l1" and "l2" is ignored), for tests.
int pg_prefetch_level_for(int family, const char *choice);

/// Spin-wait hint for busy loops.
static inline void pg_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/// Weight type codes (ggml's numbering).
enum {
  PG_F32 = 0, PG_F16 = 1, PG_Q4_0 = 2, PG_Q4_1 = 3, PG_Q5_0 = 6, PG_Q8_0 = 8, PG_Q4_K = 12, PG_Q5_K = 13, PG_Q6_K = 14,
  PG_IQ4_NL = 20
};

/// Or'ed into a `pg_gemm_packed` type code: sum in the kernel's fastest order instead of llama.cpp's
/// (Q4_1, Q8_0, Q5_0: a block's partial sums added in integers and scaled once; Q4_K, Q6_K: a
/// super-block's integer sum, minimum terms included, scaled by one multiply-add).
/// Results still never depend on how many activation rows a call has.
enum { PG_FAST_ORDER = 0x100 };

/// Bytes of one packed 8-row group per source block (32 elements for Q5_0, 256 for the K-quants).
enum {
  PG_Q4_0_GROUP_BLOCK = 144, PG_Q5_0_GROUP_BLOCK = 176, PG_Q4_K_GROUP_BLOCK = 1184, PG_Q5_K_GROUP_BLOCK = 1440,
  PG_Q6_K_GROUP_BLOCK = 1680
};

/// Quantizes `count` floats (a multiple of 32) to Q8_0 blocks (f16 d, 32×int8) or, with
/// `with_sum`, Q8_1 blocks (f16 d, f16 d·Σq, 32×int8). Returns 0 when no SIMD level is available.
int pg_quantize_q8(const float *x, void *dst, int count, int with_sum);
/// `pg_quantize_q8` at an explicit level (≤ `pg_isa_supported()`), for tests.
int pg_quantize_q8_at(int level, const float *x, void *dst, int count, int with_sum);

/// Quantizes `count` floats (a multiple of 256) to Q8_K blocks (f32 d, 256 int8, 16 int16 sums of
/// 16), bit-identical to the Swift `quantizeQ8K`. Returns 0 when no SIMD level is available.
int pg_quantize_q8k(const float *x, void *dst, int count);
/// `pg_quantize_q8k` at an explicit level (≤ `pg_isa_supported()`), for tests.
int pg_quantize_q8k_at(int level, const float *x, void *dst, int count);

/// y[t*y_stride + r] = dot(weight row r, activation row t) for r in [row_begin, row_end), t in
/// [0, n_tokens). Weight rows are `w_stride` bytes apart; activation rows (Q8_0 for Q4_0/Q8_0
/// weights, Q8_1 for Q4_1, f32 for F32/F16) `a_stride` bytes apart; `cols` elements per row.
/// Returns 0 when the type or the CPU is not covered (the caller falls back to Swift).
int pg_gemm(int type, const void *w, size_t w_stride, int row_begin, int row_end, const void *act,
            size_t a_stride, int n_tokens, float *y, size_t y_stride, int cols);
/// `pg_gemm` at an explicit level (≤ `pg_isa_supported()`), for tests.
int pg_gemm_at(int level, int type, const void *w, size_t w_stride, int row_begin, int row_end, const void *act,
               size_t a_stride, int n_tokens, float *y, size_t y_stride, int cols);

/// Row-interleaved ("packed") weights: groups of 8 rows, block by block, laid out so one 32-byte
/// load holds 4 consecutive codes of each of the 8 rows and one integer dot instruction yields 8 row
/// partial sums at once (no per-row horizontal reductions, one f16→f32 conversion per 8 scales).
/// Per group and 32-element block: the 8 rows' f16 d (16 bytes), for Q4_1 their f16 m (16 bytes),
/// then the code bytes: chunk c (32 bytes) holds bytes 4c..4c+3 of each row's codes, row r at 4r.
/// The last group is padded with zero rows. Groups follow each other, blocks within a group too.
/// Q4_0 and IQ4_NL (Q8_0 activations) use Q4_1's layout without the minimums (144 bytes per group and
/// block); their products take one order whatever the numerics (llama.cpp's repacked one, see
/// kernels_packed_q4.h).
/// Q5_0 (Q8_0 activations), Q4_K and Q6_K (Q8_K activations) have packed forms of their own, with
/// scales widened to bytes (Q6_K's codes keep their 6 bits); their layouts are described in pack.c.
/// F16 (f32 activations, rows a multiple of 8 elements) packs each 8-row group as two 4-row quads,
/// 8 columns of the quad's 4 rows per 64-byte line, so a register tile of 4 rows streams through
/// memory in order; its results equal the unpacked `pg_gemm` bit for bit (batch-invariant).
/// Returns the packed size in bytes, or 0 if the type has no packed form (Q4_0, Q4_1, Q8_0, Q5_0,
/// IQ4_NL, Q4_K, Q6_K and F16 do).
size_t pg_packed_size(int type, int rows, int cols);
/// Packs `rows` rows (`src_stride` bytes apart) into `dst` (`pg_packed_size` bytes).
int pg_pack(int type, const void *src, size_t src_stride, int rows, int cols, void *dst);
/// Like `pg_gemm` for packed weights, over groups [group_begin, group_end) (8 rows each); outputs
/// beyond `rows` (padding) are not written.
int pg_gemm_packed(int type, const void *packed, int rows, int group_begin, int group_end, const void *act,
                   size_t a_stride, int n_tokens, float *y, size_t y_stride, int cols);
/// Or'ed into the type of `pg_gemm_packed`: llama.cpp's float order for rows it multiplies in a batch
/// rather than one at a time. Q4_K: each pair of sub-blocks (64 elements) added to the float sums
/// separately, as its four-row repacked kernel does (without the flag: each super-block's integer sums
/// at once, its one-row kernel). Q6_K: per super-block one integer sum, multiplied by d_w, then by
/// d_a, then added (its tiled kernel for 8+ rows; without the flag: eight lane sums with fused
/// multiply-adds, its vec_dot). The orders differ in the last bits. Other types, and PG_FAST_ORDER,
/// ignore the flag.
enum { PG_BATCHED = 0x200 };
/// `pg_gemm_packed` at an explicit level, for tests.
int pg_gemm_packed_at(int level, int type, const void *packed, int rows, int group_begin, int group_end,
                      const void *act, size_t a_stride, int n_tokens, float *y, size_t y_stride, int cols);

/// Attention of one query head over keys/values stored as f16 in fixed-size blocks.
///
/// Position p lives in block `block_table[p / block_size]`, row `p % block_size`; a row of a block
/// starts at `key_base + block * block_stride + (p % block_size) * row_stride` (in f16 elements; the
/// same offsets for `value_base`). Positions `first..last` (inclusive) are attended with scores
/// `scale · q·k`, streamed block by block with an online softmax. `out` gets `head_dim` floats.
/// Returns 0 when no SIMD level is available.
int pg_attend_head(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                   const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride,
                   int first, int last, int head_dim, float scale, float *out);

/// `pg_attend_head` with llama.cpp's CPU flash-attention arithmetic: the query rounded to f16, each
/// score summed in a fixed 16-lane order, positions taken one at a time with an online softmax whose
/// weighted value sum is held in f16 and rounded after every position. Head sizes up to 1024.
/// Returns 0 when no SIMD level is available (or the head is larger).
int pg_attend_head_half(const float *query, const uint16_t *key_base, const uint16_t *value_base,
                        const int32_t *block_table, int block_size, size_t block_stride, size_t row_stride, int first,
                        int last, int head_dim, float scale, float *out);

/// `pg_attend_head_half` for `nq` query heads sharing one KV head (as `pg_attend_heads`): the same
/// results as one call per head, with the heads' position-by-position updates interleaved.
int pg_attend_heads_half(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                         const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                         size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                         size_t out_stride);
/// `pg_attend_heads_half` at one SIMD level (`PG_ISA_*`, at most `pg_isa_supported()`), for tests
/// that check every level gives the same bits. Returns 0 for a level this CPU lacks.
int pg_attend_heads_half_at(int level, const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                            const uint16_t *value_base, const int32_t *block_table, int block_size,
                            size_t block_stride, size_t row_stride, int first, int last, int head_dim, float scale,
                            float *outs, size_t out_stride);

/// gate[i] = silu(gate[i]) · up[i]. Returns 0 when no SIMD level is available.
int pg_swiglu(float *gate, const float *up, int n);
/// out = x / sqrt(mean(x²) + eps) · weight, the sum of squares in double. Returns 0 without SIMD.
int pg_rms_norm(const float *x, const float *weight, float *out, int n, float eps);

/// Reads `bytes` bytes (a multiple of 64) and returns a checksum, so the loads cannot be removed:
/// the inner loop of the memory-bandwidth probe.
uint64_t pg_read_checksum(const void *data, size_t bytes);

/// `pg_attend_head` for `nq` query heads sharing one KV head: query h at
/// `queries + h * query_stride`, its output at `outs + h * out_stride`. With AVX-512 (head_dim a
/// multiple of 64) the heads run in register tiles of up to 4 that widen each f16 key and value row
/// once per tile; other shapes and AVX2 run one head after the other. Same bits either way.
int pg_attend_heads(const float *queries, size_t query_stride, int nq, const uint16_t *key_base,
                    const uint16_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                    size_t row_stride, int first, int last, int head_dim, float scale, float *outs, size_t out_stride);

/// `pg_attend_heads` over keys/values stored as Q8_0: a head's row is `head_dim / 32` blocks of 34
/// bytes (an f16 scale, then 32 int8 codes), `block_stride` and `row_stride` count bytes, and
/// `key_base`/`value_base` point at the head's first block. Scores and the value sum are f32 (the
/// codes dequantized, the query kept in f32). Returns 0 when no SIMD level is available or
/// `head_dim` is not a positive multiple of 32.
int pg_attend_heads_q8(const float *queries, size_t query_stride, int nq, const uint8_t *key_base,
                       const uint8_t *value_base, const int32_t *block_table, int block_size, size_t block_stride,
                       size_t row_stride, int first, int last, int head_dim, float scale, float *outs,
                       size_t out_stride);

/// Attention of a tile of query rows over f16 keys and values in blocks (as `pg_attend_heads`):
/// `ntok` consecutive tokens, token t at position `last0 + t`, times `nh` query heads of one KV head,
/// at most 32 rows. Row (t, h) reads its query at `queries + t * token_stride + h * head_stride` and
/// writes `outs + t * out_token_stride + h * out_head_stride`; it attends to positions
/// `max(0, last - window + 1)...last` (`window` 0: from 0). Every row's bits depend only on its own
/// query and positions (see attention_rows_impl.h and `attendRowsReference`), whatever the tile and
/// SIMD level. Returns 0 without a SIMD level, or when `head_dim` is not a multiple of the lane count
/// (8) up to 256.
int pg_attend_rows(const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh,
                   const uint16_t *key_base, const uint16_t *value_base, const int32_t *block_table, int block_size,
                   size_t block_stride, size_t row_stride, int last0, int window, int head_dim, float scale,
                   float *outs, size_t out_token_stride, size_t out_head_stride);
/// `pg_attend_rows` at one SIMD level (`PG_ISA_*`), for tests that every level gives the same bits.
/// Returns 0 for a level this CPU lacks.
int pg_attend_rows_at(int level, const float *queries, size_t token_stride, size_t head_stride, int ntok, int nh,
                      const uint16_t *key_base, const uint16_t *value_base, const int32_t *block_table,
                      int block_size, size_t block_stride, size_t row_stride, int last0, int window, int head_dim,
                      float scale, float *outs, size_t out_token_stride, size_t out_head_stride);

#ifdef __cplusplus
}
#endif

#endif
