/* pg-input: the packet generator's input node. Each call sends up to one
 * frame per enabled stream of this thread, paced by the stream's rate. */
#include <stdio.h>

#include "../interfaces/pg.h"

typedef struct {
  char stream[64];
  uint32_t length;
  uint32_t sw_if_index;
} pg_trace_t;

static int format_pg_trace(char *out, size_t size, const void *rec) {
  const pg_trace_t *t = rec;
  return snprintf(out, size, "  stream %s, %u bytes, rx sw_if_index %u", t->stream, t->length,
                  t->sw_if_index);
}

/* Packets the stream may send now. */
static uint32_t budget(vg_pg_stream_t *s, uint64_t now) {
  uint64_t n = VG_FRAME_SIZE;
  if (s->count && s->count - s->sent < n) n = s->count - s->sent;
  if (s->rate) {
    if (!s->start_ns) {
      s->start_ns = now;
      s->start_sent = s->sent;
    }
    uint64_t due = (uint64_t)((double)(now - s->start_ns) * (double)s->rate / 1e9) + 1;
    uint64_t sent = s->sent - s->start_sent;
    uint64_t allowed = due > sent ? due - sent : 0;
    if (allowed < n) n = allowed;
  }
  return (uint32_t)n;
}

static uint32_t send_stream(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_pg_stream_t *s,
                            uint64_t now) {
  uint32_t bi[VG_FRAME_SIZE];
  uint32_t n = budget(s, now);
  if (!n) return 0;
  n = vg_buffer_alloc(th, bi, n);
  if (!n) return 0; /* pool empty: try again next loop */
  vg_pg_fill(dp, th, s, bi, n);
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    bytes += vg_buffer_length_in_chain(b);
    if (VG_UNLIKELY(th->trace_remaining)) {
      vg_trace_maybe_start(th, node, b);
      if (vg_traced(b)) {
        pg_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
        snprintf(t->stream, sizeof t->stream, "%s", s->name);
        t->length = vg_buffer_length_in_chain(b);
        t->sw_if_index = s->sw_if_index;
      }
    }
  }
  vg_input_enqueue(dp, th, s->node, bi, n);
  vg_if_count_rx(dp, th, s->sw_if_index, n, bytes);
  if (!s->first_ns) s->first_ns = now;
  s->last_ns = now;
  s->sent += n;
  s->bytes += bytes;
  if (s->count && s->sent >= s->count) s->done = 1;
  return n;
}

static uint32_t pg_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  (void)f;
  uint32_t total = 0;
  uint64_t now = 0;
  for (uint32_t i = 0; i < dp->n_pg_streams; i++) {
    vg_pg_stream_t *s = dp->pg_streams[i];
    if (!s || !s->enabled || s->done || s->thread != th->index) continue;
    if (!now) now = vg_time_ns();
    total += send_stream(dp, th, node, s, now);
  }
  return total;
}

const vg_node_reg_t vg_node_pg_input = {
    .name = "pg-input",
    .fn = pg_input_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){NULL},
    .errors = (const char *const[]){NULL},
    .format_trace = format_pg_trace,
};
