/* l2-fwd: looks up the destination MAC in the frame's bridge domain. Known
 * unicast leaves by its port (l2-output); broadcast, multicast and unknown
 * unicast are flooded when the domain allows it, else dropped. Two passes
 * over the vector, as in l2-learn: keys and FIB slot prefetches first, then
 * the lookups. */
#include <stdio.h>

#include "../l2/bridge.h"

enum { NEXT_DROP, NEXT_OUTPUT, NEXT_FLOOD };

#define L2_FWD_ERRORS(_)                                                  \
  _(SAME_PORT, "destination MAC is on the rx port")                     \
  _(UU_DROP, "unknown unicast dropped (uu-flood off)")                   \
  _(FLOOD_OFF, "broadcast/multicast dropped (flood off)")

enum {
#define _(sym, str) ERR_##sym,
  L2_FWD_ERRORS(_)
#undef _
};

typedef struct {
  uint8_t dst[6];
  uint16_t next;
  uint32_t bd_id, tx_sw_if_index;
} l2_fwd_trace_t;

static int format_l2_fwd_trace(char *out, size_t size, const void *rec) {
  const l2_fwd_trace_t *t = rec;
  const uint8_t *d = t->dst;
  int k = snprintf(out, size, "  dst %02x:%02x:%02x:%02x:%02x:%02x bridge domain %u: ", d[0], d[1],
                   d[2], d[3], d[4], d[5], t->bd_id);
  if (k < 0 || (size_t)k >= size) return k;
  if (t->next == NEXT_OUTPUT)
    return k + snprintf(out + k, size - (size_t)k, "to sw_if_index %u", t->tx_sw_if_index);
  return k + snprintf(out + k, size - (size_t)k, t->next == NEXT_FLOOD ? "flood" : "drop");
}

/* Pass one does little per packet, so it prefetches further ahead than
 * the usual eight to cover a buffer's trip from L2. */
#define AHEAD 16

/* What pass one gathers per packet (see l2-learn). */
typedef struct {
  uint64_t key[VG_FRAME_SIZE]; /* 0: a group (broadcast/multicast) address */
  uint32_t bd[VG_FRAME_SIZE];
  uint32_t rx[VG_FRAME_SIZE];
} keys_t;

static inline uint16_t forward(const vg_l2_main_t *l2, vg_node_t *node, vg_buffer_t *b,
                               uint64_t key, uint32_t bdi, uint32_t rx) {
  const vg_bd_t *bd = &l2->bds[bdi];
  if (VG_UNLIKELY(!key)) {
    if (VG_LIKELY(bd->flood)) return NEXT_FLOOD;
    b->error = vg_node_error(node, ERR_FLOOD_OFF);
    return NEXT_DROP;
  }
  const vg_l2fib_entry_t *e = vg_l2fib_lookup(l2, key);
  if (VG_UNLIKELY(!e)) {
    if (bd->uu_flood) return NEXT_FLOOD;
    b->error = vg_node_error(node, ERR_UU_DROP);
    return NEXT_DROP;
  }
  uint32_t port = (uint32_t)vg_l2fib_val(e);
  if (VG_UNLIKELY(port == rx)) {
    b->error = vg_node_error(node, ERR_SAME_PORT);
    return NEXT_DROP;
  }
  b->sw_if_index[VG_TX] = port;
  return NEXT_OUTPUT;
}

static int gather(vg_main_t *dp, const vg_l2_main_t *l2, vg_frame_t *f, keys_t *k) {
  int traced = 0;
  for (uint32_t i = 0; i < f->n; i++) {
    if (i + AHEAD < f->n) {
      vg_buffer_t *pb = vg_buffer(dp, f->bi[i + AHEAD]);
      VG_PREFETCH_W(pb);
      VG_PREFETCH(vg_buffer_current(pb));
    }
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    const uint8_t *dst = vg_buffer_current(b);
    k->bd[i] = vg_l2_opaque(b)->bd_index;
    k->rx[i] = b->sw_if_index[VG_RX];
    k->key[i] = dst[0] & 1 ? 0 : vg_l2fib_key(k->bd[i], vg_l2_mac(dst));
    VG_PREFETCH(vg_l2fib_slot(l2, k->key[i]));
    traced |= vg_traced(b);
  }
  return traced;
}

static void trace(vg_thread_t *th, vg_node_t *node, const vg_l2_main_t *l2, vg_buffer_t *b,
                  uint16_t next) {
  l2_fwd_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
  memcpy(t->dst, vg_buffer_current(b), 6);
  t->next = next;
  t->bd_id = l2->bds[vg_l2_opaque(b)->bd_index].bd_id;
  t->tx_sw_if_index = b->sw_if_index[VG_TX];
}

static uint32_t l2_fwd_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  const vg_l2_main_t *l2 = dp->l2;
  uint16_t next[VG_FRAME_SIZE];
  uint32_t n = f->n;
  keys_t k;
  int traced = gather(dp, l2, f, &k);
  for (uint32_t i = 0; i < n; i++) {
    if (i + 8 < n) VG_PREFETCH_W(vg_buffer(dp, f->bi[i + 8]));
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    next[i] = forward(l2, node, b, k.key[i], k.bd[i], k.rx[i]);
    if (VG_UNLIKELY(traced) && vg_traced(b)) trace(th, node, l2, b, next[i]);
  }
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}

const vg_node_reg_t vg_node_l2_fwd = {
    .name = "l2-fwd",
    .fn = l2_fwd_fn,
    .next_nodes = (const char *const[]){"error-drop", "l2-output", "l2-flood", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        L2_FWD_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_l2_fwd_trace,
};
