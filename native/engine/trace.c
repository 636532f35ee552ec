/* Packet trace: `trace add <input-node> N` marks the next N packets that
 * node takes in; every node a marked packet passes appends a record, and
 * vg_trace_format() prints each packet's path with the nodes' formatters. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "vg.h"

#define TRACE_BYTES_PER_PACKET 2048

typedef struct {
  uint32_t node;
  uint32_t len;
  uint64_t ticks;
} trace_rec_t;

typedef struct {
  uint64_t used; /* keeps data 8-byte aligned for the records */
  uint8_t data[TRACE_BYTES_PER_PACKET];
} trace_packet_t;

typedef struct vg_trace_main {
  atomic_uint n_used;
  trace_packet_t *packets;
} trace_main_t;

int vg_trace_init(vg_main_t *dp, uint32_t max_packets) {
  trace_main_t *tm = calloc(1, sizeof *tm);
  if (!tm) return vg_error(VG_E_NOMEM, "trace");
  tm->packets = calloc(max_packets ? max_packets : 1, sizeof(trace_packet_t));
  if (!tm->packets) {
    free(tm);
    return vg_error(VG_E_NOMEM, "trace-max=%u: cannot allocate", max_packets);
  }
  dp->trace = tm;
  dp->trace_max = max_packets;
  return 0;
}

void vg_trace_free(vg_main_t *dp) {
  if (!dp->trace) return;
  free(dp->trace->packets);
  free(dp->trace);
  dp->trace = NULL;
}

void vg_trace_maybe_start(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  if (VG_LIKELY(!th->trace_remaining) || th->trace_node != node->index) return;
  trace_main_t *tm = th->dp->trace;
  uint32_t slot = atomic_fetch_add(&tm->n_used, 1);
  if (slot >= th->dp->trace_max) {
    atomic_fetch_sub(&tm->n_used, 1);
    th->trace_remaining = 0;
    return;
  }
  tm->packets[slot].used = 0;
  b->flags |= VG_BUF_TRACED;
  b->trace_index = slot;
  th->trace_remaining--;
}

void *vg_trace_record(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, uint32_t size) {
  static _Thread_local uint8_t overflow[TRACE_BYTES_PER_PACKET];
  trace_packet_t *p = &th->dp->trace->packets[b->trace_index];
  uint32_t need = (uint32_t)sizeof(trace_rec_t) + ((size + 7) & ~7u);
  if (p->used + need > TRACE_BYTES_PER_PACKET || size > TRACE_BYTES_PER_PACKET) {
    return overflow; /* path too long to record: the rest is not kept */
  }
  trace_rec_t *r = (trace_rec_t *)(p->data + p->used);
  r->node = node->index;
  r->len = size;
  r->ticks = vg_clock_ticks();
  p->used += need;
  memset(r + 1, 0, size);
  return r + 1;
}

int vg_trace_add(vg_dp_t *dp, const char *input_node, uint32_t count) {
  pthread_mutex_lock(&dp->api_lock);
  int i = vg_node_index(dp, input_node), rc = 0;
  if (i < 0) rc = vg_error(VG_E_NOTFOUND, "trace add: no node named %s", input_node);
  else if (dp->nodes[i].reg->type != VG_NODE_INPUT)
    rc = vg_error(VG_E_INVAL, "trace add: %s is not an input node", input_node);
  if (!rc) {
    vg_barrier_sync(dp);
    for (uint32_t t = 0; t < dp->n_threads; t++) {
      dp->threads[t].trace_node = (uint32_t)i;
      dp->threads[t].trace_remaining = count;
    }
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_trace_clear(vg_dp_t *dp) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp);
  for (uint32_t t = 0; t < dp->n_threads; t++) dp->threads[t].trace_remaining = 0;
  atomic_store(&dp->trace->n_used, 0);
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return 0;
}

int64_t vg_trace_format(vg_dp_t *dp, char *buf, uint64_t size) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp);
  vg_text_t o = {buf, size, 0};
  uint32_t n = atomic_load(&dp->trace->n_used);
  if (n > dp->trace_max) n = dp->trace_max;
  uint64_t hz = vg_clock_hz();
  if (!n) vg_text_printf(&o, "No packets in trace buffer\n");
  for (uint32_t i = 0; i < n; i++) {
    trace_packet_t *p = &dp->trace->packets[i];
    vg_text_printf(&o, "%sPacket %u\n\n", i ? "\n" : "", i + 1);
    for (uint32_t off = 0; off < p->used;) {
      trace_rec_t *r = (trace_rec_t *)(p->data + off);
      /* Time since the dataplane was created, as VPP shows time since start. */
      uint64_t us = (uint64_t)((double)(r->ticks - dp->created_ticks) * 1e6 / (double)hz);
      uint64_t s = us / 1000000;
      vg_text_printf(&o, "%02llu:%02llu:%02llu:%06llu: %s\n", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60),
                 (unsigned long long)(us % 1000000), dp->nodes[r->node].reg->name);
      vg_trace_fmt_t *fmt = dp->nodes[r->node].reg->format_trace;
      if (fmt) {
        char line[1024];
        fmt(line, sizeof line, r + 1);
        vg_text_printf(&o, "%s\n", line);
      }
      off += (uint32_t)sizeof(trace_rec_t) + ((r->len + 7) & ~7u);
    }
  }
  int64_t len = vg_text_finish(&o);
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return len;
}
