/* ip4-input: validates the IPv4 header of every packet handed up by
 * ethernet-input and sends the good ones to ip4-lookup. Each way a header
 * can be bad has its own counter. */
#include <stdio.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_LOOKUP, NEXT_IPSEC_INPUT };

#define IP4_INPUT_ERRORS(_)                                     \
  _(TOO_SHORT, "frame too short for an IPv4 header")           \
  _(VERSION, "version is not 4")                               \
  _(IHL, "header length below 20 bytes (IHL < 5)")             \
  _(HDR_TRUNCATED, "header longer than the frame")             \
  _(CHECKSUM, "bad header checksum")                           \
  _(LEN_BEYOND, "total length beyond the frame")               \
  _(LEN_SHORT, "total length shorter than the header")         \
  _(TTL0, "TTL 0")                                             \
  _(OPTIONS, "malformed options")                              \
  _(MARTIAN, "source address is multicast, broadcast or loopback")

enum {
#define _(sym, str) ERR_##sym,
  IP4_INPUT_ERRORS(_)
#undef _
  ERR_NONE
};

typedef struct {
  uint8_t header[20];
  uint32_t length;
  uint32_t fib_index;
} ip4_input_trace_t;

static int format_ip4_input_trace(char *out, size_t size, const void *rec) {
  const ip4_input_trace_t *t = rec;
  const uint8_t *h = t->header;
  return snprintf(out, size,
                  "  %u.%u.%u.%u -> %u.%u.%u.%u proto %u ttl %u length %u checksum 0x%04x fib %u",
                  h[12], h[13], h[14], h[15], h[16], h[17], h[18], h[19], h[9], h[8],
                  (unsigned)(h[2] << 8 | h[3]), (unsigned)(h[10] << 8 | h[11]), t->fib_index);
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Options are type-length-value, but END (0) and NOP (1) are one byte. */
static int options_ok(const uint8_t *o, uint32_t n) {
  for (uint32_t i = 0; i < n;) {
    if (o[i] == 0) return 1;
    if (o[i] == 1) {
      i++;
      continue;
    }
    if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) return 0;
    i += o[i + 1];
  }
  return 1;
}

static inline uint32_t check(vg_buffer_t *b, const uint8_t *ip) {
  uint32_t len = b->current_length;
  if (VG_UNLIKELY(len < 20)) return ERR_TOO_SHORT;
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
  if (VG_UNLIKELY((ip[0] >> 4) != 4)) return ERR_VERSION;
  if (VG_UNLIKELY(hl < 20)) return ERR_IHL;
  if (VG_UNLIKELY(hl > len)) return ERR_HDR_TRUNCATED;
  if (VG_UNLIKELY(vg_csum_words(ip, hl) != 0xffff)) return ERR_CHECKSUM;
  uint32_t total = rd16(ip + 2), frame = vg_buffer_length_in_chain(b);
  if (VG_UNLIKELY(total > frame)) return ERR_LEN_BEYOND;
  if (VG_UNLIKELY(total < hl)) return ERR_LEN_SHORT;
  if (VG_UNLIKELY(ip[8] == 0)) return ERR_TTL0;
  if (VG_UNLIKELY(ip[12] >= 224 || ip[12] == 127 || (ip[12] == 255 && ip[13] == 255)))
    return ERR_MARTIAN;
  if (VG_UNLIKELY(hl > 20) && !options_ok(ip + 20, hl - 20)) return ERR_OPTIONS;
  /* Ethernet pads short frames: the packet ends where the header says. */
  if (VG_UNLIKELY(frame > total) && !(b->flags & VG_BUF_NEXT_PRESENT)) b->current_length = (uint16_t)total;
  return ERR_NONE;
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  const uint8_t *ip = vg_buffer_current(b);
  uint32_t err = check(b, ip);
  vg_interface_t *itf = dp->interfaces[b->sw_if_index[VG_RX]];
  vg_ip4_opaque(b)->fib_index = itf->fib_index;
  b->l3_hdr_offset = b->current_data;
  if (VG_UNLIKELY(vg_traced(b))) {
    ip4_input_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    __builtin_memcpy(t->header, ip, b->current_length >= 20 ? 20 : 0);
    t->length = b->current_length;
    t->fib_index = itf->fib_index;
  }
  if (VG_LIKELY(err == ERR_NONE)) return VG_UNLIKELY(itf->spd) ? NEXT_IPSEC_INPUT : NEXT_LOOKUP;
  b->error = vg_node_error(node, err);
  vg_if_count_rx_error(dp, th, b->sw_if_index[VG_RX]);
  return NEXT_DROP;
}

static uint32_t ip4_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_ip4_input = {
    .name = "ip4-input",
    .fn = ip4_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", "ipsec4-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        IP4_INPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_ip4_input_trace,
};
