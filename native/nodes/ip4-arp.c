/* ip4-arp: a packet whose next hop has no MAC yet becomes an ARP request
 * for it (the packet itself is not kept, as in most routers). Requests for
 * one address are throttled to a few per second. */
#include <stdio.h>
#include <string.h>

#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_OUTPUT };
enum { ERR_SENT, ERR_THROTTLED, ERR_NO_SOURCE };

#define THROTTLE_SLOTS 1024
#define THROTTLE_NS (200ull * 1000000ull)

typedef struct {
  uint32_t target, sw_if_index;
} arp_req_trace_t;

static int format_arp_req_trace(char *out, size_t size, const void *rec) {
  const arp_req_trace_t *t = rec;
  uint32_t a = t->target;
  return snprintf(out, size, "  ARP request for %u.%u.%u.%u out of sw_if_index %u", a >> 24,
                  (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, t->sw_if_index);
}

/* One slot per hashed address: the last request and when it went out. */
static _Thread_local struct {
  uint32_t addr;
  uint64_t sent_ns;
} throttle[THROTTLE_SLOTS];

static int throttled(uint32_t addr, uint64_t now) {
  uint32_t s = (addr * 2654435761u) >> 22;
  if (throttle[s].addr == addr && now - throttle[s].sent_ns < THROTTLE_NS) return 1;
  throttle[s].addr = addr;
  throttle[s].sent_ns = now;
  return 0;
}

/* Replaces the packet in b with an ARP request; returns the next node. */
/* A slow path (throttled, one request per address): the clock per packet costs nothing here. */
static uint16_t request(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  uint64_t now = vg_time_ns();
  const vg_adj_t *a = &dp->ip4->adjs[vg_ip4_opaque(b)->adj];
  uint32_t target = a->type == VG_ADJ_GLEAN ? vg_rd_be32(vg_buffer_current(b) + 16) : a->next_hop;
  uint32_t src;
  if (!vg_if_ip4_for_peer(dp, a->sw_if_index, target, &src)) {
    b->error = vg_node_error(node, ERR_NO_SOURCE);
    return NEXT_DROP;
  }
  if (throttled(target, now)) {
    b->error = vg_node_error(node, ERR_THROTTLED);
    return NEXT_DROP;
  }
  vg_buffer_free_tail(th, b); /* the request needs only the head */
  static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  b->current_data = 0;
  uint8_t *p = vg_buffer_current(b);
  uint32_t l2 = vg_l2_header(dp, a->sw_if_index, bcast, 0x0806, p);
  uint8_t *arp = p + l2;
  static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
  memcpy(arp, head, 8);
  memcpy(arp + 8, dp->interfaces[a->sw_if_index]->mac, 6);
  vg_wr_be32(arp + 14, src);
  memset(arp + 18, 0, 6);
  vg_wr_be32(arp + 24, target);
  uint32_t len = l2 + 28;
  if (len < 60) memset(p + len, 0, 60 - len), len = 60; /* minimum Ethernet frame */
  b->current_length = (uint16_t)len;
  b->sw_if_index[VG_TX] = a->sw_if_index;
  vg_node_count_error(th, node, ERR_SENT, 1);
  if (VG_UNLIKELY(vg_traced(b))) {
    arp_req_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    t->target = target;
    t->sw_if_index = a->sw_if_index;
  }
  return NEXT_OUTPUT;
}

static uint32_t ip4_arp_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, request, 1);
}

const vg_node_reg_t vg_node_ip4_arp = {
    .name = "ip4-arp",
    .fn = ip4_arp_fn,
    .next_nodes = (const char *const[]){"error-drop", "interface-output", NULL},
    .errors = (const char *const[]){"ARP requests sent", "ARP request throttled (packet dropped)",
                                    "no address to send an ARP request from", NULL},
    .format_trace = format_arp_req_trace,
};
