/* The per-thread reassembly tables (ip4/reass.h): contexts, their hash and
 * their age list. What goes into a context is nodes/ip4-reassembly.c's. */
#include <stdlib.h>
#include <string.h>

#include "reass.h"

static uint32_t key_hash(const vg_ip4_reass_main_t *rm, const vg_reass_key_t *k) {
  uint64_t h = ((uint64_t)k->src << 32 | k->dst) ^ rm->seed;
  h *= 0x9e3779b97f4a7c15ull;
  h ^= ((uint64_t)k->id << 40 | (uint64_t)k->proto << 32 | k->fib_index) + (rm->seed >> 17);
  h *= 0xc2b2ae3d27d4eb4full;
  return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

static int key_eq(const vg_reass_key_t *a, const vg_reass_key_t *b) {
  return a->src == b->src && a->dst == b->dst && a->fib_index == b->fib_index && a->id == b->id &&
         a->proto == b->proto;
}

int vg_ip4_reass_init(vg_main_t *dp, uint32_t max, uint32_t timeout_ms) {
  vg_ip4_reass_main_t *rm = calloc(1, sizeof *rm);
  if (!rm) return vg_error(VG_E_NOMEM, "reassembly");
  dp->reass = rm;
  rm->max = max;
  rm->max_buffers = dp->n_buffers / 4 / dp->n_threads;
  rm->timeout_ns = (uint64_t)timeout_ms * 1000000ull;
  rm->seed = vg_clock_ticks() * 0xff51afd7ed558ccdull ^ (uint64_t)(uintptr_t)rm;
  rm->tables = aligned_alloc(VG_CACHE_LINE, dp->n_threads * sizeof(vg_reass_table_t));
  if (!rm->tables) return vg_error(VG_E_NOMEM, "reassembly tables");
  memset(rm->tables, 0, dp->n_threads * sizeof(vg_reass_table_t));
  uint32_t n_buckets = 16;
  while (n_buckets < 2 * max) n_buckets <<= 1;
  for (uint32_t i = 0; i < dp->n_threads; i++) {
    vg_reass_table_t *t = &rm->tables[i];
    t->ctx = calloc(max, sizeof(vg_reass_t));
    t->buckets = malloc(n_buckets * sizeof(uint32_t));
    if (!t->ctx || !t->buckets) return vg_error(VG_E_NOMEM, "reassembly table of %u contexts", max);
    memset(t->buckets, 0xff, n_buckets * sizeof(uint32_t));
    t->mask = n_buckets - 1;
    t->free_list = t->oldest = t->newest = VG_NONE;
  }
  /* Polled every loop to expire what never completed (an idle box too). */
  dp->nodes[vg_node_index(dp, "ip4-reassembly")].input_active = 1;
  return 0;
}

void vg_ip4_reass_free(vg_main_t *dp) {
  vg_ip4_reass_main_t *rm = dp->reass;
  if (!rm) return;
  for (uint32_t i = 0; rm->tables && i < dp->n_threads; i++) {
    vg_reass_table_t *t = &rm->tables[i];
    for (uint32_t c = t->n_active ? t->oldest : VG_NONE; c != VG_NONE; c = t->ctx[c].newer)
      for (uint32_t k = 0; k < t->ctx[c].n_frags; k++) vg_buffer_free(&dp->threads[i], &t->ctx[c].frags[k].bi, 1);
    free(t->ctx);
    free(t->buckets);
  }
  free(rm->tables);
  free(rm);
  dp->reass = NULL;
}

uint32_t vg_ip4_reass_buffers_held(vg_main_t *dp) {
  uint32_t n = 0;
  for (uint32_t i = 0; dp->reass && i < dp->n_threads; i++) n += dp->reass->tables[i].n_buffers;
  return n;
}

vg_reass_t *vg_reass_get(vg_ip4_reass_main_t *rm, vg_reass_table_t *t, const vg_reass_key_t *k,
                         uint64_t now_ns) {
  uint32_t *bucket = &t->buckets[key_hash(rm, k) & t->mask];
  for (uint32_t c = *bucket; c != VG_NONE; c = t->ctx[c].hash_next)
    if (key_eq(&t->ctx[c].key, k)) return &t->ctx[c];
  uint32_t c;
  if (t->free_list != VG_NONE) c = t->free_list, t->free_list = t->ctx[c].hash_next;
  else if (t->n_touched < rm->max) c = t->n_touched++;
  else return NULL;
  vg_reass_t *r = &t->ctx[c];
  r->key = *k;
  r->n_frags = r->has_end = 0;
  r->end = r->held = r->n_buffers = 0;
  r->deadline_ns = now_ns + rm->timeout_ns;
  r->hash_next = *bucket;
  *bucket = c;
  r->older = t->newest;
  r->newer = VG_NONE;
  if (t->newest != VG_NONE) t->ctx[t->newest].newer = c;
  else t->oldest = c;
  t->newest = c;
  t->n_active++;
  return r;
}

void vg_reass_release(vg_ip4_reass_main_t *rm, vg_reass_table_t *t, vg_reass_t *r) {
  uint32_t c = (uint32_t)(r - t->ctx);
  uint32_t *p = &t->buckets[key_hash(rm, &r->key) & t->mask];
  while (*p != c) p = &t->ctx[*p].hash_next;
  *p = r->hash_next;
  if (r->older != VG_NONE) t->ctx[r->older].newer = r->newer;
  else t->oldest = r->newer;
  if (r->newer != VG_NONE) t->ctx[r->newer].older = r->older;
  else t->newest = r->older;
  t->n_buffers -= r->n_buffers;
  r->n_frags = 0;
  r->hash_next = t->free_list;
  t->free_list = c;
  t->n_active--;
}
