// Which 512-bit operations share execution ports on this CPU: each test runs 12 independent
// accumulators through one instruction (or 12 more through a second), so the loop is bound by throughput,
// not latency, and prints operations per nanosecond. Two instructions that each reach N alone and
// together reach N between them share a port group; together 2N means they do not. The kernels'
// floors follow from that (BENCHMARKS.md, issue-23 sitting): on a Zen 4 core vpdpbusd, vpmulld,
// vpmaddwd, vpdpwssd and vfmadd231ps share one 512-bit operation per cycle between them, while
// vcvtdq2ps and vpaddd run beside them.
//
//   clang -O2 tools/zmm_port_probe.c -o /tmp/zmm_port_probe && /tmp/zmm_port_probe
//
// Needs AVX-512 F/BW and VNNI (the instructions are written in assembly, so no target flags).
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Twelve copies of one instruction on accumulators zmm0..zmm11 with sources zmm14, zmm15 (a pair
// test adds a second instruction on its own accumulators zmm16..zmm27), run `n` times.
#define X12(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)
#define Y12(op) op(16) op(17) op(18) op(19) op(20) op(21) op(22) op(23) op(24) op(25) op(26) op(27)
#define CLOBBERS                                                                                                  \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm14", \
      "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25",     \
      "xmm26", "xmm27"
#define PROBE(name, ...)                                                                                       \
  do {                                                                                                         \
    const long n = 20000000;                                                                                   \
    const double t0 = now();                                                                                   \
    for (long i = 0; i < n; i++) __asm__ volatile(__VA_ARGS__ ::: CLOBBERS);                                   \
    printf("%-34s %5.2f per ns\n", name, 12.0 * n / ((now() - t0) * 1e9));                                    \
  } while (0)

#define DPBUSD(k) "vpdpbusd %%zmm14, %%zmm15, %%zmm" #k "\n"
#define FMA(k) "vfmadd231ps %%zmm14, %%zmm15, %%zmm" #k "\n"
#define MULLO(k) "vpmulld %%zmm14, %%zmm" #k ", %%zmm" #k "\n"
#define MADDWD(k) "vpmaddwd %%zmm14, %%zmm" #k ", %%zmm" #k "\n"
#define DPWSSD(k) "vpdpwssd %%zmm14, %%zmm15, %%zmm" #k "\n"
#define CVT(k) "vcvtdq2ps %%zmm14, %%zmm" #k "\n"
#define ADDD(k) "vpaddd %%zmm14, %%zmm" #k ", %%zmm" #k "\n"
#define PERMT2D(k) "vpermt2d %%zmm14, %%zmm15, %%zmm" #k "\n"

int main(void) {
  __asm__ volatile("vpxord %%zmm14, %%zmm14, %%zmm14\n vpxord %%zmm15, %%zmm15, %%zmm15" ::: "xmm14", "xmm15");
  PROBE("vpdpbusd", X12(DPBUSD));
  PROBE("vfmadd231ps", X12(FMA));
  PROBE("vpmulld", X12(MULLO));
  PROBE("vpmaddwd", X12(MADDWD));
  PROBE("vpdpwssd", X12(DPWSSD));
  PROBE("vcvtdq2ps", X12(CVT));
  PROBE("vpaddd", X12(ADDD));
  PROBE("vpermt2d", X12(PERMT2D));
  // Pairs: twelve of each instruction on separate accumulators; per ns counts pairs.
  PROBE("vpdpbusd + vfmadd231ps (pairs)", X12(DPBUSD) Y12(FMA));
  PROBE("vpdpbusd + vpmulld (pairs)", X12(DPBUSD) Y12(MULLO));
  PROBE("vpdpbusd + vpdpwssd (pairs)", X12(DPBUSD) Y12(DPWSSD));
  PROBE("vpdpbusd + vcvtdq2ps (pairs)", X12(DPBUSD) Y12(CVT));
  PROBE("vpdpbusd + vpaddd (pairs)", X12(DPBUSD) Y12(ADDD));
  PROBE("vpdpbusd + vpermt2d (pairs)", X12(DPBUSD) Y12(PERMT2D));
  PROBE("vfmadd231ps + vcvtdq2ps (pairs)", X12(FMA) Y12(CVT));
  return 0;
}
