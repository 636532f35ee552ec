/* ip4-rewrite: the forwarding step. Decrements TTL (fixing the checksum
 * incrementally), checks the MTU, prepends the adjacency's L2 header and
 * hands the packet to interface-output. TTL expiry and oversize packets
 * with don't-fragment set go to ip4-icmp-error; other oversize packets to
 * ip4-frag, whose fragments come back here within the MTU. */
#include <stdio.h>
#include <string.h>

#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_OUTPUT, NEXT_ICMP_ERROR, NEXT_FRAG };

#define IP4_REWRITE_ERRORS(_)                                          \
  _(TTL_EXPIRED, "TTL expired in transit")                            \
  _(FRAG_NEEDED, "bigger than the MTU with don't-fragment set")

enum {
#define _(sym, str) ERR_##sym,
  IP4_REWRITE_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t adj, sw_if_index;
  uint8_t ttl;
  uint8_t rewrite[18];
  uint8_t rewrite_len;
} rewrite_trace_t;

static int format_rewrite_trace(char *out, size_t size, const void *rec) {
  const rewrite_trace_t *t = rec;
  const uint8_t *d = t->rewrite, *s = t->rewrite + 6;
  return snprintf(out, size,
                  "  adjacency %u tx sw_if_index %u ttl now %u: %02x:%02x:%02x:%02x:%02x:%02x -> "
                  "%02x:%02x:%02x:%02x:%02x:%02x",
                  t->adj, t->sw_if_index, t->ttl, s[0], s[1], s[2], s[3], s[4], s[5], d[0], d[1], d[2],
                  d[3], d[4], d[5]);
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  const vg_adj_t *a = &dp->ip4->adjs[o->adj];
  uint8_t *ip = vg_buffer_current(b);
  if (VG_UNLIKELY(ip[8] <= 1)) {
    b->error = vg_node_error(node, ERR_TTL_EXPIRED);
    o->icmp_type = 11, o->icmp_code = 0;
    return NEXT_ICMP_ERROR;
  }
  uint32_t total = (uint32_t)(ip[2] << 8 | ip[3]);
  uint32_t mtu = dp->interfaces[a->sw_if_index]->mtu;
  if (VG_UNLIKELY(total > mtu)) {
    if (ip[6] & 0x40) {
      b->error = vg_node_error(node, ERR_FRAG_NEEDED);
      o->icmp_type = 3, o->icmp_code = 4, o->icmp_data = (uint16_t)mtu;
      return NEXT_ICMP_ERROR;
    }
    return NEXT_FRAG; /* TTL still whole: each fragment loses one on its way back here */
  }
  /* TTL is the high byte of its header word: one less there is 0x0100 more
   * in the ones' complement checksum (RFC 1624), with the carry folded. */
  ip[8]--;
  uint32_t c = (uint32_t)(ip[10] << 8 | ip[11]) + 0x0100;
  c = (c & 0xffff) + (c >> 16);
  ip[10] = (uint8_t)(c >> 8);
  ip[11] = (uint8_t)c;
  vg_buffer_advance(b, -(int)a->rewrite_len);
  uint8_t *l2 = vg_buffer_current(b);
  if (VG_LIKELY(a->rewrite_len == 14)) memcpy(l2, a->rewrite, 14);
  else memcpy(l2, a->rewrite, 18);
  b->sw_if_index[VG_TX] = a->sw_if_index;
  if (VG_UNLIKELY(vg_traced(b))) {
    rewrite_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    t->adj = o->adj;
    t->sw_if_index = a->sw_if_index;
    t->ttl = ip[8];
    memcpy(t->rewrite, a->rewrite, 18);
    t->rewrite_len = a->rewrite_len;
  }
  return NEXT_OUTPUT;
}

static uint32_t ip4_rewrite_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_ip4_rewrite = {
    .name = "ip4-rewrite",
    .fn = ip4_rewrite_fn,
    .next_nodes = (const char *const[]){"error-drop", "interface-output", "ip4-icmp-error", "ip4-frag",
                                        NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        IP4_REWRITE_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_rewrite_trace,
};
