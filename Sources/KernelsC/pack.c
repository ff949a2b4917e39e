// Row-interleaved weight layouts (see KernelsC.h), portable C: runs once per matrix.
#include <string.h>

#include "KernelsC.h"

// Bytes per 8-row group and block of the packed form, bytes per source block, elements per block.
static int packed_geometry(int type, int *group_block, int *src_block, int *block_elems) {
  switch (type) {
  case PG_Q4_0:
  case PG_IQ4_NL: *group_block = PG_Q4_0_GROUP_BLOCK; *src_block = 18; *block_elems = 32; return 1;
  case PG_Q4_1: *group_block = 160; *src_block = 20; *block_elems = 32; return 1;
  case PG_Q8_0: *group_block = 272; *src_block = 34; *block_elems = 32; return 1;
  case PG_Q5_0: *group_block = PG_Q5_0_GROUP_BLOCK; *src_block = 22; *block_elems = 32; return 1;
  case PG_Q4_K: *group_block = PG_Q4_K_GROUP_BLOCK; *src_block = 144; *block_elems = 256; return 1;
  case PG_Q5_K: *group_block = PG_Q5_K_GROUP_BLOCK; *src_block = 176; *block_elems = 256; return 1;
  case PG_Q6_K: *group_block = PG_Q6_K_GROUP_BLOCK; *src_block = 210; *block_elems = 256; return 1;
  default: return 0;
  }
}

// F16: each 8-row group is two 4-row quads, one after the other; a quad holds its rows' columns in
// chunks of 8, chunk i as 64 bytes (one cache line): 8 f16 of row 0, then rows 1, 2, 3. A tile of 4
// rows then streams through memory in order. Rows must be a multiple of 8 elements (so no column
// tail); padding rows are zero.
static size_t packed_size_f16(int rows, int cols) {
  if (cols <= 0 || cols % 8 != 0) return 0;
  return (size_t)((rows + 7) / 8) * 8 * (size_t)cols * 2;
}

static void pack_f16(const uint8_t *in, size_t src_stride, int rows, int cols, uint8_t *out) {
  const int chunks = cols / 8;
  const int quads = (rows + 7) / 8 * 2;
  for (int q = 0; q < quads; q++)
    for (int i = 0; i < chunks; i++)
      for (int r = 0; r < 4; r++) {
        uint8_t *dst = out + (((size_t)q * chunks + i) * 4 + r) * 16;
        const int row = 4 * q + r;
        if (row < rows) memcpy(dst, in + (size_t)row * src_stride + 16 * (size_t)i, 16);
        else memset(dst, 0, 16);
      }
}

size_t pg_packed_size(int type, int rows, int cols) {
  if (type == PG_F16) return packed_size_f16(rows, cols);
  int gb, sb, be;
  if (!packed_geometry(type, &gb, &sb, &be) || cols <= 0 || cols % be != 0) return 0;
  return (size_t)((rows + 7) / 8) * (size_t)(cols / be) * (size_t)gb;
}

// Q4_0 / IQ4_NL / Q4_1 / Q8_0: scales (d, then Q4_1's m), then code bytes 4c..4c+3 of row r at chunk c,
// offset 4r.
static void pack_block_simple(int type, const uint8_t *s, int r, uint8_t *block) {
  const int scales = type == PG_Q4_1 ? 2 : 1;
  const int header = 16 * scales;
  const int chunks = type == PG_Q8_0 ? 8 : 4;
  for (int k = 0; k < scales; k++) memcpy(block + 16 * k + 2 * r, s + 2 * k, 2);
  for (int c = 0; c < chunks; c++) memcpy(block + header + 32 * c + 4 * r, s + 2 * scales + 4 * c, 4);
}

// Q5_0: f16 d at 2r; fifth-bit planes at 16 (byte 4r+k, bit 2c+h = fifth bit of element 16h+4c+k);
// nibble bytes 4c..4c+3 at 48 + 32c + 4r, as Q4_1.
static void pack_block_q5_0(const uint8_t *s, int r, uint8_t *block) {
  memcpy(block + 2 * r, s, 2);
  uint32_t qh;
  memcpy(&qh, s + 2, 4);
  for (int c = 0; c < 4; c++)
    for (int k = 0; k < 4; k++)
      for (int h = 0; h < 2; h++)
        block[16 + 4 * r + k] |= (uint8_t)(((qh >> (16 * h + 4 * c + k)) & 1) << (2 * c + h));
  for (int c = 0; c < 4; c++) memcpy(block + 48 + 32 * c + 4 * r, s + 6 + 4 * c, 4);
}

