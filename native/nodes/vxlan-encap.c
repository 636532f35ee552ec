/* vxlan-encap: a frame sent out of a VXLAN tunnel (b->sw_if_index[VG_TX])
 * gets outer IPv4, UDP and VXLAN headers in its headroom and goes to
 * ip4-lookup in the tunnel's encap VRF. The UDP source port is a hash of
 * the inner frame's flow (MACs, and for IPv4 addresses, protocol and
 * ports) in 49152..65535, so one flow keeps one underlay path (RFC 7348
 * section 5). Chained frames are fine: only the head buffer grows. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../interfaces/vxlan.h"
#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_LOOKUP };

#define VXLAN_ENCAP_ERRORS(_)                                        \
  _(ENCAPSULATED, "frames encapsulated")                            \
  _(NOT_TUNNEL, "tx interface is not a vxlan tunnel")                \
  _(NO_HEADROOM, "no headroom left for the outer headers")           \
  _(TOO_BIG, "encapsulated packet longer than 65535 bytes")

enum {
#define _(sym, str) ERR_##sym,
  VXLAN_ENCAP_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t sw_if_index, src, dst, vni, length;
  uint16_t sport, dport;
  uint8_t ok;
} encap_trace_t;

static int format_encap_trace(char *out, size_t size, const void *rec) {
  const encap_trace_t *t = rec;
  if (!t->ok) return snprintf(out, size, "  tx sw_if_index %u: not encapsulated", t->sw_if_index);
  uint32_t s = t->src, d = t->dst;
  return snprintf(out, size,
                  "  tunnel sw_if_index %u vni %u %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u, %u bytes outer",
                  t->sw_if_index, t->vni, s >> 24, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, t->sport,
                  d >> 24, (d >> 16) & 0xff, (d >> 8) & 0xff, d & 0xff, t->dport, t->length);
}

/* 49152 + 14 bits of a hash of the inner frame's flow. The MACs are read
 * as 8-byte words and masked to their 6 bytes (the low ones on these
 * little-endian targets): copying 6 bytes into a zeroed word and reading
 * it back stalls on store forwarding, a third of this node's time. */
static inline uint16_t flow_port(const uint8_t *e, uint32_t len) {
  uint64_t h = 0;
  if (len >= 14) {
    uint64_t dmac, smac;
    memcpy(&dmac, e, 8);
    memcpy(&smac, e + 6, 8);
    dmac &= 0xffffffffffffull;
    smac &= 0xffffffffffffull;
    h = (dmac * 0x9e3779b97f4a7c15ull) ^ (smac * 0xc2b2ae3d27d4eb4full) ^ ((uint64_t)e[12] << 8 | e[13]);
    /* vg_ip4_flow_hash reads the ports 20 bytes in: 24 bytes of IPv4. */
    if (e[12] == 0x08 && e[13] == 0x00 && len >= 14 + 24) h ^= vg_ip4_flow_hash(e + 14);
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return (uint16_t)(0xc000 | (h & 0x3fff));
}

/* The tunnel's template, then what differs per packet: lengths,
 * identification, source port, and the IPv4 checksum from the template's
 * sum plus the two words that change (no read-back of what was written). */
static inline void write_headers(uint8_t *p, const vg_vxlan_tunnel_t *t, uint32_t total,
                                 uint16_t sport, uint16_t id) {
  memcpy(p, t->rewrite, 32);
  memcpy(p + 32, t->rewrite + 32, 4);
  vg_put_be16(p + 2, (uint16_t)total);
  vg_put_be16(p + 4, id);
  vg_put_be16(p + 10, vg_csum_fold((uint64_t)t->rewrite_sum + total + id));
  vg_put_be16(p + 20, sport);
  vg_put_be16(p + 24, (uint16_t)(total - 20));
}

static inline uint16_t encap(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b,
                             encap_trace_t *tr) {
  uint32_t sw = b->sw_if_index[VG_TX];
  vg_interface_t *itf = VG_LIKELY(sw < dp->n_interfaces) ? dp->interfaces[sw] : NULL;
  if (VG_UNLIKELY(!itf || itf->type != vg_vxlan_type)) {
    b->error = vg_node_error(node, ERR_NOT_TUNNEL);
    return NEXT_DROP;
  }
  const vg_vxlan_tunnel_t *t = itf->dev;
  uint32_t total = vg_buffer_length_in_chain(b) + VG_VXLAN_HDR;
  if (VG_UNLIKELY(b->current_data - VG_VXLAN_HDR < -VG_HEADROOM)) {
    b->error = vg_node_error(node, ERR_NO_HEADROOM);
    return NEXT_DROP;
  }
  if (VG_UNLIKELY(total > 65535)) {
    b->error = vg_node_error(node, ERR_TOO_BIG);
    return NEXT_DROP;
  }
  uint16_t sport = flow_port(vg_buffer_current(b), b->current_length);
  vg_buffer_advance(b, -VG_VXLAN_HDR);
  write_headers(vg_buffer_current(b), t, total, sport, dp->vxlan->ip_id[th->index]++);
  b->flags &= ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2);
  b->sw_if_index[VG_RX] = t->sw_if_index;
  b->sw_if_index[VG_TX] = VG_NONE;
  b->l3_hdr_offset = b->current_data;
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  memset(o, 0, sizeof *o);
  o->fib_index = t->fib_index;
  vg_node_count_error(th, node, ERR_ENCAPSULATED, 1);
  *tr = (encap_trace_t){t->sw_if_index, t->src, t->dst, t->vni, total, sport, t->dport, 1};
  return NEXT_LOOKUP;
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  encap_trace_t tr = {.sw_if_index = b->sw_if_index[VG_TX]};
  uint16_t next = encap(dp, th, node, b, &tr);
  if (VG_UNLIKELY(vg_traced(b))) *(encap_trace_t *)vg_trace_record(th, node, b, sizeof tr) = tr;
  return next;
}

static uint32_t vxlan_encap_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 1);
}

const vg_node_reg_t vg_node_vxlan_encap = {
    .name = "vxlan-encap",
    .fn = vxlan_encap_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        VXLAN_ENCAP_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_encap_trace,
};
