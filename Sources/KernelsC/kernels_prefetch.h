// Prefetching for the packed tiles. Included by kernels_impl.h once per instruction set.

// Prefetching of packed weights: the hardware prefetcher alone keeps too few lines in flight per core
// (a plain read loop measured 14–20 GB/s on one Zen 5 core, the same loop prefetching a few KB ahead
// 20–28). A pair of groups' first tile prefetches, for block b, the bytes `ahead` further along each
// group's stream, past the group's end the next pair's (`next`; NULL: none, or a later tile), into
// the cache pg_prefetch_level() chose (set before the first product, in pg_gemm_packed_at): L1 on
// Zen 5; L2 elsewhere, as on Zen 4, where L1 prefetches held one core's Q6_K stream at 9 GB/s and L2
// prefetches reach 19–20 (tools/kernel_stream_bench 14 131072 2048 8).
extern int pg_prefetch_target;
INL void prefetch_stream(const uint8_t *group, const uint8_t *next, int b, int nb, size_t block_bytes, size_t ahead) {
  if (!next) return;
  const size_t end = (size_t)nb * block_bytes, from = (size_t)b * block_bytes + ahead;
  const int l1 = pg_prefetch_target == 1;
  for (size_t o = from; o < from + block_bytes; o += 64) {
    const char *line = (const char *)(o < end ? group + o : next + (o - end));
    if (l1) _mm_prefetch(line, _MM_HINT_T0);
    else _mm_prefetch(line, _MM_HINT_T1);
  }
}

// `ahead` for a product of n activation rows. Decode (n ≤ PG_TILE_T) streams each weight byte once
// from memory: a fixed 8 KB ahead keeps lines in flight without evicting the ones in use (a whole
// pair ahead, 50–75 KB on a 5632-wide row, is more than L1 holds; 8 KB doubled one thread's Q6_K
// stream). Prefill reads weights from L2 blocks, and a whole group ahead fetches the next pair into
// L1 while the first tile runs.
INL size_t prefetch_ahead(int n, size_t group_bytes) { return n <= PG_TILE_T ? 8192 : group_bytes; }
