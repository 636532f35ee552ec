/* l2-learn: records which port each source MAC was seen on, in the frame's
 * bridge domain, then passes the frame to l2-fwd. A known MAC on its known
 * port costs one lookup and no write (the "seen" second is rewritten at
 * most once a second per MAC). Two passes over the vector: the first reads
 * the buffers and prefetches each packet's FIB slot, the second looks up
 * from arrays, so no lookup waits on a buffer or a slot. */
#include <stdio.h>

#include "../l2/bridge.h"

enum { NEXT_FWD };

#define L2_LEARN_ERRORS(_)                                      \
  _(LEARNED, "MAC learned")                                     \
  _(MOVED, "MAC moved")                                         \
  _(LIMIT, "MAC limit reached")                                 \
  _(FULL, "L2 FIB full")                                        \
  _(MCAST_SRC, "multicast source MAC not learned")              \
  _(STATIC_ELSEWHERE, "static MAC seen on another port")

enum {
#define _(sym, str) ERR_##sym,
  L2_LEARN_ERRORS(_)
#undef _
};

typedef struct {
  uint8_t src[6];
  uint16_t result; /* error code, or UINT16_MAX for a known MAC */
  uint32_t sw_if_index;
} l2_learn_trace_t;

static const char *const l2_learn_errors[] = {
#define _(sym, str) str,
    L2_LEARN_ERRORS(_)
#undef _
    NULL};

static int format_l2_learn_trace(char *out, size_t size, const void *rec) {
  const l2_learn_trace_t *t = rec;
  const uint8_t *s = t->src;
  return snprintf(out, size, "  src %02x:%02x:%02x:%02x:%02x:%02x on sw_if_index %u: %s", s[0],
                  s[1], s[2], s[3], s[4], s[5], t->sw_if_index,
                  t->result == UINT16_MAX ? "known" : l2_learn_errors[t->result]);
}

/* Pass one does little per packet, so it prefetches further ahead than
 * the usual eight to cover a buffer's trip from L2. */
#define AHEAD 16

/* What pass one gathers per packet, so pass two touches no buffer. */
typedef struct {
  uint64_t key[VG_FRAME_SIZE];
  uint32_t sw[VG_FRAME_SIZE];
} keys_t;

/* Returns the counter the frame bumps, or UINT16_MAX when nothing changes. */
static inline uint16_t learn(vg_l2_main_t *l2, uint64_t key, uint32_t sw, uint32_t now) {
  if (VG_UNLIKELY(!key)) return ERR_MCAST_SRC;
  vg_l2fib_entry_t *e = vg_l2fib_lookup(l2, key);
  if (VG_LIKELY(e != NULL)) {
    uint64_t v = vg_l2fib_val(e);
    if (v & VG_L2FIB_STATIC) return (uint32_t)v == sw ? UINT16_MAX : ERR_STATIC_ELSEWHERE;
    if (VG_LIKELY((uint32_t)v == sw)) {
      if (VG_UNLIKELY((uint32_t)(v >> VG_L2FIB_SEEN_SHIFT) != now))
        __atomic_store_n(&e->val, sw | (uint64_t)now << VG_L2FIB_SEEN_SHIFT, __ATOMIC_RELAXED);
      return UINT16_MAX;
    }
  }
  int rc = vg_l2fib_learn(l2, (uint32_t)(key >> 48) - 1, key & 0xffffffffffffull, sw, now);
  return rc == 1 ? ERR_LIMIT : rc == 2 ? ERR_FULL : e ? ERR_MOVED : ERR_LEARNED;
}

/* Pass one: the key of each source MAC (0 for a group address, never
 * learned), its FIB slot prefetched so pass two finds it in cache. */
static int gather(vg_main_t *dp, vg_l2_main_t *l2, vg_frame_t *f, keys_t *k) {
  int traced = 0;
  for (uint32_t i = 0; i < f->n; i++) {
    if (i + AHEAD < f->n) {
      vg_buffer_t *pb = vg_buffer(dp, f->bi[i + AHEAD]);
      VG_PREFETCH(pb);
      VG_PREFETCH(vg_buffer_current(pb) + 6);
    }
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    const uint8_t *src = vg_buffer_current(b) + 6;
    k->sw[i] = b->sw_if_index[VG_RX];
    k->key[i] = src[0] & 1 ? 0 : vg_l2fib_key(vg_l2_opaque(b)->bd_index, vg_l2_mac(src));
    VG_PREFETCH(vg_l2fib_slot(l2, k->key[i]));
    traced |= vg_traced(b);
  }
  return traced;
}

static void trace(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f, uint32_t i,
                  uint16_t r) {
  vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
  if (!vg_traced(b)) return;
  l2_learn_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
  memcpy(t->src, vg_buffer_current(b) + 6, 6);
  t->result = r;
  t->sw_if_index = b->sw_if_index[VG_RX];
}

static uint32_t l2_learn_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  vg_l2_main_t *l2 = dp->l2;
  uint32_t n = f->n, now = vg_l2_now(l2);
  keys_t k;
  int traced = gather(dp, l2, f, &k);
  for (uint32_t i = 0; i < n; i++) {
    uint16_t r = learn(l2, k.key[i], k.sw[i], now);
    if (VG_UNLIKELY(r != UINT16_MAX)) vg_node_count_error(th, node, r, 1);
    if (VG_UNLIKELY(traced)) trace(dp, th, node, f, i, r);
  }
  vg_enqueue_next(th, node, NEXT_FWD, f->bi, n);
  return n;
}

const vg_node_reg_t vg_node_l2_learn = {
    .name = "l2-learn",
    .fn = l2_learn_fn,
    .next_nodes = (const char *const[]){"l2-fwd", NULL},
    .errors = l2_learn_errors,
    .format_trace = format_l2_learn_trace,
};
