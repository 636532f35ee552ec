/* Internet checksum (RFC 1071) over byte ranges, summed in 32 bits and
 * folded at the end. Ranges must start on even offsets of the checksummed
 * data when summed piecewise. */
#ifndef VG_CHECKSUM_H
#define VG_CHECKSUM_H

#include <stdint.h>

static inline uint64_t vg_csum_add(uint64_t sum, const uint8_t *p, uint32_t len) {
  for (; len >= 2; p += 2, len -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (len) sum += (uint32_t)p[0] << 8;
  return sum;
}

static inline uint16_t vg_csum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* The folded ones' complement sum of len bytes (a multiple of 4) read as
 * native 32-bit words: 0xffff for a header whose checksum is right, in
 * either byte order. Fast enough to check every packet. */
static inline uint16_t vg_csum_words(const uint8_t *p, uint32_t len) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i < len; i += 4) {
    uint32_t w;
    __builtin_memcpy(&w, p + i, 4);
    sum += w;
  }
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static inline void vg_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

#endif
