/* VRF tables: the prefix table (configuration) and the mtrie (lookups) kept
 * in step, and the load-balance objects routes resolve to. */
#include <stdlib.h>
#include <string.h>

#include "ip4.h"

#define SLOT_EMPTY VG_NONE
#define SLOT_GONE (VG_NONE - 1)

static inline uint32_t mask_of(uint32_t len) { return len ? ~0u << (32 - len) : 0; }

static uint32_t key_hash(uint32_t prefix, uint32_t len) {
  uint64_t h = ((uint64_t)prefix << 6 | len) * 0x9e3779b97f4a7c15ull;
  return (uint32_t)(h >> 32);
}

static vg_mtrie_leaf_t leaf_of(uint32_t lb) { return lb << 1 | 1; }

/* ---- load balance ----
 * Routes with the same next hops share one load-balance object (a million
 * routes via one gateway are one object, not a million): objects are found
 * by their buckets in a hash table and counted by reference. */

static uint32_t lb_hash(const vg_lb_t *lb) {
  uint64_t h = lb->n_buckets;
  for (uint32_t k = 0; k < lb->n_buckets; k++) h = (h ^ lb->buckets[k]) * 0x100000001b3ull;
  return (uint32_t)(h ^ (h >> 32));
}

static int lb_same(const vg_lb_t *a, const vg_lb_t *b) {
  return a->n_buckets == b->n_buckets && !memcmp(a->buckets, b->buckets, a->n_buckets * sizeof a->buckets[0]);
}

/* A copy of a configured route's next hops, weight 0 read as the 1 it means. */
static vg_lb_paths_t *paths_copy(const vg_next_hop_t *nh, uint32_t n) {
  vg_lb_paths_t *p = malloc(sizeof *p + n * sizeof p->nh[0]);
  if (!p) return NULL;
  p->n = n;
  for (uint32_t k = 0; k < n; k++)
    p->nh[k] = (vg_next_hop_t){nh[k].addr, nh[k].sw_if_index, nh[k].weight ? nh[k].weight : 1};
  return p;
}

static int paths_same(const vg_lb_paths_t *a, const vg_lb_paths_t *b) {
  if (!a || !b) return a == b;
  return a->n == b->n && !memcmp(a->nh, b->nh, a->n * sizeof a->nh[0]);
}

/* Rebuilds the table for the live objects, dropping tombstones. */
static int lb_table_grow(vg_ip4_main_t *im) {
  uint32_t live = im->n_lbs - im->n_free_lbs, n = 256;
  while (n < 4 * (live + 1)) n <<= 1;
  uint32_t *slots = malloc(n * sizeof *slots);
  if (!slots) return vg_error(VG_E_NOMEM, "load-balance table");
  memset(slots, 0xff, n * sizeof *slots);
  for (uint32_t i = 0; i < im->n_lbs; i++) {
    if (!im->lb_refs[i]) continue;
    uint32_t s = lb_hash(&im->lbs[i]) & (n - 1);
    while (slots[s] != SLOT_EMPTY) s = (s + 1) & (n - 1);
    slots[s] = i;
  }
  free(im->lb_slots);
  im->lb_slots = slots;
  im->n_lb_slots = n;
  im->n_lb_slots_used = live;
  return 0;
}

static void fill_buckets(vg_lb_t *lb, const uint32_t *adjs, const uint32_t *weights, uint32_t n) {
  /* Buckets in proportion to the weights, a power of two of them. */
  uint64_t total = 0;
  for (uint32_t k = 0; k < n; k++) total += weights && weights[k] ? weights[k] : 1;
  uint32_t nb = 1;
  while (nb < total && nb < VG_LB_MAX_BUCKETS) nb <<= 1;
  if (n == 1) nb = 1;
  uint32_t b = 0;
  for (uint32_t k = 0; k < n && b < nb; k++) {
    uint64_t w = weights && weights[k] ? weights[k] : 1;
    uint32_t share = (uint32_t)((w * nb + total - 1) / total);
    for (uint32_t s = 0; s < share && b < nb; s++) lb->buckets[b++] = adjs[k];
  }
  for (uint32_t k = 0; b < nb; b++, k++) lb->buckets[b] = adjs[k % n];
  lb->n_buckets = (uint16_t)nb;
  lb->bucket_mask = (uint16_t)(nb - 1);
}

