/* The stats segment: one region, a header, entries bump-allocated after it,
 * and a directory the agent reads through one memory view.
 *
 * Directory changes are published like a seqlock: `epoch` is odd while the
 * directory is being changed and even again after; a reader that sees the
 * same even epoch before and after reading has a consistent copy. Counter
 * memory never moves: counters are written in place by the dataplane
 * threads and read without locks (aligned u64 stores). */
#include <string.h>
#include <sys/mman.h>

#include "vg.h"

#define DIR_MAX 1024

/* Odd: a change is in progress. The acquire half keeps the directory
 * writes after it; the release on the way out keeps them before. */
static void begin_change(vg_stats_header_t *h) { __atomic_add_fetch(&h->epoch, 1, __ATOMIC_ACQ_REL); }
static void end_change(vg_stats_header_t *h) { __atomic_add_fetch(&h->epoch, 1, __ATOMIC_RELEASE); }

static vg_stats_header_t *hdr(vg_main_t *dp) { return (vg_stats_header_t *)dp->stats; }

static vg_stats_entry_t *dir(vg_main_t *dp) {
  return (vg_stats_entry_t *)(dp->stats + hdr(dp)->dir_offset);
}

/* A fixed directory area with room for DIR_MAX entries sits after the
 * header; rewriting means copying into the other half of a double buffer. */
static uint64_t dir_area(int half) {
  return 4096 + (uint64_t)half * DIR_MAX * sizeof(vg_stats_entry_t);
}

int vg_stats_init(vg_main_t *dp, uint64_t size) {
  uint64_t min = dir_area(2) + 65536;
  if (size < min) return vg_error(VG_E_INVAL, "stats-size=%llu: at least %llu bytes",
                                  (unsigned long long)size, (unsigned long long)min);
  /* Reserved, not committed: pages are faulted in as entries are used. */
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) return vg_error(VG_E_NOMEM, "cannot map the stats segment");
  dp->stats = p;
  dp->stats_size = size;
  vg_stats_header_t *h = hdr(dp);
  h->magic = VG_STATS_MAGIC;
  h->version = VG_API_VERSION;
  h->size = size;
  h->dir_offset = dir_area(0);
  h->used = dir_area(2);
  h->n_threads = dp->n_threads;
  h->clock_hz = vg_clock_hz();
  return 0;
}

void vg_stats_free(vg_main_t *dp) {
  if (dp->stats) munmap(dp->stats, dp->stats_size);
  dp->stats = NULL;
}

int vg_stats_find(vg_main_t *dp, const char *name) {
  vg_stats_header_t *h = hdr(dp);
  for (uint32_t i = 0; i < h->n_entries; i++)
    if (strncmp(dir(dp)[i].name, name, VG_STATS_NAME_MAX) == 0) return (int)i;
  return VG_E_NOTFOUND;
}

static uint64_t elem_size(uint32_t type) {
  return type == VG_STAT_NAME_VECTOR ? VG_STATS_NAME_MAX : sizeof(uint64_t);
}

int vg_stats_add(vg_main_t *dp, const char *name, uint32_t type, uint32_t n_elems,
                 uint32_t stride, uint32_t names_entry, uint64_t **data_out) {
  vg_stats_header_t *h = hdr(dp);
  if (strlen(name) >= VG_STATS_NAME_MAX) return vg_error(VG_E_INVAL, "stats name %s too long", name);
  if (vg_stats_find(dp, name) >= 0) return vg_error(VG_E_EXISTS, "stats entry %s exists", name);
  if (h->n_entries == DIR_MAX) return vg_error(VG_E_LIMIT, "stats directory full");
  uint64_t rows = type == VG_STAT_COUNTER ? h->n_threads : 1;
  uint64_t bytes = type == VG_STAT_SCALAR ? 8 : rows * stride * elem_size(type);
  uint64_t off = (h->used + 63) & ~63ull;
  if (off + bytes > h->size)
    return vg_error(VG_E_LIMIT, "stats segment full (%llu bytes): raise stats-size",
                    (unsigned long long)h->size);
  memset(dp->stats + off, 0, bytes);
  h->used = off + bytes;
  /* Write the new directory in the other half, then publish it. */
  begin_change(h);
  int half = h->dir_offset == dir_area(0);
  vg_stats_entry_t *nd = (vg_stats_entry_t *)(dp->stats + dir_area(half));
  memcpy(nd, dir(dp), h->n_entries * sizeof(vg_stats_entry_t));
  vg_stats_entry_t *e = &nd[h->n_entries];
  memset(e, 0, sizeof *e);
  strncpy(e->name, name, VG_STATS_NAME_MAX - 1);
  e->type = type;
  e->n_elems = n_elems;
  e->stride = stride;
  e->names_entry = names_entry;
  e->offset = off;
  h->dir_offset = dir_area(half);
  h->n_entries++;
  end_change(h);
  *data_out = (uint64_t *)(dp->stats + off);
  return (int)(h->n_entries - 1);
}

char *vg_stats_name_slot(vg_main_t *dp, int entry, uint32_t elem) {
  return (char *)dp->stats + dir(dp)[entry].offset + (uint64_t)elem * VG_STATS_NAME_MAX;
}

void vg_stats_set_n_elems(vg_main_t *dp, int entry, uint32_t n_elems) {
  begin_change(hdr(dp));
  dir(dp)[entry].n_elems = n_elems;
  end_change(hdr(dp));
}

const void *vg_stats_segment(vg_dp_t *dp, uint64_t *size) {
  if (size) *size = dp->stats_size;
  return dp->stats;
}

static void clear_entry(vg_main_t *dp, const char *name) {
  int i = vg_stats_find(dp, name);
  if (i < 0) return;
  vg_stats_entry_t *e = &dir(dp)[i];
  memset(dp->stats + e->offset, 0, hdr(dp)->n_threads * e->stride * sizeof(uint64_t));
}

int vg_stats_clear(vg_dp_t *dp, const char *what) {
  static const char *const runtime[] = {"/nodes/calls", "/nodes/vectors", "/nodes/packets",
                                        "/nodes/clocks", NULL};
  static const char *const errors[] = {"/err/counters", "/ipsec/sa/packets", "/ipsec/sa/bytes",
                                       "/ipsec/sa/replay-drops", "/ipsec/sa/integ-fails",
                                       "/ipsec/sa/decrypt-errors", "/ipsec/sa/seq-exhausted",
                                       "/ipsec/spd/packets", NULL};
  static const char *const ifs[] = {"/if/rx-packets", "/if/rx-bytes", "/if/tx-packets",
                                    "/if/tx-bytes", "/if/drops", "/if/rx-errors", NULL};
  int all = strcmp(what, "all") == 0;
  int r = all || strcmp(what, "runtime") == 0, e = all || strcmp(what, "errors") == 0,
      i = all || strcmp(what, "interfaces") == 0;
  if (!r && !e && !i)
    return vg_error(VG_E_INVAL, "clear %s: expected runtime, errors, interfaces or all", what);
  pthread_mutex_lock(&dp->api_lock); /* every barrier is taken under the API lock */
  vg_barrier_sync(dp);
  for (const char *const *n = runtime; r && *n; n++) clear_entry(dp, *n);
  for (const char *const *n = errors; e && *n; n++) clear_entry(dp, *n);
  for (const char *const *n = ifs; i && *n; n++) clear_entry(dp, *n);
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return 0;
}
