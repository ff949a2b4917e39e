// Half-accumulator attention (attention_half_impl.h) on AVX2 + FMA + F16C, 8 lanes at a time.
#if defined(__x86_64__)
#define PGH_FN(name) pg_##name##_avx2
#define PGH_TARGET __attribute__((target("avx2,fma,f16c")))
#define PGH_ZMM 0
#include "attention_half_impl.h"
#endif
