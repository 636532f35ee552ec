/* The graph: node instantiation, frames, enqueue and the dispatcher.
 *
 * Every node is listed once in nodes/nodes.def. A node's packets move in
 * frames of up to 256 buffer indices. Enqueueing appends to the target
 * node's open frame; a full frame is closed and a new one opened, so a node
 * never runs on more than a vector. Frames run in the order they were first
 * queued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

#define VG_NODE(sym) extern const vg_node_reg_t sym;
#include "../nodes/nodes.def"
#undef VG_NODE

static const vg_node_reg_t *const all_nodes[] = {
#define VG_NODE(sym) &sym,
#include "../nodes/nodes.def"
#undef VG_NODE
};

int vg_node_index(vg_main_t *dp, const char *name) {
  for (uint32_t i = 0; i < dp->n_nodes; i++)
    if (strcmp(dp->nodes[i].reg->name, name) == 0) return (int)i;
  return VG_E_NOTFOUND;
}

int vg_graph_init(vg_main_t *dp) {
  dp->n_nodes = (uint32_t)VG_ARRAY_LEN(all_nodes);
  dp->nodes = calloc(dp->n_nodes, sizeof(vg_node_t));
  if (!dp->nodes) return vg_error(VG_E_NOMEM, "graph");
  uint32_t n_errors = 0;
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *n = &dp->nodes[i];
    n->reg = all_nodes[i];
    n->index = i;
    n->error_base = n_errors;
    for (const char *const *e = n->reg->errors; e && *e; e++) n->n_errors++;
    n_errors += n->n_errors;
  }
  dp->n_errors = n_errors;
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *n = &dp->nodes[i];
    for (const char *const *x = n->reg->next_nodes; x && *x; x++) {
      int j = vg_node_index(dp, *x);
      if (j < 0) return vg_error(VG_E_NOTFOUND, "node %s: next node %s is not registered",
                                 n->reg->name, *x);
      if (n->n_next == VG_MAX_NEXT) return vg_error(VG_E_LIMIT, "node %s: too many next nodes",
                                                    n->reg->name);
      n->next[n->n_next++] = (uint32_t)j;
    }
  }
  /* Stats: node runtime counters and error counters, one row per thread. */
  uint32_t nt = dp->n_threads;
  uint64_t *unused;
  int names = vg_stats_add(dp, "/nodes/names", VG_STAT_NAME_VECTOR, dp->n_nodes, dp->n_nodes,
                           UINT32_MAX, &unused);
  if (names < 0) return names;
  for (uint32_t i = 0; i < dp->n_nodes; i++)
    strncpy(vg_stats_name_slot(dp, names, i), dp->nodes[i].reg->name, VG_STATS_NAME_MAX - 1);
  uint64_t *calls, *vectors, *packets, *clocks, *errors;
  /* Rows padded to a cache line so threads never share one. */
  uint32_t stride = (dp->n_nodes + 7) & ~7u;
  int rc;
  if ((rc = vg_stats_add(dp, "/nodes/calls", VG_STAT_COUNTER, dp->n_nodes, stride, (uint32_t)names, &calls)) < 0 ||
      (rc = vg_stats_add(dp, "/nodes/vectors", VG_STAT_COUNTER, dp->n_nodes, stride, (uint32_t)names, &vectors)) < 0 ||
      (rc = vg_stats_add(dp, "/nodes/packets", VG_STAT_COUNTER, dp->n_nodes, stride, (uint32_t)names, &packets)) < 0 ||
      (rc = vg_stats_add(dp, "/nodes/clocks", VG_STAT_COUNTER, dp->n_nodes, stride, (uint32_t)names, &clocks)) < 0)
    return rc;
  int err_names = vg_stats_add(dp, "/err/names", VG_STAT_NAME_VECTOR, n_errors, n_errors,
                               UINT32_MAX, &unused);
  if (err_names < 0) return err_names;
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *n = &dp->nodes[i];
    for (uint32_t e = 0; e < n->n_errors; e++)
      snprintf(vg_stats_name_slot(dp, err_names, n->error_base + e), VG_STATS_NAME_MAX, "%s/%s",
               n->reg->name, n->reg->errors[e]);
  }
  uint32_t err_stride = (n_errors + 7) & ~7u;
  if ((rc = vg_stats_add(dp, "/err/counters", VG_STAT_COUNTER, n_errors, err_stride,
                         (uint32_t)err_names, &errors)) < 0)
    return rc;
  for (uint32_t t = 0; t < nt; t++) {
    vg_thread_t *th = &dp->threads[t];
    th->node_calls = calls + (uint64_t)t * stride;
    th->node_vectors = vectors + (uint64_t)t * stride;
    th->node_packets = packets + (uint64_t)t * stride;
    th->node_clocks = clocks + (uint64_t)t * stride;
    th->errors = errors + (uint64_t)t * err_stride;
  }
  return 0;
}