static int lb_pool_grow(vg_ip4_main_t *im) {
  uint32_t cap = im->lbs_cap ? im->lbs_cap * 2 : 256;
  vg_lb_t *l = realloc(im->lbs, cap * sizeof *l);
  if (l) im->lbs = l;
  uint32_t *f = l ? realloc(im->free_lbs, cap * sizeof *f) : NULL;
  if (f) im->free_lbs = f;
  uint32_t *r = f ? realloc(im->lb_refs, cap * sizeof *r) : NULL;
  if (r) im->lb_refs = r;
  vg_lb_paths_t **p = r ? realloc(im->lb_paths, cap * sizeof *p) : NULL;
  if (p) im->lb_paths = p;
  if (!l || !f || !r || !p) return vg_error(VG_E_NOMEM, "load-balance pool");
  im->lbs_cap = cap;
  return 0;
}

int vg_lb_create(vg_main_t *dp, const uint32_t *adjs, const uint32_t *weights, uint32_t n,
                 const vg_next_hop_t *paths) {
  vg_ip4_main_t *im = dp->ip4;
  if (n == 0 || n > VG_LB_MAX_BUCKETS)
    return vg_error(VG_E_INVAL, "a route has 1..%d next hops, not %u", VG_LB_MAX_BUCKETS, n);
  vg_lb_t want;
  fill_buckets(&want, adjs, weights, n);
  vg_lb_paths_t *given = paths ? paths_copy(paths, n) : NULL;
  if (paths && !given) return vg_error(VG_E_NOMEM, "next hops of a route");
  if ((im->n_lb_slots_used + 1) * 2 > im->n_lb_slots && lb_table_grow(im) < 0) {
    free(given);
    return VG_E_NOMEM;
  }
  uint32_t s = lb_hash(&want) & (im->n_lb_slots - 1), tomb = SLOT_EMPTY;
  for (;; s = (s + 1) & (im->n_lb_slots - 1)) {
    uint32_t i = im->lb_slots[s];
    if (i == SLOT_EMPTY) break;
    if (i == SLOT_GONE) {
      if (tomb == SLOT_EMPTY) tomb = s;
      continue;
    }
    if (lb_same(&im->lbs[i], &want) && paths_same(im->lb_paths[i], given)) {
      im->lb_refs[i]++;
      free(given);
      return (int)i;
    }
  }
  if (im->n_free_lbs == 0 && im->n_lbs == im->lbs_cap && lb_pool_grow(im) < 0) {
    free(given);
    return VG_E_NOMEM;
  }
  if (tomb != SLOT_EMPTY) s = tomb;
  else im->n_lb_slots_used++;
  uint32_t i = im->n_free_lbs ? im->free_lbs[--im->n_free_lbs] : im->n_lbs++;
  im->lbs[i] = want;
  im->lb_refs[i] = 1;
  im->lb_paths[i] = given;
  im->lb_slots[s] = i;
  for (uint32_t k = 0; k < want.n_buckets; k++) im->adjs[want.buckets[k]].refs++;
  return (int)i;
}

void vg_lb_unref(vg_main_t *dp, uint32_t i) {
  vg_ip4_main_t *im = dp->ip4;
  if (--im->lb_refs[i]) return;
  vg_lb_t *lb = &im->lbs[i];
  for (uint32_t s = lb_hash(lb) & (im->n_lb_slots - 1);; s = (s + 1) & (im->n_lb_slots - 1))
    if (im->lb_slots[s] == i) {
      im->lb_slots[s] = SLOT_GONE;
      break;
    }
  for (uint32_t k = 0; k < lb->n_buckets; k++) vg_adj_unref(dp, lb->buckets[k]);
  lb->n_buckets = 0;
  free(im->lb_paths[i]);
  im->lb_paths[i] = NULL;
  im->free_lbs[im->n_free_lbs++] = i;
}

/* ---- the prefix table ---- */

