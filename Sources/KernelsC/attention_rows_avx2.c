// Prompt attention over tiles of query rows (attention_rows_impl.h), 8 lanes at a time.
#if defined(__x86_64__)
#define PGR_FN(name) pg_##name##_avx2
#define PGR_TARGET __attribute__((target("avx2,fma,f16c")))
#define PGR_ZMM 0
#include "attention_rows_impl.h"
#endif
