/* ip4-ping: the box's own echo requests. Takes what vg_ip4_ping_send
 * queued, builds each request and sends it into ip4-lookup as if it had
 * been routed here, remembering when it left. Runs on thread 0; polled
 * only once a ping has been sent. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ping.h"

enum { NEXT_LOOKUP };
enum { ERR_SENT };

typedef struct {
  uint32_t src, dst;
  uint16_t id, seq;
  uint32_t size;
} ping_trace_t;

static int format_ping_trace(char *out, size_t size, const void *rec) {
  const ping_trace_t *t = rec;
  uint32_t s = t->src, d = t->dst;
  return snprintf(out, size, "  echo request %u.%u.%u.%u -> %u.%u.%u.%u id %u seq %u, %u bytes of data",
                  s >> 24, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, d >> 24, (d >> 16) & 0xff,
                  (d >> 8) & 0xff, d & 0xff, t->id, t->seq, t->size);
}

/* An Ethernet header of zeros stands before the IPv4 header: ip4-rewrite
 * writes the real one over it, and a capture of a request dropped before
 * that still reads as a frame. */
static void build(vg_ping_main_t *pm, vg_buffer_t *b, const vg_ping_req_t *r) {
  memset(b, 0, sizeof *b);
  b->sw_if_index[VG_RX] = VG_NONE;
  b->sw_if_index[VG_TX] = VG_NONE;
  b->ethertype = 0x0800;
  b->l2_hdr_offset = 0;
  b->current_data = b->l3_hdr_offset = 14;
  uint8_t *eth = vg_buffer_data(b), *ip = eth + 14, *icmp = ip + 20;
  memset(eth, 0, 12);
  eth[12] = 0x08, eth[13] = 0x00;
  uint32_t total = 28 + r->size;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_put_be16(ip + 4, pm->ip_id++);
  ip[8] = 64;
  ip[9] = 1;
  vg_wr_be32(ip + 12, r->src);
  vg_wr_be32(ip + 16, r->dst);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  icmp[0] = 8, icmp[1] = 0, icmp[2] = icmp[3] = 0;
  vg_put_be16(icmp + 4, r->id);
  vg_put_be16(icmp + 6, r->seq);
  for (uint32_t i = 0; i < r->size; i++) icmp[8 + i] = (uint8_t)i;
  vg_put_be16(icmp + 2, vg_csum_fold(vg_csum_add(0, icmp, 8 + r->size)));
  b->current_length = (uint16_t)total;
  vg_ip4_opaque(b)->fib_index = r->fib_index;
}

static uint32_t ip4_ping_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  (void)f;
  vg_ping_main_t *pm = dp->ping;
  if (th->index != 0 || !pm) return 0;
  uint32_t head = atomic_load_explicit(&pm->q_head, memory_order_relaxed);
  uint32_t tail = atomic_load_explicit(&pm->q_tail, memory_order_acquire);
  if (head == tail) return 0;
  uint32_t bi[VG_PING_QUEUE];
  uint32_t n = vg_buffer_alloc(th, bi, tail - head); /* the rest waits for a buffer */
  uint64_t now = vg_time_ns();
  for (uint32_t i = 0; i < n; i++) {
    const vg_ping_req_t *r = &pm->queue[(head + i) % VG_PING_QUEUE];
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    build(pm, b, r);
    vg_ping_sent(pm, r->id, r->seq, now);
    vg_trace_maybe_start(th, node, b);
    if (VG_UNLIKELY(vg_traced(b))) {
      ping_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
      *t = (ping_trace_t){r->src, r->dst, r->id, r->seq, r->size};
    }
  }
  atomic_store_explicit(&pm->q_head, head + n, memory_order_release);
  vg_node_count_error(th, node, ERR_SENT, n);
  vg_enqueue_next(th, node, NEXT_LOOKUP, bi, n);
  return n;
}

const vg_node_reg_t vg_node_ip4_ping = {
    .name = "ip4-ping",
    .fn = ip4_ping_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){"ip4-lookup", NULL},
    .errors = (const char *const[]){"echo requests sent", NULL},
    .format_trace = format_ping_trace,
};
