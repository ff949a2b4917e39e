// Prompt attention, one KV head's query group over a whole prompt, timed two ways: one token at a
// time (pg_attend_heads, the per-token f32 kernel) and in tiles of up to 32 rows (pg_attend_rows).
// Single-threaded; best of ITERS; prints GMAC/s (q·k and w·v each count head_dim MACs per position)
// and how far the two kernels' outputs are apart.
//
//   clang -O3 -mf16c -I Sources/KernelsC/include -I Sources/KernelsC tools/attention_bench.c \
//     Sources/KernelsC/*.c -o /tmp/attention_bench -lm -lpthread
//   /tmp/attention_bench [TOKENS=858] [GROUP=8] [HEAD_DIM=64] [BLOCK=16] [ITERS=5] [LEVEL=2]
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "KernelsC.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float uniform(void) { return rand() / (float)RAND_MAX - 0.5f; }

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 858, group = argc > 2 ? atoi(argv[2]) : 8;
  const int d = argc > 3 ? atoi(argv[3]) : 64, bs = argc > 4 ? atoi(argv[4]) : 16;
  const int iters = argc > 5 ? atoi(argv[5]) : 5, level = argc > 6 ? atoi(argv[6]) : 2;
  const int kv_heads = 4;  // rows interleave four KV heads, as a cache row does
  const size_t row = (size_t)kv_heads * d;
  const int blocks = (n + bs - 1) / bs;
  uint16_t *k = malloc(2 * row * blocks * bs), *v = malloc(2 * row * blocks * bs);
  srand(1);
  for (size_t i = 0; i < row * blocks * bs; i++) {
    k[i] = _cvtss_sh(2 * uniform(), 0);
    v[i] = _cvtss_sh(uniform(), 0);
  }
  int32_t *table = malloc(4 * (size_t)blocks);
  for (int i = 0; i < blocks; i++) table[i] = (int32_t)((i * 7) % blocks);  // scattered blocks
  const size_t qn = (size_t)n * group * d;
  float *q = malloc(4 * qn), *a = malloc(4 * qn), *b = malloc(4 * qn);
  for (size_t i = 0; i < qn; i++) q[i] = uniform();
  const int per_tile = 32 / group > 0 ? 32 / group : 1;
  if (group > 32) return fprintf(stderr, "group > 32\n"), 1;
  double best_a = 1e9, best_b = 1e9;
  for (int it = 0; it < iters; it++) {
    double t0 = now();
    for (int t = 0; t < n; t++)
      pg_attend_heads(q + (size_t)t * group * d, d, group, k, v, table, bs, (size_t)bs * row, row, 0, t, d, 0.125f,
                      a + (size_t)t * group * d, d);
    const double ta = now() - t0;
    t0 = now();
    for (int t = 0; t < n; t += per_tile) {
      const int nt = n - t < per_tile ? n - t : per_tile;
      if (!pg_attend_rows_at(level, q + (size_t)t * group * d, (size_t)group * d, d, nt, group, k, v, table, bs,
                             (size_t)bs * row, row, t, 0, d, 0.125f, b + (size_t)t * group * d, (size_t)group * d, d))
        return fprintf(stderr, "level %d refused the shape\n", level), 1;
    }
    const double tb = now() - t0;
    if (ta < best_a) best_a = ta;
    if (tb < best_b) best_b = tb;
  }
  double diff = 0;
  for (size_t i = 0; i < qn; i++) diff = fmax(diff, fabs((double)a[i] - b[i]));
  const double macs = (double)n * (n + 1) / 2 * group * d * 2;
  printf("tokens %d group %d head %d block %d: per token %.2f ms %.1f GMAC/s | tiles of %d tokens (level %d) %.2f ms "
         "%.1f GMAC/s | %.2fx, max |diff| %.2g\n",
         n, group, d, bs, best_a * 1e3, macs / best_a / 1e9, per_tile, level, best_b * 1e3, macs / best_b / 1e9,
         best_a / best_b, diff);
  return 0;
}
