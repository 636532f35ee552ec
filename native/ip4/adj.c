/* Adjacencies (where a route sends a packet and the L2 header it gets),
 * neighbors (IPv4 -> MAC, static or learned by ARP) and interface
 * addresses. */
#include <stdlib.h>
#include <string.h>

#include "ip4.h"

#define NEIGHBOR_AGE_NS (300ull * 1000000000ull)

static int adj_new(vg_main_t *dp, vg_adj_type_t type, uint32_t sw, uint32_t nh) {
  vg_ip4_main_t *im = dp->ip4;
  if (im->n_adjs == im->adjs_cap) {
    uint32_t cap = im->adjs_cap ? im->adjs_cap * 2 : 64;
    vg_adj_t *a = realloc(im->adjs, cap * sizeof *a);
    if (!a) return vg_error(VG_E_NOMEM, "adjacency pool");
    im->adjs = a;
    im->adjs_cap = cap;
  }
  uint32_t i = im->n_adjs++;
  vg_interface_t *itf = vg_interface_get(dp, sw);
  im->adjs[i] = (vg_adj_t){.type = (uint8_t)type, .sw_if_index = sw, .next_hop = nh,
                           .spd = (uint8_t)(itf && itf->spd)};
  return (int)i;
}

static void build_rewrite(vg_main_t *dp, vg_adj_t *a, const uint8_t *dst_mac) {
  vg_interface_t *itf = vg_interface_get(dp, a->sw_if_index);
  uint8_t *p = a->rewrite;
  memcpy(p, dst_mac, 6);
  memcpy(p + 6, itf ? itf->mac : (const uint8_t *)"\0\0\0\0\0\0", 6);
  uint32_t n = 12;
  if (itf && itf->sup_sw_if_index != itf->sw_if_index) {
    p[12] = 0x81, p[13] = 0x00, p[14] = (uint8_t)(itf->vlan >> 8), p[15] = (uint8_t)itf->vlan;
    n = 16;
  }
  p[n] = 0x08, p[n + 1] = 0x00;
  a->rewrite_len = (uint8_t)(n + 2);
  a->resolved = 1;
}

int vg_adj_neighbor(vg_main_t *dp, uint32_t sw, uint32_t nh) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_adjs; i++)
    if (im->adjs[i].type == VG_ADJ_NEIGHBOR && im->adjs[i].sw_if_index == sw && im->adjs[i].next_hop == nh)
      return (int)i;
  int a = adj_new(dp, VG_ADJ_NEIGHBOR, sw, nh);
  vg_interface_t *itf = vg_interface_get(dp, sw);
  vg_neighbor_t *n = a >= 0 ? vg_neighbor_find(dp, sw, nh) : NULL;
  static const uint8_t none[6];
  /* A point-to-point interface has one peer and no ARP: resolved at once
   * (its tx takes the placeholder Ethernet header off again). */
  if (a >= 0 && itf && itf->p2p) build_rewrite(dp, &im->adjs[a], none);
  else if (n) build_rewrite(dp, &im->adjs[a], n->mac);
  return a;
}

int vg_adj_glean(vg_main_t *dp, uint32_t sw) {
  vg_ip4_main_t *im = dp->ip4;
  vg_interface_t *itf = vg_interface_get(dp, sw);
  if (itf && itf->p2p) return vg_adj_neighbor(dp, sw, 0);
  for (uint32_t i = 0; i < im->n_adjs; i++)
    if (im->adjs[i].type == VG_ADJ_GLEAN && im->adjs[i].sw_if_index == sw) return (int)i;
  return adj_new(dp, VG_ADJ_GLEAN, sw, 0);
}

void vg_adj_unref(vg_main_t *dp, uint32_t adj) {
  if (dp->ip4->adjs[adj].refs) dp->ip4->adjs[adj].refs--;
}

void vg_adj_update_rewrites(vg_main_t *dp, uint32_t sw) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_adjs; i++) {
    vg_adj_t *a = &im->adjs[i];
    if (a->type != VG_ADJ_NEIGHBOR || a->sw_if_index != sw || !a->resolved) continue;
    uint8_t dst[6];
    memcpy(dst, a->rewrite, 6);
    build_rewrite(dp, a, dst);
  }
}

/* ---- neighbors ---- */

vg_neighbor_t *vg_neighbor_find(vg_main_t *dp, uint32_t sw, uint32_t addr) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_neighbors; i++) {
    vg_neighbor_t *n = &im->neighbors[i];
    if (n->in_use && n->sw_if_index == sw && n->addr == addr) return n;
  }
  return NULL;
}

static void set_adjs(vg_main_t *dp, uint32_t sw, uint32_t addr, const uint8_t *mac) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_adjs; i++) {
    vg_adj_t *a = &im->adjs[i];
    if (a->type != VG_ADJ_NEIGHBOR || a->sw_if_index != sw || a->next_hop != addr) continue;
    if (mac) build_rewrite(dp, a, mac);
    else a->resolved = 0;
  }
}

/* A neighbor on one of the interface's networks gets a host route, so
 * packets to it skip the glean adjacency. */
