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

static inline void vg_put_be16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

#endif