/* Rebuilds the prefix table for the live routes, dropping tombstones. */
static int table_grow(vg_fib_t *fib) {
  uint32_t n = 64;
  while (n < 4 * (fib->n_routes + 1)) n <<= 1;
  uint32_t *slots = malloc(n * sizeof *slots);
  if (!slots) return vg_error(VG_E_NOMEM, "VRF %u prefix table", fib->vrf);
  memset(slots, 0xff, n * sizeof *slots);
  for (uint32_t i = 0; i < fib->routes_cap; i++) {
    vg_route_t *r = &fib->routes[i];
    if (!r->in_use) continue;
    uint32_t s = key_hash(r->prefix, r->len) & (n - 1);
    while (slots[s] != SLOT_EMPTY) s = (s + 1) & (n - 1);
    slots[s] = i;
  }
  free(fib->slots);
  fib->slots = slots;
  fib->n_slots = n;
  fib->n_slots_used = fib->n_routes;
  return 0;
}

vg_route_t *vg_fib_route_find(vg_fib_t *fib, uint32_t prefix, uint32_t len) {
  prefix &= mask_of(len);
  for (uint32_t s = key_hash(prefix, len) & (fib->n_slots - 1);; s = (s + 1) & (fib->n_slots - 1)) {
    uint32_t i = fib->slots[s];
    if (i == SLOT_EMPTY) return NULL;
    if (i != SLOT_GONE && fib->routes[i].prefix == prefix && fib->routes[i].len == len)
      return &fib->routes[i];
  }
}

static int route_insert(vg_fib_t *fib, uint32_t prefix, uint32_t len, vg_route_t **out) {
  if ((fib->n_slots_used + 1) * 2 > fib->n_slots && table_grow(fib) < 0) return VG_E_NOMEM;
  uint32_t i;
  if (fib->n_free_routes) i = fib->free_routes[--fib->n_free_routes];
  else {
    if (fib->n_routes == fib->routes_cap) {
      uint32_t cap = fib->routes_cap ? fib->routes_cap * 2 : 64;
      vg_route_t *r = realloc(fib->routes, cap * sizeof *r);
      uint32_t *f = r ? realloc(fib->free_routes, cap * sizeof *f) : NULL;
      if (r) fib->routes = r;
      if (f) fib->free_routes = f;
      if (!r || !f) return vg_error(VG_E_NOMEM, "VRF %u routes", fib->vrf);
      memset(r + fib->routes_cap, 0, (cap - fib->routes_cap) * sizeof *r);
      fib->routes_cap = cap;
    }
    i = fib->n_routes; /* with no free-listed route, every index below is in use */
  }
  uint32_t s = key_hash(prefix, len) & (fib->n_slots - 1);
  while (fib->slots[s] != SLOT_EMPTY && fib->slots[s] != SLOT_GONE) s = (s + 1) & (fib->n_slots - 1);
  if (fib->slots[s] == SLOT_EMPTY) fib->n_slots_used++;
  fib->slots[s] = i;
  fib->routes[i] = (vg_route_t){.prefix = prefix, .len = (uint8_t)len, .in_use = 1};
  fib->n_routes++;
  *out = &fib->routes[i];
  return 0;
}

static void route_remove(vg_fib_t *fib, vg_route_t *r) {
  uint32_t i = (uint32_t)(r - fib->routes);
  for (uint32_t s = key_hash(r->prefix, r->len) & (fib->n_slots - 1);; s = (s + 1) & (fib->n_slots - 1))
    if (fib->slots[s] == i) {
      fib->slots[s] = SLOT_GONE;
      break;
    }
  r->in_use = 0;
  fib->free_routes[fib->n_free_routes++] = i;
  fib->n_routes--;
}

vg_route_t *vg_fib_route_match(vg_fib_t *fib, uint32_t addr) {
  for (int len = 32; len >= 0; len--) {
    vg_route_t *r = vg_fib_route_find(fib, addr, (uint32_t)len);
    if (r) return r;
  }
  return NULL;
}

/* The route that covers prefix/len from a shorter length (0/0 at worst). */
static vg_route_t *cover_of(vg_fib_t *fib, uint32_t prefix, uint32_t len) {
  for (int l = (int)len - 1; l >= 0; l--) {
    vg_route_t *r = vg_fib_route_find(fib, prefix, (uint32_t)l);
    if (r) return r;
  }
  return NULL;
}

