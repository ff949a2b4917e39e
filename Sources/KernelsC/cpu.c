#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

int pg_prefetch_target = 0;

// AMD's family (base plus extended), or 0 for another vendor.
static int amd_family(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  char vendor[13] = {0};
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  if (strcmp(vendor, "AuthenticAMD") != 0 || !__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const int base = (a >> 8) & 0xF;
  return base == 0xF ? base + ((a >> 20) & 0xFF) : base;
#else
  return 0;
#endif
}

int pg_prefetch_level_for(int family, const char *choice) {
  if (choice && strcmp(choice, "l1") == 0) return 1;
  if (choice && strcmp(choice, "l2") == 0) return 2;
  return family == 0x1A ? 1 : 2;
}

int pg_prefetch_level(void) {
  if (pg_prefetch_target == 0)
    pg_prefetch_target = pg_prefetch_level_for(amd_family(), getenv("PEREGRINE_PREFETCH"));  // idempotent
  return pg_prefetch_target;
}
