// Half-accumulator attention (attention_half_impl.h) on AVX-512, 16 lanes at a time: the same bits
// as the AVX2 build, with half the instructions per score and per value update.
#if defined(__x86_64__)
#define PGH_FN(name) pg_##name##_avx512
#define PGH_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))
#define PGH_ZMM 1
#include "attention_half_impl.h"
#endif
