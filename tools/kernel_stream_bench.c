// One packed weight product timed alone, outside the engine: how fast a kernel streams a matrix
// larger than the caches (decode), or one that fits (compute), and a hash of its outputs so two
// builds of the kernels can be checked bit for bit. Random codes, a small fixed scale.
//
//   clang -O3 -I Sources/KernelsC/include -I Sources/KernelsC tools/kernel_stream_bench.c Sources/KernelsC/*.c -o /tmp/kbench -lm -lpthread
//   /tmp/kbench TYPE ROWS COLS ITERS [FLAGS [TOKENS]]
//     TYPE: ggml code (2 Q4_0, 8 Q8_0, 12 Q4_K, 14 Q6_K); FLAGS: 0 llama.cpp's one-row order,
//     256 fast order, 512 batched order; TOKENS: activation rows (default 1, a decode step)
//   /tmp/kbench 14 131072 2048 8      # a 220 MB Q6_K matrix streamed 8 times on one thread
//   /tmp/kbench 14 61 5632 1 512 37   # prints the output hash of a 37-row batched product
//
// To compare with an earlier commit, extract its Sources/KernelsC (git show REV:path for each
// file) into a directory and build this file against it the same way. Prints the packed and the
// file-equivalent bytes per second (the GGUF's bytes over the time).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "KernelsC.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s TYPE ROWS COLS ITERS [FLAGS [TOKENS]]\n", argv[0]);
    return 2;
  }
  const int type = atoi(argv[1]), rows = atoi(argv[2]), cols = atoi(argv[3]), iters = atoi(argv[4]);
  const int flags = argc > 5 ? atoi(argv[5]) : 0, tokens = argc > 6 ? atoi(argv[6]) : 1;
  int block_bytes, block_elems = 256;
  switch (type) {
  case PG_Q4_0: block_bytes = 18; block_elems = 32; break;
  case PG_Q8_0: block_bytes = 34; block_elems = 32; break;
  case PG_Q4_K: block_bytes = 144; break;
  case PG_Q6_K: block_bytes = 210; break;
  default: fprintf(stderr, "type %d: only 2, 8, 12, 14\n", type); return 2;
  }
  if (rows <= 0 || cols <= 0 || cols % block_elems != 0 || iters <= 0 || tokens <= 0) {
    fprintf(stderr, "rows, iters and tokens must be positive, cols a multiple of %d\n", block_elems);
    return 2;
  }
  const size_t stride = (size_t)cols / block_elems * block_bytes;
  uint8_t *src = malloc(stride * rows);
  srand(1);
  for (size_t i = 0; i < stride * rows; i++) src[i] = (uint8_t)rand();
  const uint16_t scale = 0x2000;  // f16 2^-7: every block's d (and Q4_K's dmin)
  for (int r = 0; r < rows; r++)
    for (int b = 0; b < cols / block_elems; b++) {
      uint8_t *blk = src + r * stride + (size_t)b * block_bytes;
      if (type == PG_Q6_K) memcpy(blk + 208, &scale, 2);
      else memcpy(blk, &scale, 2);
      if (type == PG_Q4_K) memcpy(blk + 2, &scale, 2);
    }
  const size_t packed_bytes = pg_packed_size(type, rows, cols);
  uint8_t *packed = aligned_alloc(64, (packed_bytes + 63) / 64 * 64);
  pg_pack(type, src, stride, rows, cols, packed);

  const size_t a_stride = block_elems == 256 ? (size_t)cols / 256 * 292 : (size_t)cols / 32 * 34;
  uint8_t *act = malloc(a_stride * tokens);
  float *x = malloc(sizeof(float) * cols);
  for (int t = 0; t < tokens; t++) {
    for (int i = 0; i < cols; i++) x[i] = rand() / (float)RAND_MAX - 0.5f;
    if (block_elems == 256) pg_quantize_q8k(x, act + t * a_stride, cols);
    else pg_quantize_q8(x, act + t * a_stride, cols, 0);
  }
  float *y = malloc(sizeof(float) * (size_t)rows * tokens);
  const int groups = (rows + 7) / 8;
  if (!pg_gemm_packed(type | flags, packed, rows, 0, groups, act, a_stride, tokens, y, rows, cols)) {
    fprintf(stderr, "pg_gemm_packed refused the product\n");
    return 1;
  }
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a over the output bytes
  for (size_t i = 0; i < sizeof(float) * (size_t)rows * tokens; i++) hash = (hash ^ ((uint8_t *)y)[i]) * 1099511628211ULL;
  const double t0 = now();
  for (int i = 0; i < iters; i++) pg_gemm_packed(type | flags, packed, rows, 0, groups, act, a_stride, tokens, y, rows, cols);
  const double dt = now() - t0;
  printf("type %d, %d x %d, %d row(s): %.2f GB/s packed (%.1f MB), %.2f GB/s file-equivalent, %.2f ms per product"
         " (%.1f GMAC/s), outputs %016llx\n", type, rows, cols, tokens, packed_bytes * (double)iters / dt / 1e9,
         packed_bytes / 1e6, stride * rows * (double)iters / dt / 1e9, dt / iters * 1e3,
         (double)rows * cols * tokens * iters / dt / 1e9, (unsigned long long)hash);
  return 0;
}