// Q4_K: f16 d at 2r, f16 dmin at 16 + 2r; 6-bit scales and mins as bytes, sub-block pairs
// (2i, 2i+1) at 32 + 16i + 2r (scales) and 96 + 16i + 2r (mins); then per 64-element chunk ch,
// 256 bytes: qs bytes 4c..4c+3 of the chunk at 160 + 256ch + 32c + 4r.
static void pack_scales_k4(const uint8_t *s, int r, uint8_t *block) {
  memcpy(block + 2 * r, s, 2);
  memcpy(block + 16 + 2 * r, s + 2, 2);
  const uint8_t *sc = s + 4;
  for (int j = 0; j < 8; j++) {
    uint8_t scale, min;
    if (j < 4) {
      scale = sc[j] & 63;
      min = sc[j + 4] & 63;
    } else {
      scale = (uint8_t)((sc[j + 4] & 0x0F) | (sc[j - 4] >> 6) << 4);
      min = (uint8_t)((sc[j + 4] >> 4) | (sc[j] >> 6) << 4);
    }
    block[32 + 16 * (j / 2) + 2 * r + (j & 1)] = scale;
    block[96 + 16 * (j / 2) + 2 * r + (j & 1)] = min;
  }
}

static void pack_block_q4_k(const uint8_t *s, int r, uint8_t *block) {
  pack_scales_k4(s, r, block);
  for (int ch = 0; ch < 4; ch++)
    for (int c = 0; c < 8; c++) memcpy(block + 160 + 256 * ch + 32 * c + 4 * r, s + 16 + 32 * ch + 4 * c, 4);
}

// Q5_K: Q4_K's first 160 bytes; the fifth-bit bytes qh[4c..4c+3] of row r at 160 + 32c + 4r (bit 2ch
// of qh[l] is element 64ch + l's, bit 2ch + 1 element 64ch + 32 + l's); then the nibbles as Q4_K's,
// from 416.
static void pack_block_q5_k(const uint8_t *s, int r, uint8_t *block) {
  pack_scales_k4(s, r, block);
  for (int c = 0; c < 8; c++) memcpy(block + 160 + 32 * c + 4 * r, s + 16 + 4 * c, 4);
  for (int ch = 0; ch < 4; ch++)
    for (int c = 0; c < 8; c++) memcpy(block + 416 + 256 * ch + 32 * c + 4 * r, s + 48 + 32 * ch + 4 * c, 4);
}

