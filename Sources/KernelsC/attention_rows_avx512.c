// Prompt attention over tiles of query rows (attention_rows_impl.h), 16 lanes at a time: the same
// bits as the AVX2 build.
#if defined(__x86_64__)
#define PGR_FN(name) pg_##name##_avx512
#define PGR_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))
#define PGR_ZMM 1
#include "attention_rows_impl.h"
#endif