static int neighbor_route(vg_main_t *dp, uint32_t sw, uint32_t addr, int add) {
  vg_interface_t *itf = vg_interface_get(dp, sw);
  vg_fib_t *fib = itf ? vg_fib_of(dp, itf->fib_index) : NULL;
  uint32_t local;
  if (!fib || vg_if_ip4_is_local(dp, sw, addr) || vg_if_ip4_for_peer(dp, sw, addr, &local) != 1) return 0;
  vg_route_t *r = vg_fib_route_find(fib, addr, 32);
  if (!add) return r && r->source == VG_ROUTE_SOURCE_NEIGHBOR ? vg_fib_route_unset(dp, fib, addr, 32) : 0;
  if (r) return 0;
  int adj = vg_adj_neighbor(dp, sw, addr);
  if (adj < 0) return adj;
  uint32_t a = (uint32_t)adj;
  int lb = vg_lb_create(dp, &a, NULL, 1, NULL);
  return lb < 0 ? lb : vg_fib_route_set(dp, fib, addr, 32, VG_ROUTE_SOURCE_NEIGHBOR, (uint32_t)lb);
}

int vg_neighbor_set(vg_main_t *dp, uint32_t sw, uint32_t addr, const uint8_t *mac, int is_static) {
  vg_ip4_main_t *im = dp->ip4;
  vg_neighbor_t *n = vg_neighbor_find(dp, sw, addr);
  if (n && n->is_static && !is_static) return 0; /* ARP never overrides configuration */
  if (!n) {
    for (uint32_t i = 0; i < im->n_neighbors && !n; i++)
      if (!im->neighbors[i].in_use) n = &im->neighbors[i];
    if (!n) {
      if (im->n_neighbors == im->neighbors_cap) {
        uint32_t cap = im->neighbors_cap ? im->neighbors_cap * 2 : 64;
        vg_neighbor_t *x = realloc(im->neighbors, cap * sizeof *x);
        if (!x) return vg_error(VG_E_NOMEM, "neighbor table");
        im->neighbors = x;
        im->neighbors_cap = cap;
      }
      n = &im->neighbors[im->n_neighbors++];
    }
  }
  *n = (vg_neighbor_t){.sw_if_index = sw, .addr = addr, .is_static = (uint8_t)!!is_static,
                       .in_use = 1, .updated_ns = vg_time_ns()};
  memcpy(n->mac, mac, 6);
  set_adjs(dp, sw, addr, mac);
  return neighbor_route(dp, sw, addr, 1);
}

int vg_neighbor_delete(vg_main_t *dp, uint32_t sw, uint32_t addr) {
  vg_neighbor_t *n = vg_neighbor_find(dp, sw, addr);
  if (!n) return vg_error(VG_E_NOTFOUND, "no neighbor %u.%u.%u.%u on sw_if_index %u", addr >> 24,
                          (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff, sw);
  n->in_use = 0;
  set_adjs(dp, sw, addr, NULL);
  return neighbor_route(dp, sw, addr, 0);
}

/* ---- ARP learning, applied between frames ---- */

int vg_ip4_queue_learn(vg_main_t *dp, uint32_t sw, uint32_t addr, const uint8_t *mac) {
  vg_ip4_main_t *im = dp->ip4;
  while (atomic_flag_test_and_set_explicit(&im->learn_lock, memory_order_acquire)) {
  }
  uint32_t tail = atomic_load_explicit(&im->learn_tail, memory_order_relaxed);
  int queued = tail - atomic_load_explicit(&im->learn_head, memory_order_acquire) < VG_ARP_LEARN_RING;
  if (queued) {
    vg_arp_learn_t *e = &im->learn[tail % VG_ARP_LEARN_RING];
    e->sw_if_index = sw;
    e->addr = addr;
    memcpy(e->mac, mac, 6);
    atomic_store_explicit(&im->learn_tail, tail + 1, memory_order_release);
  }
  atomic_flag_clear_explicit(&im->learn_lock, memory_order_release);
  return queued;
}

int vg_ip4_learn_pending(vg_main_t *dp) {
  vg_ip4_main_t *im = dp->ip4;
  return atomic_load_explicit(&im->learn_tail, memory_order_acquire) !=
         atomic_load_explicit(&im->learn_head, memory_order_relaxed);
}

void vg_ip4_apply_learned(vg_main_t *dp) {
  vg_ip4_main_t *im = dp->ip4;
  uint32_t head = atomic_load_explicit(&im->learn_head, memory_order_relaxed);
  uint32_t tail = atomic_load_explicit(&im->learn_tail, memory_order_acquire);
  for (; head != tail; head++) {
    vg_arp_learn_t *e = &im->learn[head % VG_ARP_LEARN_RING];
    vg_neighbor_t *n = vg_neighbor_find(dp, e->sw_if_index, e->addr);
    if (n && !n->is_static && memcmp(n->mac, e->mac, 6) == 0) n->updated_ns = vg_time_ns();
    else vg_neighbor_set(dp, e->sw_if_index, e->addr, e->mac, 0);
  }
  atomic_store_explicit(&im->learn_head, head, memory_order_release);
  /* Learned neighbors not heard from for a while are forgotten. */
  uint64_t now = vg_time_ns();
  for (uint32_t i = 0; i < im->n_neighbors; i++) {
    vg_neighbor_t *n = &im->neighbors[i];
    if (n->in_use && !n->is_static && now - n->updated_ns > NEIGHBOR_AGE_NS)
      vg_neighbor_delete(dp, n->sw_if_index, n->addr);
  }
}

/* ---- interface addresses ---- */

static inline uint32_t net_mask(uint32_t len) { return len ? ~0u << (32 - len) : 0; }

int vg_if_ip4_first(vg_main_t *dp, uint32_t sw, uint32_t *addr) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_addrs; i++)
    if (im->addrs[i].in_use && im->addrs[i].sw_if_index == sw) {
      *addr = im->addrs[i].addr;
      return 1;
    }
  return 0;
}

