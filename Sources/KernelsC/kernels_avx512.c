// AVX-512 (F/BW/VL) + VNNI variants: vpdpbusd, 512-bit packed Q4_1/Q8_0 tiles, and 32 vector
// registers allow a 4×4 tile.
#if defined(__x86_64__)
#define PG_FN(name) pg_##name##_avx512
#define PG_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define PG_ZMM 1
#define PG_VNNI 1
#define PG_TILE_R 4
#define PG_TILE_T 4
#define PG_FTILE_R 4
#include "kernels_impl.h"
#endif
