/* l2-flood: replicates a frame to every port of its bridge domain except
 * the one it came in on and those in the rx port's (non-zero) split-horizon
 * group. Copies go to all ports but the last, which gets the original, so
 * a domain of two ports floods without copying. */
#include <stdio.h>

#include "../l2/bridge.h"

enum { NEXT_DROP, NEXT_OUTPUT };

#define L2_FLOOD_ERRORS(_)                                      \
  _(NO_PORT, "no other port to flood to")                       \
  _(NO_BUFFER, "no buffer for a flood copy")

enum {
#define _(sym, str) ERR_##sym,
  L2_FLOOD_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t bd_id, n_ports;
} l2_flood_trace_t;

static int format_l2_flood_trace(char *out, size_t size, const void *rec) {
  const l2_flood_trace_t *t = rec;
  return snprintf(out, size, "  bridge domain %u: flooded to %u ports", t->bd_id, t->n_ports);
}

static inline int floods_to(vg_main_t *dp, uint32_t bd_index, uint32_t port, uint32_t rx,
                            uint8_t shg) {
  if (port == rx) return 0;
  vg_interface_t *itf = vg_interface_get(dp, port);
  return itf && itf->bd_index == bd_index && !(shg && itf->shg == shg);
}

typedef struct {
  uint32_t n;
  uint32_t bi[VG_FRAME_SIZE];
} batch_t;

static void flush(vg_thread_t *th, vg_node_t *node, uint32_t next, batch_t *out) {
  if (out->n) vg_enqueue_next(th, node, next, out->bi, out->n);
  out->n = 0;
}

static inline void push(vg_thread_t *th, vg_node_t *node, batch_t *out, uint32_t bi) {
  if (VG_UNLIKELY(out->n == VG_ARRAY_LEN(out->bi))) flush(th, node, NEXT_OUTPUT, out);
  out->bi[out->n++] = bi;
}

static void one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, uint32_t bi, batch_t *out,
                batch_t *drops) {
  vg_buffer_t *b = vg_buffer(dp, bi);
  vg_l2_opaque_t *o = vg_l2_opaque(b);
  const vg_bd_t *bd = &dp->l2->bds[o->bd_index];
  uint32_t rx = b->sw_if_index[VG_RX], last = VG_NONE, sent = 0;
  for (uint32_t p = 0; p < bd->n_ports; p++) {
    uint32_t port = bd->ports[p];
    if (!floods_to(dp, o->bd_index, port, rx, o->shg)) continue;
    if (last != VG_NONE) {
      uint32_t c = vg_buffer_copy(th, bi);
      if (VG_UNLIKELY(c == VG_BUFFER_INVALID)) vg_node_count_error(th, node, ERR_NO_BUFFER, 1);
      else {
        vg_buffer(dp, c)->sw_if_index[VG_TX] = last;
        push(th, node, out, c);
        sent++;
      }
    }
    last = port;
  }
  if (VG_UNLIKELY(vg_traced(b))) {
    l2_flood_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    t->bd_id = bd->bd_id;
    t->n_ports = sent + (last != VG_NONE);
  }
  if (VG_UNLIKELY(last == VG_NONE)) {
    b->error = vg_node_error(node, ERR_NO_PORT);
    drops->bi[drops->n++] = bi;
    return;
  }
  b->sw_if_index[VG_TX] = last;
  push(th, node, out, bi);
}

static uint32_t l2_flood_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  batch_t out, drops;
  out.n = drops.n = 0;
  for (uint32_t i = 0; i < f->n; i++) {
    if (i + 4 < f->n) VG_PREFETCH_W(vg_buffer(dp, f->bi[i + 4]));
    one(dp, th, node, f->bi[i], &out, &drops);
  }
  flush(th, node, NEXT_OUTPUT, &out);
  flush(th, node, NEXT_DROP, &drops);
  return f->n;
}

const vg_node_reg_t vg_node_l2_flood = {
    .name = "l2-flood",
    .fn = l2_flood_fn,
    .next_nodes = (const char *const[]){"error-drop", "l2-output", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        L2_FLOOD_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_l2_flood_trace,
};
