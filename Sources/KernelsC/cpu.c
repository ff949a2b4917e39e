#include <stdlib.h>

#include "KernelsC.h"

static int supported_level = -1;
static int active_level = -1;

int pg_isa_supported(void) {
  if (supported_level < 0) {
    int level = PG_ISA_GENERIC;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
      level = PG_ISA_AVX2;
    if (level == PG_ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
      level = PG_ISA_AVX512;
#endif
    supported_level = level;  // idempotent: a racing first call stores the same value
  }
  return supported_level;
}

int pg_isa(void) {
  if (active_level < 0) {
    int level = pg_isa_supported();
    const char *cap = getenv("PEREGRINE_ISA");
    if (cap && *cap >= '0' && *cap <= '2' && *cap - '0' < level) level = *cap - '0';
    active_level = level;
  }
  return active_level;
}
