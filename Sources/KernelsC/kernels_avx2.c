// AVX2 + FMA + F16C variants (x86-64-v3).
#if defined(__x86_64__)
#define PG_FN(name) pg_##name##_avx2
#define PG_TARGET __attribute__((target("avx2,fma,f16c")))
#define PG_ZMM 0
#define PG_VNNI 0
#define PG_TILE_R 4
#define PG_TILE_T 2
#define PG_FTILE_R 4
#include "kernels_impl.h"
#endif