void vg_graph_free(vg_main_t *dp) {
  free(dp->nodes);
  dp->nodes = NULL;
}

int vg_thread_init(vg_main_t *dp, vg_thread_t *th, uint32_t index) {
  th->index = index;
  th->dp = dp;
  th->rt = calloc(dp->n_nodes, sizeof(vg_node_rt_t));
  /* Every node can hold at most a few open frames at once; the ring is sized
   * generously and grows never: 4 frames per node, rounded to a power of 2. */
  uint32_t cap = 1;
  while (cap < dp->n_nodes * 4 + 16) cap <<= 1;
  th->pending = calloc(cap, sizeof(vg_frame_t *));
  th->pending_mask = cap - 1;
  th->frame_free = calloc(cap, sizeof(vg_frame_t *));
  th->frame_free_cap = cap;
  if (!th->rt || !th->pending || !th->frame_free) return vg_error(VG_E_NOMEM, "thread %u", index);
  th->trace_node = UINT32_MAX;
  return 0;
}

void vg_thread_free(vg_main_t *dp, vg_thread_t *th) {
  (void)dp;
  while (th->pending_head != th->pending_tail) free(th->pending[th->pending_head++ & th->pending_mask]);
  for (uint32_t i = 0; i < th->n_frame_free; i++) free(th->frame_free[i]);
  free(th->frame_free);
  free(th->pending);
  free(th->rt);
  if (th->n_cached && dp->pool_free) {
    memcpy(dp->pool_free->bi + dp->pool_free->n, th->cache, th->n_cached * sizeof(uint32_t));
    dp->pool_free->n += th->n_cached;
    th->n_cached = 0;
  }
}

static vg_frame_t *frame_open(vg_thread_t *th, uint32_t node_index) {
  vg_frame_t *f;
  if (VG_LIKELY(th->n_frame_free)) f = th->frame_free[--th->n_frame_free];
  else if (!(f = aligned_alloc(VG_CACHE_LINE, sizeof(vg_frame_t)))) abort();
  f->n = 0;
  f->node = node_index;
  /* A full pending ring would mean a graph that queues without bound: a bug. */
  if (th->pending_tail - th->pending_head > th->pending_mask) abort();
  th->pending[th->pending_tail++ & th->pending_mask] = f;
  th->rt[node_index].open = f;
  return f;
}

static void frame_release(vg_thread_t *th, vg_frame_t *f) {
  if (th->n_frame_free < th->frame_free_cap) th->frame_free[th->n_frame_free++] = f;
  else free(f);
}

void vg_enqueue(vg_thread_t *th, uint32_t node_index, const uint32_t *bi, uint32_t n) {
  while (n) {
    vg_frame_t *f = th->rt[node_index].open;
    if (!f) f = frame_open(th, node_index);
    uint32_t k = VG_FRAME_SIZE - f->n;
    if (k > n) k = n;
    memcpy(f->bi + f->n, bi, k * sizeof(uint32_t));
    f->n += k;
    if (f->n == VG_FRAME_SIZE) th->rt[node_index].open = NULL;
    bi += k;
    n -= k;
  }
}

void vg_enqueue_to_next(vg_thread_t *th, vg_node_t *node, const uint32_t *bi,
                        const uint16_t *next, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint32_t j = i + 1;
    uint16_t x = next[i];
    while (j < n && next[j] == x) j++;
    vg_enqueue(th, node->next[x], bi + i, j - i);
    i = j;
  }
}

static inline uint32_t dispatch_node(vg_main_t *dp, vg_thread_t *th, vg_node_t *node,
                                     vg_frame_t *f) {
  uint32_t n = node->reg->fn(dp, th, node, f);
  uint64_t now = vg_clock_ticks();
  uint32_t i = node->index;
  th->node_calls[i]++;
  th->node_vectors[i] += n != 0;
  th->node_packets[i] += n;
  th->node_clocks[i] += now - th->last_clock;
  th->last_clock = now;
  return n;
}

uint32_t vg_dispatch_once(vg_main_t *dp, vg_thread_t *th) {
  uint32_t in = 0;
  th->last_clock = vg_clock_ticks();
  for (uint32_t i = 0; i < dp->n_nodes; i++) {
    vg_node_t *node = &dp->nodes[i];
    if (node->reg->type == VG_NODE_INPUT && node->input_active)
      in += dispatch_node(dp, th, node, NULL);
  }
  while (th->pending_head != th->pending_tail) {
    vg_frame_t *f = th->pending[th->pending_head++ & th->pending_mask];
    if (th->rt[f->node].open == f) th->rt[f->node].open = NULL;
    dispatch_node(dp, th, &dp->nodes[f->node], f);
    frame_release(th, f);
  }
  return in;
}
