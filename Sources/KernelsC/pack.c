// Row-interleaved weight layout (see KernelsC.h), portable C: runs once per matrix.
#include <string.h>

#include "KernelsC.h"

static int packed_geometry(int type, int *header, int *codes, int *src_block) {
  switch (type) {
  case PG_Q4_1: *header = 32; *codes = 128; *src_block = 20; return 1;
  case PG_Q8_0: *header = 16; *codes = 256; *src_block = 34; return 1;
  default: return 0;
  }
}

size_t pg_packed_size(int type, int rows, int cols) {
  int header, codes, src_block;
  if (!packed_geometry(type, &header, &codes, &src_block) || cols % 32 != 0) return 0;
  return (size_t)((rows + 7) / 8) * (size_t)(cols / 32) * (size_t)(header + codes);
}

int pg_pack(int type, const void *src, size_t src_stride, int rows, int cols, void *dst) {
  int header, codes, src_block;
  if (!packed_geometry(type, &header, &codes, &src_block) || cols % 32 != 0) return 0;
  const int nb = cols / 32;
  const int scales = type == PG_Q4_1 ? 2 : 1;
  const int code_offset = 2 * scales;  // in the source block
  const int chunks = codes / 32;
  uint8_t *out = (uint8_t *)dst;
  const uint8_t *in = (const uint8_t *)src;
  for (int g = 0; g < (rows + 7) / 8; g++) {
    for (int b = 0; b < nb; b++) {
      uint8_t *block = out + ((size_t)g * nb + b) * (size_t)(header + codes);
      memset(block, 0, (size_t)(header + codes));
      for (int r = 0; r < 8; r++) {
        const int row = g * 8 + r;
        if (row >= rows) break;
        const uint8_t *s = in + (size_t)row * src_stride + (size_t)b * src_block;
        for (int k = 0; k < scales; k++) memcpy(block + 16 * k + 2 * r, s + 2 * k, 2);
        for (int c = 0; c < chunks; c++) memcpy(block + header + 32 * c + 4 * r, s + code_offset + 4 * c, 4);
      }
    }
  }
  return 1;
}
