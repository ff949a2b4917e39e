// Memory read bandwidth probe: streaming 64-byte lines with SSE2 (baseline x86-64), four independent
// accumulators so the adds never limit the loads.
#include "KernelsC.h"

#if defined(__x86_64__)
#include <emmintrin.h>

uint64_t pg_read_checksum(const void *data, size_t bytes) {
  const __m128i *p = (const __m128i *)data;
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  for (size_t i = 0; i < bytes / 64; i++) {
    a = _mm_add_epi64(a, _mm_load_si128(p + 4 * i));
    b = _mm_add_epi64(b, _mm_load_si128(p + 4 * i + 1));
    c = _mm_add_epi64(c, _mm_load_si128(p + 4 * i + 2));
    d = _mm_add_epi64(d, _mm_load_si128(p + 4 * i + 3));
  }
  __m128i s = _mm_add_epi64(_mm_add_epi64(a, b), _mm_add_epi64(c, d));
  return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
}
#else
uint64_t pg_read_checksum(const void *data, size_t bytes) {
  const uint64_t *p = (const uint64_t *)data;
  uint64_t s = 0;
  for (size_t i = 0; i < bytes / 8; i++) s += p[i];
  return s;
}
#endif
