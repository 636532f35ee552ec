/* Packet buffers: metadata, headroom and data in one fixed-size block.
 *
 * A packet moves through the graph as a 32-bit index; the block of index i
 * starts at pool base + i * 64, so translating an index is one shift and an
 * add. Each block is VG_BUFFER_STRIDE bytes: one cache line of metadata,
 * VG_HEADROOM bytes for headers that encapsulation prepends, then the data.
 * Frames larger than one buffer are chains (VG_BUF_NEXT_PRESENT).
 */
#ifndef VG_BUFFER_H
#define VG_BUFFER_H

#include <stdint.h>
#include <string.h>

#define VG_BUFFER_DATA_SIZE 2048
#define VG_HEADROOM 192
#define VG_BUFFER_STRIDE (64 + VG_HEADROOM + VG_BUFFER_DATA_SIZE) /* 2304 = 36 lines */
#define VG_BUFFER_INVALID UINT32_MAX

enum { VG_RX = 0, VG_TX = 1 };

#define VG_BUF_NEXT_PRESENT (1u << 0) /* next_buffer continues this frame */
#define VG_BUF_TRACED (1u << 1)       /* trace_index names this packet's trace */
#define VG_BUF_VLAN_1 (1u << 2)       /* one 802.1Q/802.1ad tag was parsed */
#define VG_BUF_VLAN_2 (1u << 3)       /* two tags were parsed */
#define VG_BUF_ESP_ENCRYPTED (1u << 4) /* made by esp-encrypt: ipsec4-output lets it pass */
#define VG_BUF_ESP_DECRYPTED (1u << 5) /* decrypted by esp-decrypt (the SA in the ipsec opaque) */

typedef struct {
  int16_t current_data;     /* packet start, relative to data[] (negative: in headroom) */
  uint16_t current_length;  /* bytes of this buffer from current_data */
  uint32_t flags;           /* VG_BUF_* */
  uint32_t next_buffer;     /* valid with VG_BUF_NEXT_PRESENT */
  uint32_t total_length_not_including_first_buffer;
  uint32_t sw_if_index[2];  /* [VG_RX], [VG_TX] */
  uint16_t error;           /* global error counter index, counted where it drops */
  int16_t l2_hdr_offset;    /* relative to data[] */
  int16_t l3_hdr_offset;
  int16_t l4_hdr_offset;
  uint32_t trace_index;     /* valid with VG_BUF_TRACED */
  uint16_t vlan[2];         /* outer, inner VLAN IDs with VG_BUF_VLAN_* */
  uint16_t ethertype;       /* after tags, host order */
  uint16_t pad0;
  uint8_t opaque[16];       /* per-feature scratch (adjacency, flow hash ...) */
} vg_buffer_t;

_Static_assert(sizeof(vg_buffer_t) <= 64, "buffer metadata must fit one cache line");

static inline uint8_t *vg_buffer_data(vg_buffer_t *b) { return (uint8_t *)b + 64 + VG_HEADROOM; }

static inline uint8_t *vg_buffer_current(vg_buffer_t *b) {
  return vg_buffer_data(b) + b->current_data;
}

static inline void vg_buffer_advance(vg_buffer_t *b, int delta) {
  b->current_data = (int16_t)(b->current_data + delta);
  b->current_length = (uint16_t)(b->current_length - delta);
}

static inline uint32_t vg_buffer_length_in_chain(const vg_buffer_t *b) {
  return b->current_length +
         ((b->flags & VG_BUF_NEXT_PRESENT) ? b->total_length_not_including_first_buffer : 0);
}

#endif