// Q6_K: f16 d at 2r; int8 scales, sub-block pairs (2i, 2i+1) at 16 + 16i + 2r; then the 256 codes
// (q + 32, 0..63) in 6 bits each, as the file stores them (210 bytes a row): for code bytes
// 4c..4c+3 of row r in 16-element sub-block sb (u = q + 32),
//   low nibbles at 144 + 128(sb/2) + 32c + 4r, the low half of each byte for even sb, the high for odd;
//   high two bits at 1168 + 128(sb/4) + 32c + 4r, bits 2(sb%4) and 2(sb%4) + 1.
// Eight bytes at p as one little-endian word, and back.
static uint64_t word_at(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

// 16 bytes of a Q6_K row (two words) to 4-byte runs 32 apart: code bytes 4c..4c+3 of row r at 32c + 4r.
static void put_runs(uint64_t w0, uint64_t w1, int r, uint8_t *dst) {
  uint8_t v[16];
  memcpy(v, &w0, 8);
  memcpy(v + 8, &w1, 8);
  for (int c = 0; c < 4; c++) memcpy(dst + 32 * c + 4 * r, v + 4 * c, 4);
}

#define PG_BYTES(x) (0x0101010101010101ULL * (x))

static void pack_block_q6_k(const uint8_t *s, int r, uint8_t *block) {
  memcpy(block + 2 * r, s + 208, 2);
  for (int j = 0; j < 16; j++) block[16 + 16 * (j / 2) + 2 * r + (j & 1)] = s[192 + j];
  // The file keeps element 128h + 32q + l's low nibble in ql[64h + 32(q & 1) + l], the low half of
  // the byte for q < 2 and the high half otherwise, and its high two bits at bit 2q of qh[32h + l].
  // Sub-blocks 2p and 2p + 1 (elements 32p..32p + 31) are quarter p % 4 of half p / 4; sub-blocks
  // 4Q..4Q + 3 are quarters 2(Q % 2) and 2(Q % 2) + 1 of half Q / 2. Eight bytes at a time in
  // 64-bit words, each field masked within its byte before it is shifted.
  for (int h = 0; h < 2; h++) {
    const uint8_t *ql = s + 64 * h, *qh = s + 128 + 32 * h;
    for (int q = 0; q < 2; q++) {  // quarters q and q + 2 share ql's bytes
      uint64_t lo[2], hi[2];
      for (int k = 0; k < 2; k++) {
        const uint64_t a = word_at(ql + 32 * q + 8 * k), b = word_at(ql + 32 * q + 16 + 8 * k);
        lo[k] = (a & PG_BYTES(0x0F)) | (b & PG_BYTES(0x0F)) << 4;
        hi[k] = (a >> 4 & PG_BYTES(0x0F)) | (b & PG_BYTES(0xF0));
      }
      put_runs(lo[0], lo[1], r, block + 144 + 128 * (4 * h + q));
      put_runs(hi[0], hi[1], r, block + 144 + 128 * (4 * h + q + 2));
    }
    uint64_t even[2], odd[2];
    for (int k = 0; k < 2; k++) {
      const uint64_t a = word_at(qh + 8 * k), b = word_at(qh + 16 + 8 * k);
      even[k] = (a & PG_BYTES(0x03)) | (b & PG_BYTES(0x03)) << 2 | (a & PG_BYTES(0x0C)) << 2 | (b & PG_BYTES(0x0C)) << 4;
      odd[k] = (a >> 4 & PG_BYTES(0x03)) | (b >> 2 & PG_BYTES(0x0C)) | (a & PG_BYTES(0xC0)) >> 2 | (b & PG_BYTES(0xC0));
    }
    put_runs(even[0], even[1], r, block + 1168 + 128 * (2 * h));
    put_runs(odd[0], odd[1], r, block + 1168 + 128 * (2 * h + 1));
  }
}

#undef PG_BYTES

int pg_pack(int type, const void *src, size_t src_stride, int rows, int cols, void *dst) {
  if (type == PG_F16) {
    if (packed_size_f16(rows, cols) == 0) return 0;
    pack_f16((const uint8_t *)src, src_stride, rows, cols, (uint8_t *)dst);
    return 1;
  }
  int gb, sb, be;
  if (!packed_geometry(type, &gb, &sb, &be) || cols <= 0 || cols % be != 0) return 0;
  const int nb = cols / be;
  uint8_t *out = (uint8_t *)dst;
  const uint8_t *in = (const uint8_t *)src;
  for (int g = 0; g < (rows + 7) / 8; g++) {
    for (int b = 0; b < nb; b++) {
      uint8_t *block = out + ((size_t)g * nb + b) * (size_t)gb;
      // Padding rows get zero scales and codes; Q5_0 ORs its bit planes into zeroed bytes. The other
      // types write every byte of their 8 rows.
      if (type == PG_Q5_0 || g * 8 + 8 > rows) memset(block, 0, (size_t)gb);
      for (int r = 0; r < 8; r++) {
        const int row = g * 8 + r;
        if (row >= rows) break;
        const uint8_t *s = in + (size_t)row * src_stride + (size_t)b * sb;
        switch (type) {
        case PG_Q5_0: pack_block_q5_0(s, r, block); break;
        case PG_Q4_K: pack_block_q4_k(s, r, block); break;
        case PG_Q5_K: pack_block_q5_k(s, r, block); break;
        case PG_Q6_K: pack_block_q6_k(s, r, block); break;
        default: pack_block_simple(type, s, r, block); break;
        }
      }
    }
  }
  return 1;
}
