/* arp-input: ARP on an IPv4 interface. Answers requests for the box's
 * addresses (and proxy-ARP ranges), learns the sender when the exchange is
 * with us or the sender is already known, and counts every malformed
 * message under its own reason. Learning is queued: thread 0 applies it
 * between frames, so no table changes under a lookup in flight. */
#include <stdio.h>
#include <string.h>

#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_OUTPUT };

#define ARP_INPUT_ERRORS(_)                                              \
  _(REPLIED, "ARP requests answered")                                    \
  _(LEARNED, "neighbors learned or refreshed")                           \
  _(REPLY_IN, "ARP replies received")                                    \
  _(TOO_SHORT, "ARP message shorter than 28 bytes")                      \
  _(NOT_IP4, "not Ethernet/IPv4 ARP (types or address sizes)")           \
  _(OPCODE, "opcode is neither request nor reply")                       \
  _(SENDER_MAC, "sender MAC is multicast or broadcast")                  \
  _(SENDER_IP, "sender address is zero, multicast or broadcast")         \
  _(NOT_FOR_US, "target is not this box")                                \
  _(OFF_NET, "sender is not on the interface's network")

enum {
#define _(sym, str) ERR_##sym,
  ARP_INPUT_ERRORS(_)
#undef _
};

typedef struct {
  uint16_t op;
  uint32_t sender, target;
  uint8_t sender_mac[6];
} arp_trace_t;

static int format_arp_trace(char *out, size_t size, const void *rec) {
  const arp_trace_t *t = rec;
  const uint8_t *m = t->sender_mac;
  uint32_t s = t->sender, d = t->target;
  return snprintf(out, size, "  %s %u.%u.%u.%u (%02x:%02x:%02x:%02x:%02x:%02x) -> %u.%u.%u.%u",
                  t->op == 1 ? "request from" : t->op == 2 ? "reply from" : "opcode ?", s >> 24,
                  (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, m[0], m[1], m[2], m[3], m[4], m[5],
                  d >> 24, (d >> 16) & 0xff, (d >> 8) & 0xff, d & 0xff);
}

static uint16_t drop(vg_node_t *node, vg_buffer_t *b, uint32_t err) {
  b->error = vg_node_error(node, err);
  return NEXT_DROP;
}

/* A malformed message is also an rx error of its port. */
static uint16_t malformed(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, uint32_t err) {
  vg_if_count_rx_error(dp, th, b->sw_if_index[VG_RX]);
  return drop(node, b, err);
}

static uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  uint8_t *arp = vg_buffer_current(b);
  if (b->current_length < 28) return malformed(dp, th, node, b, ERR_TOO_SHORT);
  uint16_t op = (uint16_t)(arp[6] << 8 | arp[7]);
  uint32_t sender = vg_rd_be32(arp + 14), target = vg_rd_be32(arp + 24);
  if (VG_UNLIKELY(vg_traced(b))) {
    arp_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    *t = (arp_trace_t){.op = op, .sender = sender, .target = target};
    memcpy(t->sender_mac, arp + 8, 6);
  }
  if (arp[0] != 0 || arp[1] != 1 || arp[2] != 8 || arp[3] != 0 || arp[4] != 6 || arp[5] != 4)
    return malformed(dp, th, node, b, ERR_NOT_IP4);
  if (op != 1 && op != 2) return malformed(dp, th, node, b, ERR_OPCODE);
  if (arp[8] & 1) return malformed(dp, th, node, b, ERR_SENDER_MAC);
  if (sender == 0 || sender >= 0xe0000000u) return malformed(dp, th, node, b, ERR_SENDER_IP);
  uint32_t sw = b->sw_if_index[VG_RX], mine;
  vg_interface_t *itf = dp->interfaces[sw];
  int ours = vg_if_ip4_is_local(dp, sw, target) ||
             (vg_proxy_arp_match(dp, dp->ip4->fibs[itf->fib_index]->vrf, target) &&
              vg_if_ip4_for_peer(dp, sw, sender, &mine) == 1 && ((target ^ sender) != 0));
  vg_neighbor_t *known = vg_neighbor_find(dp, sw, sender);
  if (ours || known) {
    if (vg_if_ip4_for_peer(dp, sw, sender, &mine) != 1) return drop(node, b, ERR_OFF_NET);
    if (!known || memcmp(known->mac, arp + 8, 6) != 0 || !known->is_static)
      if (vg_ip4_queue_learn(dp, sw, sender, arp + 8)) vg_node_count_error(th, node, ERR_LEARNED, 1);
  }
  if (!ours) return drop(node, b, ERR_NOT_FOR_US);
  if (op == 2) return drop(node, b, ERR_REPLY_IN);
  /* The reply, in place: to the sender, from us, at the same L2 offset. */
  uint8_t sender_mac[6];
  memcpy(sender_mac, arp + 8, 6);
  arp[7] = 2;
  memcpy(arp + 18, sender_mac, 6);
  vg_wr_be32(arp + 24, sender);
  memcpy(arp + 8, itf->mac, 6);
  vg_wr_be32(arp + 14, target);
  vg_buffer_advance(b, b->l2_hdr_offset - b->current_data);
  uint8_t *eth = vg_buffer_current(b);
  memcpy(eth, sender_mac, 6);
  memcpy(eth + 6, itf->mac, 6);
  b->sw_if_index[VG_TX] = sw;
  vg_node_count_error(th, node, ERR_REPLIED, 1);
  return NEXT_OUTPUT;
}

static uint32_t arp_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_arp_input = {
    .name = "arp-input",
    .fn = arp_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "interface-output", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        ARP_INPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_arp_trace,
};