/* 1: an address of sw on peer's network; 2: another address of sw; 0: none. */
int vg_if_ip4_for_peer(vg_main_t *dp, uint32_t sw, uint32_t peer, uint32_t *addr) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_addrs; i++) {
    vg_if_addr_t *a = &im->addrs[i];
    if (a->in_use && a->sw_if_index == sw && ((a->addr ^ peer) & net_mask(a->len)) == 0) {
      *addr = a->addr;
      return 1;
    }
  }
  return vg_if_ip4_first(dp, sw, addr) ? 2 : 0;
}

int vg_if_ip4_is_local(vg_main_t *dp, uint32_t sw, uint32_t addr) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_addrs; i++)
    if (im->addrs[i].in_use && im->addrs[i].sw_if_index == sw && im->addrs[i].addr == addr) return 1;
  return 0;
}

int vg_proxy_arp_match(vg_main_t *dp, uint32_t vrf, uint32_t addr) {
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_proxy; i++)
    if (im->proxy[i].vrf == vrf && addr >= im->proxy[i].lo && addr <= im->proxy[i].hi) return 1;
  return 0;
}

/* ---- set-up ---- */

int vg_ip4_init(vg_main_t *dp) {
  vg_ip4_main_t *im = calloc(1, sizeof *im);
  if (!im) return vg_error(VG_E_NOMEM, "ip4");
  dp->ip4 = im;
  int drop = adj_new(dp, VG_ADJ_DROP, VG_NONE, 0), unreach = adj_new(dp, VG_ADJ_UNREACH, VG_NONE, 0);
  int prohibit = adj_new(dp, VG_ADJ_PROHIBIT, VG_NONE, 0), local = adj_new(dp, VG_ADJ_LOCAL, VG_NONE, 0);
  if (drop < 0 || unreach < 0 || prohibit < 0 || local < 0) return VG_E_NOMEM;
  im->adj_drop = (uint32_t)drop;
  im->adj_unreach = (uint32_t)unreach;
  im->adj_prohibit = (uint32_t)prohibit;
  im->adj_local = (uint32_t)local;
  return vg_fib_get(dp, 0, 1) ? 0 : VG_E_NOMEM;
}

void vg_ip4_free(vg_main_t *dp) {
  vg_ip4_main_t *im = dp->ip4;
  if (!im) return;
  for (uint32_t i = 0; i < im->n_fibs; i++) vg_fib_free(dp, im->fibs[i]);
  free(im->fibs);
  if (im->plies) vg_mem_free_huge(im->plies, (uint64_t)im->plies_cap * sizeof(vg_mtrie_ply_t));
  free(im->free_plies);
  free(im->lbs);
  free(im->free_lbs);
  free(im->lb_refs);
  for (uint32_t i = 0; im->lb_paths && i < im->n_lbs; i++) free(im->lb_paths[i]);
  free(im->lb_paths);
  free(im->lb_slots);
  free(im->adjs);
  free(im->neighbors);
  free(im->addrs);
  free(im->proxy);
  free(im);
  dp->ip4 = NULL;
}

uint32_t vg_l2_header(vg_main_t *dp, uint32_t sw, const uint8_t *dst, uint16_t type, uint8_t *out) {
  vg_interface_t *itf = vg_interface_get(dp, sw);
  memcpy(out, dst, 6);
  memcpy(out + 6, itf->mac, 6);
  uint32_t n = 12;
  if (itf->sup_sw_if_index != sw) {
    out[12] = 0x81, out[13] = 0x00, out[14] = (uint8_t)(itf->vlan >> 8), out[15] = (uint8_t)itf->vlan;
    n = 16;
  }
  out[n] = (uint8_t)(type >> 8);
  out[n + 1] = (uint8_t)type;
  return n + 2;
}

const char *vg_ip4_interface_busy(vg_main_t *dp, uint32_t sw) {
  vg_ip4_main_t *im = dp->ip4;
  uint32_t addr;
  if (vg_if_ip4_first(dp, sw, &addr)) return "has IPv4 addresses: remove them first";
  for (uint32_t i = 0; i < im->n_adjs; i++)
    if (im->adjs[i].sw_if_index == sw && im->adjs[i].refs) return "is the next hop of routes: remove them first";
  return NULL;
}