int vg_fib_route_set(vg_main_t *dp, vg_fib_t *fib, uint32_t prefix, uint32_t len, uint32_t source,
                     uint32_t lb) {
  prefix &= mask_of(len);
  vg_route_t *r = vg_fib_route_find(fib, prefix, len);
  if (r && source == VG_ROUTE_SOURCE_NEIGHBOR && r->source != VG_ROUTE_SOURCE_NEIGHBOR) {
    vg_lb_unref(dp, lb); /* a configured route outranks what ARP learned */
    return 0;
  }
  int rc, created = 0;
  if (!r) {
    if ((rc = route_insert(fib, prefix, len, &r)) < 0) {
      vg_lb_unref(dp, lb);
      return rc;
    }
    created = 1;
  }
  if ((rc = vg_mtrie_add(dp->ip4, &fib->mtrie, prefix, len, leaf_of(lb))) < 0) {
    if (created) route_remove(fib, r);
    vg_lb_unref(dp, lb);
    return rc;
  }
  if (!created) vg_lb_unref(dp, r->lb);
  r->lb = lb;
  r->source = (uint8_t)source;
  return 0;
}

int vg_fib_route_unset(vg_main_t *dp, vg_fib_t *fib, uint32_t prefix, uint32_t len) {
  prefix &= mask_of(len);
  vg_route_t *r = vg_fib_route_find(fib, prefix, len);
  if (!r) return vg_error(VG_E_NOTFOUND, "VRF %u has no route for %u.%u.%u.%u/%u", fib->vrf,
                          prefix >> 24, (prefix >> 16) & 0xff, (prefix >> 8) & 0xff, prefix & 0xff, len);
  if (len == 0) { /* 0.0.0.0/0 is never absent: it goes back to "unreachable" */
    int lb = vg_lb_create(dp, &dp->ip4->adj_unreach, NULL, 1, NULL);
    return lb < 0 ? lb : vg_fib_route_set(dp, fib, 0, 0, VG_ROUTE_SOURCE_DEFAULT, (uint32_t)lb);
  }
  vg_route_t *cover = cover_of(fib, prefix, len);
  vg_mtrie_del(dp->ip4, &fib->mtrie, prefix, len, leaf_of(cover->lb), cover->len);
  uint32_t lb = r->lb;
  route_remove(fib, r);
  vg_lb_unref(dp, lb);
  return 0;
}

/* ---- VRFs ---- */

vg_fib_t *vg_fib_of(vg_main_t *dp, uint32_t fib_index) {
  return fib_index < dp->ip4->n_fibs ? dp->ip4->fibs[fib_index] : NULL;
}

vg_fib_t *vg_fib_get(vg_main_t *dp, uint32_t vrf, int create) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_fibs; i++)
    if (im->fibs[i]->vrf == vrf) return im->fibs[i];
  if (!create) return NULL;
  vg_fib_t **fibs = realloc(im->fibs, (im->n_fibs + 1) * sizeof *fibs);
  vg_fib_t *fib = calloc(1, sizeof *fib);
  if (fibs) im->fibs = fibs;
  if (!fibs || !fib) {
    free(fib);
    vg_error(VG_E_NOMEM, "VRF %u", vrf);
    return NULL;
  }
  fib->vrf = vrf;
  /* Every VRF starts with 0.0.0.0/0: no route, ICMP unreachable. */
  int lb = vg_lb_create(dp, &im->adj_unreach, NULL, 1, NULL);
  vg_route_t *r;
  if (lb < 0 || table_grow(fib) < 0 || vg_mtrie_init(im, &fib->mtrie, leaf_of((uint32_t)lb)) < 0 ||
      route_insert(fib, 0, 0, &r) < 0) {
    free(fib->slots);
    free(fib);
    return NULL;
  }
  r->lb = (uint32_t)lb;
  r->source = VG_ROUTE_SOURCE_DEFAULT;
  im->fibs[im->n_fibs++] = fib;
  return fib;
}

void vg_fib_free(vg_main_t *dp, vg_fib_t *fib) {
  vg_mtrie_free(dp->ip4, &fib->mtrie);
  free(fib->slots);
  free(fib->routes);
  free(fib->free_routes);
  free(fib);
}
