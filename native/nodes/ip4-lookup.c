/* ip4-lookup: longest-prefix match of each destination in its VRF's mtrie,
 * then the load-balance bucket by flow hash, then on by adjacency type.
 *
 * The lookup runs in passes over the whole vector: all root slots, then all
 * second plies, then all third plies, each pass prefetching what the next
 * one reads. A trie too big for the cache then costs one memory latency per
 * vector instead of three per packet. */
#include <stdio.h>

#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_REWRITE, NEXT_ARP, NEXT_LOCAL, NEXT_ICMP_ERROR, NEXT_IPSEC_OUTPUT };
enum { ERR_DROP, ERR_UNREACH, ERR_PROHIBIT };

typedef struct {
  uint32_t dst;
  uint32_t fib_index;
  uint32_t lb;
  uint32_t adj;
} lookup_trace_t;

static int format_lookup_trace(char *out, size_t size, const void *rec) {
  const lookup_trace_t *t = rec;
  uint32_t d = t->dst;
  return snprintf(out, size, "  fib %u dst %u.%u.%u.%u load-balance %u adjacency %u", t->fib_index,
                  d >> 24, (d >> 16) & 0xff, (d >> 8) & 0xff, d & 0xff, t->lb, t->adj);
}

static inline uint16_t next_of(vg_ip4_main_t *im, vg_node_t *node, vg_buffer_t *b, uint32_t ai) {
  vg_adj_t *a = &im->adjs[ai];
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  o->adj = ai;
  switch (a->type) {
  case VG_ADJ_NEIGHBOR:
    if (VG_UNLIKELY(!a->resolved)) return NEXT_ARP;
    return VG_UNLIKELY(a->spd) ? NEXT_IPSEC_OUTPUT : NEXT_REWRITE; /* an SPD decides first */
  case VG_ADJ_GLEAN: return NEXT_ARP;
  case VG_ADJ_LOCAL: return NEXT_LOCAL;
  case VG_ADJ_UNREACH:
    b->error = vg_node_error(node, ERR_UNREACH);
    o->icmp_type = 3, o->icmp_code = 0; /* network unreachable */
    return NEXT_ICMP_ERROR;
  case VG_ADJ_PROHIBIT:
    b->error = vg_node_error(node, ERR_PROHIBIT);
    o->icmp_type = 3, o->icmp_code = 13; /* administratively prohibited */
    return NEXT_ICMP_ERROR;
  default:
    b->error = vg_node_error(node, ERR_DROP);
    return NEXT_DROP;
  }
}

static uint32_t ip4_lookup_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  vg_ip4_main_t *im = dp->ip4;
  uint32_t n = f->n;
  uint32_t dst[VG_FRAME_SIZE], leaf[VG_FRAME_SIZE];
  const vg_mtrie_t *trie[VG_FRAME_SIZE];
  uint16_t next[VG_FRAME_SIZE];
  vg_buffer_t *b[VG_FRAME_SIZE];
  /* Pass 1: destinations, and the root slots they need. */
  for (uint32_t i = 0; i < n; i++) {
    b[i] = vg_buffer(dp, f->bi[i]);
    const uint8_t *ip = vg_buffer_current(b[i]);
    dst[i] = vg_rd_be32(ip + 16);
    trie[i] = &im->fibs[vg_ip4_opaque(b[i])->fib_index]->mtrie;
    VG_PREFETCH(&trie[i]->root[dst[i] >> 16]);
  }
  /* Pass 2: root leaves; prefetch the second ply slot. */
  for (uint32_t i = 0; i < n; i++) {
    leaf[i] = trie[i]->root[dst[i] >> 16];
    if (!vg_leaf_is_terminal(leaf[i])) VG_PREFETCH(&im->plies[vg_leaf_index(leaf[i])].leaves[(dst[i] >> 8) & 0xff]);
  }
  /* Pass 3 and 4: the plies below, where there are any. */
  for (uint32_t i = 0; i < n; i++)
    if (!vg_leaf_is_terminal(leaf[i])) {
      leaf[i] = im->plies[vg_leaf_index(leaf[i])].leaves[(dst[i] >> 8) & 0xff];
      if (!vg_leaf_is_terminal(leaf[i])) VG_PREFETCH(&im->plies[vg_leaf_index(leaf[i])].leaves[dst[i] & 0xff]);
      else VG_PREFETCH(&im->lbs[vg_leaf_index(leaf[i])]);
    } else {
      VG_PREFETCH(&im->lbs[vg_leaf_index(leaf[i])]);
    }
  for (uint32_t i = 0; i < n; i++)
    if (!vg_leaf_is_terminal(leaf[i])) {
      leaf[i] = im->plies[vg_leaf_index(leaf[i])].leaves[dst[i] & 0xff];
      VG_PREFETCH(&im->lbs[vg_leaf_index(leaf[i])]);
    }
  /* Pass 5: the load-balance bucket, by flow hash when there are several. */
  for (uint32_t i = 0; i < n; i++) {
    const vg_lb_t *lb = &im->lbs[vg_leaf_index(leaf[i])];
    uint32_t bucket = 0;
    if (VG_UNLIKELY(lb->n_buckets > 1)) bucket = vg_ip4_flow_hash(vg_buffer_current(b[i])) & lb->bucket_mask;
    uint32_t ai = lb->buckets[bucket];
    next[i] = next_of(im, node, b[i], ai);
    if (VG_UNLIKELY(vg_traced(b[i]))) {
      lookup_trace_t *t = vg_trace_record(th, node, b[i], sizeof *t);
      *t = (lookup_trace_t){dst[i], vg_ip4_opaque(b[i])->fib_index, vg_leaf_index(leaf[i]), ai};
    }
  }
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}

const vg_node_reg_t vg_node_ip4_lookup = {
    .name = "ip4-lookup",
    .fn = ip4_lookup_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-rewrite", "ip4-arp", "ip4-local",
                                        "ip4-icmp-error", "ipsec4-output", NULL},
    .errors = (const char *const[]){"route drops the packet", "no route to the destination",
                                    "route prohibits the destination", NULL},
    .format_trace = format_lookup_trace,
};
