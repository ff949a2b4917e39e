// Prefetching for the packed tiles. Included by kernels_impl.h once per instruction set.

// Prefetching of packed weights into L1 (PG_PREFETCH_HINT): the hardware prefetcher alone keeps too
// few lines in flight per core (a plain read loop measured 14–20 GB/s on one Zen 5 core, the same loop
// prefetching a few KB ahead 20–28). A pair of groups' first tile prefetches, for block b, the bytes
// `ahead` further along each group's stream, past the group's end the next pair's (`next`; NULL:
// none, or a later tile).
#ifndef PG_PREFETCH_HINT
#define PG_PREFETCH_HINT _MM_HINT_T0
#endif
INL void prefetch_stream(const uint8_t *group, const uint8_t *next, int b, int nb, size_t block_bytes, size_t ahead) {
  if (!next) return;
  const size_t end = (size_t)nb * block_bytes, from = (size_t)b * block_bytes + ahead;
  for (size_t o = from; o < from + block_bytes; o += 64)
    _mm_prefetch((const char *)(o < end ? group + o : next + (o - end)), PG_PREFETCH_HINT);
}

// `ahead` for a product of n activation rows. Decode (n ≤ PG_TILE_T) streams each weight byte once
// from memory: a fixed 8 KB ahead keeps lines in flight without evicting the ones in use (a whole
// pair ahead, 50–75 KB on a 5632-wide row, is more than L1 holds; 8 KB doubled one thread's Q6_K
// stream). Prefill reads weights from L2 blocks, and a whole group ahead fetches the next pair into
// L1 while the first tile runs.
INL size_t prefetch_ahead(int n, size_t group_bytes) { return n <= PG_TILE_T ? 8192 : group_bytes; }
