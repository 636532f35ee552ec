/* The ping API: checks that the destination is reachable and picks the
 * source address as the forwarding path would, queues the request for the
 * ip4-ping node, and keeps the replies ip4-local recognises. */
#include <stdlib.h>
#include <string.h>

#include "ping.h"

#define A4(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a)&0xff

static uint32_t fib_index_of(vg_ip4_main_t *im, const vg_fib_t *fib) {
  for (uint32_t i = 0; i < im->n_fibs; i++)
    if (im->fibs[i] == fib) return i;
  return 0;
}

/* The source a request to dst leaves with: the lookup's first bucket
 * names the path (the one a flow of this pair hashes to may differ only
 * under ECMP, where any of the box's addresses does). */
static int route_source(vg_main_t *dp, vg_fib_t *fib, uint32_t vrf, uint32_t dst, uint32_t *src) {
  vg_ip4_main_t *im = dp->ip4;
  const vg_lb_t *lb = &im->lbs[vg_mtrie_lookup(im, &fib->mtrie, dst)];
  const vg_adj_t *a = &im->adjs[lb->buckets[0]];
  switch (a->type) {
  case VG_ADJ_LOCAL:
    if (!*src) *src = dst;
    return 0;
  case VG_ADJ_GLEAN:
  case VG_ADJ_NEIGHBOR:
    if (!*src && !vg_if_ip4_for_peer(dp, a->sw_if_index, dst, src))
      return vg_error(VG_E_STATE, "ping %u.%u.%u.%u: interface %s has no IPv4 address to send from",
                      A4(dst), dp->interfaces[a->sw_if_index]->name);
    return 0;
  default:
    return vg_error(VG_E_NOTFOUND, "ping %u.%u.%u.%u: no route in VRF %u (%s)", A4(dst), vrf,
                    a->type == VG_ADJ_DROP ? "the route drops it"
                    : a->type == VG_ADJ_PROHIBIT ? "the route prohibits it" : "unreachable");
  }
}

/* Made on first use, at the barrier: ip4-local reads dp->ping. */
static int ping_main(vg_main_t *dp) {
  if (dp->ping) return 0;
  vg_ping_main_t *pm = calloc(1, sizeof *pm);
  if (!pm) return vg_error(VG_E_NOMEM, "ping");
  pthread_mutex_init(&pm->lock, NULL);
  vg_barrier_sync(dp);
  dp->ping = pm;
  dp->nodes[vg_node_index(dp, "ip4-ping")].input_active = 1;
  vg_barrier_release(dp);
  return 0;
}

int vg_ip4_ping_send(vg_dp_t *dp, uint32_t vrf, uint32_t dst, uint32_t src, uint16_t id,
                     uint16_t seq, uint32_t size) {
  if (size > VG_PING_MAX_SIZE)
    return vg_error(VG_E_INVAL, "ping: size %u: the ICMP payload is 0..%u bytes", size, VG_PING_MAX_SIZE);
  if (!dst || dst >= 0xe0000000u || (dst >> 24) == 127)
    return vg_error(VG_E_INVAL, "ping: %u.%u.%u.%u is not a unicast address", A4(dst));
  pthread_mutex_lock(&dp->api_lock);
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  int rc = fib ? route_source(dp, fib, vrf, dst, &src) : vg_error(VG_E_NOTFOUND, "ping: no VRF %u", vrf);
  if (!rc) rc = ping_main(dp);
  if (!rc) {
    vg_ping_main_t *pm = dp->ping;
    uint32_t tail = atomic_load_explicit(&pm->q_tail, memory_order_relaxed);
    if (tail - atomic_load_explicit(&pm->q_head, memory_order_acquire) == VG_PING_QUEUE) {
      rc = vg_error(VG_E_LIMIT, "ping: %u requests are waiting to be sent", VG_PING_QUEUE);
    } else {
      pm->queue[tail % VG_PING_QUEUE] =
          (vg_ping_req_t){fib_index_of(dp->ip4, fib), dst, src, size, id, seq};
      atomic_store_explicit(&pm->q_tail, tail + 1, memory_order_release);
    }
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ip4_ping_replies(vg_dp_t *dp, vg_ping_reply_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ping_main_t *pm = dp->ping;
  uint32_t n = 0;
  if (pm) {
    pthread_mutex_lock(&pm->lock);
    if (!max) n = pm->r_count;
    for (; max && n < max && pm->r_count; n++, pm->r_count--) {
      out[n] = pm->replies[pm->r_head];
      pm->r_head = (pm->r_head + 1) % VG_PING_REPLIES;
    }
    pthread_mutex_unlock(&pm->lock);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

void vg_ping_sent(vg_ping_main_t *pm, uint16_t id, uint16_t seq, uint64_t now_ns) {
  pthread_mutex_lock(&pm->lock);
  uint32_t i = pm->sent_next++ % VG_PING_SENT;
  pm->sent[i].id = id;
  pm->sent[i].seq = seq;
  pm->sent[i].in_use = 1;
  pm->sent[i].sent_ns = now_ns;
  pthread_mutex_unlock(&pm->lock);
}

int vg_ping_reply_in(vg_main_t *dp, const uint8_t *ip, uint32_t hl, uint32_t total) {
  vg_ping_main_t *pm = dp->ping;
  const uint8_t *m = ip + hl;
  uint16_t id = (uint16_t)(m[4] << 8 | m[5]), seq = (uint16_t)(m[6] << 8 | m[7]);
  uint64_t now = vg_time_ns();
  int ours = 0;
  pthread_mutex_lock(&pm->lock);
  /* Newest first: a sequence number reused later matches its latest send. */
  for (uint32_t k = 1; k <= VG_PING_SENT && !ours; k++) {
    uint32_t i = (pm->sent_next - k) % VG_PING_SENT;
    if (!pm->sent[i].in_use || pm->sent[i].id != id || pm->sent[i].seq != seq) continue;
    ours = 1;
    uint32_t slot = (pm->r_head + pm->r_count) % VG_PING_REPLIES;
    if (pm->r_count == VG_PING_REPLIES) pm->r_head = (pm->r_head + 1) % VG_PING_REPLIES; /* oldest gives way */
    else pm->r_count++;
    pm->replies[slot] = (vg_ping_reply_t){.src = vg_rd_be32(ip + 12), .id = id, .seq = seq,
                                          .bytes = total - hl, .ttl = ip[8],
                                          .rtt_ns = now - pm->sent[i].sent_ns};
  }
  pthread_mutex_unlock(&pm->lock);
  return ours;
}

void vg_ping_free(vg_main_t *dp) {
  if (!dp->ping) return;
  pthread_mutex_destroy(&dp->ping->lock);
  free(dp->ping);
  dp->ping = NULL;
}
