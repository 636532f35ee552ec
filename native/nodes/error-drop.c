/* error-drop: the end of every dropped packet. Counts each packet under the
 * error its last node set (b->error) and as a drop of its rx interface, then
 * frees it. */
#include <stdio.h>

#include "../engine/vg.h"

typedef struct {
  const char *node; /* registration strings: they live as long as the process */
  const char *reason;
  uint32_t sw_if_index;
} drop_trace_t;

static int format_drop_trace(char *out, size_t size, const void *rec) {
  const drop_trace_t *t = rec;
  return snprintf(out, size, "  %s: %s (rx sw_if_index %u)", t->node, t->reason, t->sw_if_index);
}

static void trace_drop(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  drop_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
  t->node = "?";
  t->reason = "?";
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *n = &dp->nodes[i];
    if (b->error >= n->error_base && b->error < n->error_base + n->n_errors) {
      t->node = n->reg->name;
      t->reason = n->reg->errors[b->error - n->error_base];
    }
  }
  t->sw_if_index = b->sw_if_index[VG_RX];
}

static uint32_t error_drop_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  uint32_t n = f->n, run = 0, error = 0, sw = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (i + 4 < n) VG_PREFETCH(vg_buffer(dp, f->bi[i + 4]));
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    /* Runs of one (error, interface) are the rule: count each run once
     * rather than incrementing the same counters packet by packet. */
    if (b->error != error || b->sw_if_index[VG_RX] != sw) {
      if (run) {
        th->errors[error] += run;
        if (sw < dp->n_interfaces) vg_if_count_drop(dp, th, sw, run);
      }
      error = b->error;
      sw = b->sw_if_index[VG_RX];
      run = 0;
    }
    run++;
    if (VG_UNLIKELY(vg_traced(b))) trace_drop(dp, th, node, b);
  }
  if (run) {
    th->errors[error] += run;
    if (sw < dp->n_interfaces) vg_if_count_drop(dp, th, sw, run);
  }
  vg_pcap_maybe_capture(dp, VG_PCAP_DROP, f->bi, n, VG_NONE);
  vg_buffer_free(th, f->bi, n);
  return n;
}

const vg_node_reg_t vg_node_error_drop = {
    .name = "error-drop",
    .fn = error_drop_fn,
    .next_nodes = (const char *const[]){NULL},
    .errors = (const char *const[]){NULL},
    .format_trace = format_drop_trace,
};
