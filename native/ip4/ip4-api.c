/* The IPv4 part of the C API: addresses, VRFs, routes, neighbors, proxy
 * ARP and the tables as text. Each call holds the API lock and the barrier
 * while it changes tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/text.h"
#include "ip4.h"

#define A4(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a)&0xff

static inline uint32_t net_mask(uint32_t len) { return len ? ~0u << (32 - len) : 0; }

static void lock(vg_dp_t *dp) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp);
}

static int unlock(vg_dp_t *dp, int rc) {
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static int one_lb(vg_main_t *dp, uint32_t adj) { return vg_lb_create(dp, &adj, NULL, 1, NULL); }

/* ---- interface addresses and VRF ---- */

int vg_interface_set_vrf(vg_dp_t *dp, uint32_t sw, uint32_t vrf) {
  lock(dp);
  vg_interface_t *itf = vg_interface_get(dp, sw);
  uint32_t any;
  vg_fib_t *fib;
  if (!itf) return unlock(dp, vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw));
  if (vg_if_ip4_first(dp, sw, &any))
    return unlock(dp, vg_error(VG_E_STATE, "interface %s has IPv4 addresses: remove them before "
                                           "moving it to VRF %u", itf->name, vrf));
  if (!(fib = vg_fib_get(dp, vrf, 1))) return unlock(dp, VG_E_NOMEM);
  for (uint32_t i = 0; i < dp->ip4->n_fibs; i++)
    if (dp->ip4->fibs[i] == fib) itf->fib_index = i;
  return unlock(dp, 0);
}

static vg_if_addr_t *addr_slot(vg_ip4_main_t *im) {
  for (uint32_t i = 0; i < im->n_addrs; i++)
    if (!im->addrs[i].in_use) return &im->addrs[i];
  if (im->n_addrs == im->addrs_cap) {
    uint32_t cap = im->addrs_cap ? im->addrs_cap * 2 : 16;
    vg_if_addr_t *a = realloc(im->addrs, cap * sizeof *a);
    if (!a) return NULL;
    im->addrs = a;
    im->addrs_cap = cap;
  }
  return &im->addrs[im->n_addrs++];
}

static int check_address(vg_main_t *dp, vg_interface_t *itf, uint32_t addr, uint32_t len) {
  if (len < 1 || len > 32)
    return vg_error(VG_E_INVAL, "%s: prefix length %u is outside 1..32", itf->name, len);
  if ((addr >> 24) == 0 || (addr >> 24) == 127 || (addr >> 28) >= 14)
    return vg_error(VG_E_INVAL, "%s: %u.%u.%u.%u is not a unicast host address", itf->name, A4(addr));
  if (len <= 30 && ((addr & ~net_mask(len)) == 0 || (addr | net_mask(len)) == ~0u))
    return vg_error(VG_E_INVAL, "%s: %u.%u.%u.%u is the %s address of its /%u", itf->name, A4(addr),
                    (addr & ~net_mask(len)) == 0 ? "network" : "broadcast", len);
  vg_ip4_main_t *im = dp->ip4;
  for (uint32_t i = 0; i < im->n_addrs; i++) {
    vg_if_addr_t *a = &im->addrs[i];
    vg_interface_t *other = a->in_use ? vg_interface_get(dp, a->sw_if_index) : NULL;
    if (!other || other->fib_index != itf->fib_index) continue;
    uint32_t m = net_mask(a->len < len ? a->len : len);
    if (a->addr == addr || (other != itf && ((a->addr ^ addr) & m) == 0))
      return vg_error(VG_E_EXISTS, "%s: %u.%u.%u.%u/%u overlaps %u.%u.%u.%u/%u on %s", itf->name,
                      A4(addr), len, A4(a->addr), a->len, other->name);
  }
  return 0;
}

int vg_interface_add_ip4(vg_dp_t *dp, uint32_t sw, uint32_t addr, uint32_t len) {
  lock(dp);
  vg_interface_t *itf = vg_interface_get(dp, sw);
  if (!itf) return unlock(dp, vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw));
  int rc = check_address(dp, itf, addr, len);
  if (rc) return unlock(dp, rc);
  vg_fib_t *fib = vg_fib_of(dp, itf->fib_index);
  vg_if_addr_t *a = addr_slot(dp->ip4);
  if (!a) return unlock(dp, vg_error(VG_E_NOMEM, "address table"));
  *a = (vg_if_addr_t){.sw_if_index = sw, .addr = addr, .len = (uint8_t)len, .in_use = 1};
  /* The network is attached: ARP for its hosts; the address itself is ours. */
  int lb;
  if (len < 32) {
    int glean = vg_adj_glean(dp, sw);
    if (glean < 0 || (lb = one_lb(dp, (uint32_t)glean)) < 0 ||
        (rc = vg_fib_route_set(dp, fib, addr, len, VG_ROUTE_SOURCE_CONNECTED, (uint32_t)lb)) < 0) {
      a->in_use = 0;
      return unlock(dp, rc ? rc : VG_E_NOMEM);
    }
  }
  if ((lb = one_lb(dp, dp->ip4->adj_local)) < 0 ||
      (rc = vg_fib_route_set(dp, fib, addr, 32, VG_ROUTE_SOURCE_LOCAL, (uint32_t)lb)) < 0) {
    if (len < 32) vg_fib_route_unset(dp, fib, addr, len);
    a->in_use = 0;
    return unlock(dp, rc ? rc : VG_E_NOMEM);
  }
  itf->ip4_enabled = 1;
  return unlock(dp, 0);
}

int vg_interface_del_ip4(vg_dp_t *dp, uint32_t sw, uint32_t addr, uint32_t len) {
  lock(dp);
  vg_ip4_main_t *im = dp->ip4;
  vg_interface_t *itf = vg_interface_get(dp, sw);
  vg_if_addr_t *a = NULL;
  for (uint32_t i = 0; i < im->n_addrs && !a; i++)
    if (im->addrs[i].in_use && im->addrs[i].sw_if_index == sw && im->addrs[i].addr == addr &&
        im->addrs[i].len == len)
      a = &im->addrs[i];
  if (!itf || !a)
    return unlock(dp, vg_error(VG_E_NOTFOUND, "sw_if_index %u has no address %u.%u.%u.%u/%u", sw,
                               A4(addr), len));
  vg_fib_t *fib = vg_fib_of(dp, itf->fib_index);
  /* Learned neighbors on the network go with it. */
  for (uint32_t i = 0; i < im->n_neighbors; i++) {
    vg_neighbor_t *n = &im->neighbors[i];
    if (n->in_use && n->sw_if_index == sw && ((n->addr ^ addr) & net_mask(len)) == 0)
      vg_neighbor_delete(dp, sw, n->addr);
  }
  vg_fib_route_unset(dp, fib, addr, 32);
  if (len < 32) vg_fib_route_unset(dp, fib, addr, len);
  a->in_use = 0;
  uint32_t any;
  itf->ip4_enabled = (uint8_t)vg_if_ip4_first(dp, sw, &any);
  return unlock(dp, 0);
}

/* ---- routes ---- */

/* The adjacency for a next hop: on its interface, or on the interface of
 * the attached network that holds it. */
static int next_hop_adj(vg_main_t *dp, vg_fib_t *fib, const vg_next_hop_t *nh) {
  uint32_t sw = nh->sw_if_index;
  if (sw == VG_NONE) {
    if (!nh->addr) return vg_error(VG_E_INVAL, "a next hop needs an address or an interface");
    vg_route_t *r = vg_fib_route_match(fib, nh->addr);
    vg_lb_t *lb = r ? &dp->ip4->lbs[r->lb] : NULL;
    vg_adj_t *adj = lb ? &dp->ip4->adjs[lb->buckets[0]] : NULL;
    if (!adj || (adj->type != VG_ADJ_GLEAN && adj->type != VG_ADJ_NEIGHBOR))
      return vg_error(VG_E_INVAL, "next hop %u.%u.%u.%u is not on an attached network of VRF %u",
                      A4(nh->addr), fib->vrf);
    sw = adj->sw_if_index;
  } else {
    vg_interface_t *itf = vg_interface_get(dp, sw);
    if (!itf) return vg_error(VG_E_NOTFOUND, "next hop interface sw_if_index %u does not exist", sw);
    if (vg_fib_of(dp, itf->fib_index) != fib)
      return vg_error(VG_E_INVAL, "next hop interface %s is not in VRF %u", itf->name, fib->vrf);
  }
  return nh->addr ? vg_adj_neighbor(dp, sw, nh->addr) : vg_adj_glean(dp, sw);
}

/* vg_ip4_route_add's work, the caller holding the lock and the barrier. */
static int route_add(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len,
                     const vg_next_hop_t *nh, uint32_t n_nh, uint32_t flags) {
  if (len > 32) return vg_error(VG_E_INVAL, "route %u.%u.%u.%u/%u: length above 32", A4(prefix), len);
  if ((flags && n_nh) || (!flags && !n_nh) || flags > VG_ROUTE_PROHIBIT)
    return vg_error(VG_E_INVAL, "route %u.%u.%u.%u/%u: give next hops or one of drop/prohibit",
                    A4(prefix), len);
  if (n_nh > VG_LB_MAX_BUCKETS)
    return vg_error(VG_E_LIMIT, "route %u.%u.%u.%u/%u: at most %d next hops", A4(prefix), len,
                    VG_LB_MAX_BUCKETS);
  vg_fib_t *fib = vg_fib_get(dp, vrf, 1);
  if (!fib) return VG_E_NOMEM;
  vg_route_t *old = vg_fib_route_find(fib, prefix, len);
  if (old && (old->source == VG_ROUTE_SOURCE_CONNECTED || old->source == VG_ROUTE_SOURCE_LOCAL))
    return vg_error(VG_E_EXISTS, "route %u.%u.%u.%u/%u belongs to an interface address",
                    A4(prefix & net_mask(len)), len);
  uint32_t adjs[VG_LB_MAX_BUCKETS], weights[VG_LB_MAX_BUCKETS];
  for (uint32_t i = 0; i < n_nh; i++) {
    int a = next_hop_adj(dp, fib, &nh[i]);
    if (a < 0) return a;
    adjs[i] = (uint32_t)a;
    weights[i] = nh[i].weight;
  }
  if (flags) adjs[0] = flags == VG_ROUTE_DROP ? dp->ip4->adj_drop : dp->ip4->adj_prohibit;
  int lb = vg_lb_create(dp, adjs, weights, n_nh ? n_nh : 1, n_nh ? nh : NULL);
  if (lb < 0) return lb;
  return vg_fib_route_set(dp, fib, prefix, len, VG_ROUTE_SOURCE_CONFIGURED, (uint32_t)lb);
}

int vg_ip4_route_add(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len,
                     const vg_next_hop_t *nh, uint32_t n_nh, uint32_t flags) {
  lock(dp);
  return unlock(dp, route_add(dp, vrf, prefix, len, nh, n_nh, flags));
}

/* One barrier for them all: with the dataplane running, a barrier costs
 * more than adding a route (the threads must reach the end of a frame, or
 * wake from their idle sleep). */
int vg_ip4_route_add_many(vg_dp_t *dp, const vg_ip4_route_req_t *routes, uint32_t n,
                          const vg_next_hop_t *nh, uint32_t n_nh, int32_t *results) {
  int added = 0;
  lock(dp);
  for (uint32_t i = 0; i < n; i++) {
    const vg_ip4_route_req_t *r = &routes[i];
    if (r->first_nh > n_nh || r->n_nh > n_nh - r->first_nh)
      results[i] = vg_error(VG_E_INVAL, "route %u: next hops %u..%u past the %u given", i, r->first_nh,
                            r->first_nh + r->n_nh, n_nh);
    else
      results[i] = route_add(dp, r->vrf, r->prefix, r->len, r->n_nh ? nh + r->first_nh : NULL, r->n_nh,
                             r->flags);
    if (results[i] >= 0) added++;
  }
  return unlock(dp, added);
}

int vg_ip4_route_delete(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len) {
  lock(dp);
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  vg_route_t *r = fib && len <= 32 ? vg_fib_route_find(fib, prefix, len) : NULL;
  if (!r || r->source != VG_ROUTE_SOURCE_CONFIGURED)
    return unlock(dp, vg_error(VG_E_NOTFOUND, "VRF %u has no configured route %u.%u.%u.%u/%u", vrf,
                               A4(prefix & net_mask(len > 32 ? 32 : len)), len));
  return unlock(dp, vg_fib_route_unset(dp, fib, prefix, len));
}

/* ---- neighbors and proxy ARP ---- */

int vg_ip4_neighbor_add(vg_dp_t *dp, uint32_t sw, uint32_t addr, const uint8_t *mac, int is_static) {
  lock(dp);
  if (!vg_interface_get(dp, sw))
    return unlock(dp, vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw));
  if (mac[0] & 1) return unlock(dp, vg_error(VG_E_INVAL, "neighbor %u.%u.%u.%u: multicast MAC", A4(addr)));
  return unlock(dp, vg_neighbor_set(dp, sw, addr, mac, is_static));
}

int vg_ip4_neighbor_delete(vg_dp_t *dp, uint32_t sw, uint32_t addr) {
  lock(dp);
  return unlock(dp, vg_neighbor_delete(dp, sw, addr));
}

int vg_proxy_arp_add(vg_dp_t *dp, uint32_t vrf, uint32_t lo, uint32_t hi) {
  if (lo > hi) return vg_error(VG_E_INVAL, "proxy ARP range %u.%u.%u.%u-%u.%u.%u.%u runs backwards", A4(lo), A4(hi));
  lock(dp);
  vg_ip4_main_t *im = dp->ip4;
  vg_proxy_arp_t *p = realloc(im->proxy, (im->n_proxy + 1) * sizeof *p);
  if (!p) return unlock(dp, vg_error(VG_E_NOMEM, "proxy ARP"));
  im->proxy = p;
  im->proxy[im->n_proxy++] = (vg_proxy_arp_t){lo, hi, vrf};
  return unlock(dp, 0);
}

/* ---- tables as text ---- */

static const char *const adj_names[] = {"drop", "unreachable", "prohibit", "local", "glean", "neighbor"};

static void put_adj(vg_main_t *dp, vg_text_t *t, uint32_t ai) {
  vg_adj_t *a = &dp->ip4->adjs[ai];
  vg_interface_t *itf = vg_interface_get(dp, a->sw_if_index);
  vg_text_printf(t, " %s", adj_names[a->type]);
  if (a->type == VG_ADJ_NEIGHBOR) vg_text_printf(t, " via %u.%u.%u.%u", A4(a->next_hop));
  if (itf) vg_text_printf(t, " %s", itf->name);
  if (a->type == VG_ADJ_NEIGHBOR) vg_text_printf(t, a->resolved ? "" : " (unresolved)");
}

int64_t vg_ip4_fib_format(vg_dp_t *dp, uint32_t vrf, char *buf, uint64_t size) {
  vg_text_t t = {buf, size, 0};
  lock(dp);
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  if (!fib) {
    unlock(dp, 0);
    return vg_error(VG_E_NOTFOUND, "no VRF %u", vrf);
  }
  static const char *const sources[] = {"static", "connected", "local", "neighbor", "default"};
  for (uint32_t i = 0; i < fib->routes_cap; i++) {
    vg_route_t *r = &fib->routes[i];
    if (!r->in_use) continue;
    vg_lb_t *lb = &dp->ip4->lbs[r->lb];
    vg_text_printf(&t, "%u.%u.%u.%u/%u %s", A4(r->prefix), r->len, sources[r->source]);
    for (uint32_t b = 0; b < lb->n_buckets; b++)
      if (b == 0 || lb->buckets[b] != lb->buckets[b - 1]) put_adj(dp, &t, lb->buckets[b]);
    vg_text_printf(&t, "\n");
  }
  unlock(dp, 0);
  return vg_text_finish(&t);
}

int64_t vg_ip4_neighbor_format(vg_dp_t *dp, char *buf, uint64_t size) {
  vg_text_t t = {buf, size, 0};
  lock(dp);
  uint64_t now = vg_time_ns();
  for (uint32_t i = 0; i < dp->ip4->n_neighbors; i++) {
    vg_neighbor_t *n = &dp->ip4->neighbors[i];
    vg_interface_t *itf = n->in_use ? vg_interface_get(dp, n->sw_if_index) : NULL;
    if (!itf) continue;
    vg_text_printf(&t, "%u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x %s %s age %llus\n", A4(n->addr), n->mac[0],
        n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], itf->name,
        n->is_static ? "static" : "dynamic", (unsigned long long)((now - n->updated_ns) / 1000000000ull));
  }
  unlock(dp, 0);
  return vg_text_finish(&t);
}

/* ---- tables read back ---- */

int vg_ip4_address_dump(vg_dp_t *dp, vg_ip4_address_info_t *out, uint32_t max) {
  lock(dp);
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->ip4->n_addrs; i++) {
    vg_if_addr_t *a = &dp->ip4->addrs[i];
    if (!a->in_use) continue;
    if (n < max) out[n] = (vg_ip4_address_info_t){a->sw_if_index, a->addr, a->len};
    n++;
  }
  return unlock(dp, (int)n);
}

int vg_ip4_vrf_dump(vg_dp_t *dp, uint32_t *out, uint32_t max) {
  lock(dp);
  uint32_t n = dp->ip4->n_fibs;
  for (uint32_t i = 0; i < n && i < max; i++) out[i] = dp->ip4->fibs[i]->vrf;
  return unlock(dp, (int)n);
}

/* A route's paths: a configured route's next hops as given; for the others
 * the load-balance buckets folded into distinct adjacencies, the bucket
 * count as the weight. */
static void route_info(vg_main_t *dp, const vg_route_t *r, vg_ip4_route_info_t *o) {
  vg_ip4_main_t *im = dp->ip4;
  const vg_lb_t *lb = &im->lbs[r->lb];
  const vg_lb_paths_t *given = im->lb_paths[r->lb];
  *o = (vg_ip4_route_info_t){.prefix = r->prefix, .len = r->len, .source = r->source};
  if (given) {
    o->n_paths = given->n;
    memcpy(o->paths, given->nh, given->n * sizeof given->nh[0]);
    return;
  }
  for (uint32_t b = 0; b < lb->n_buckets; b++) {
    const vg_adj_t *a = &im->adjs[lb->buckets[b]];
    if (a->type == VG_ADJ_DROP) o->flags = VG_ROUTE_DROP;
    if (a->type == VG_ADJ_PROHIBIT) o->flags = VG_ROUTE_PROHIBIT;
    if (a->type != VG_ADJ_NEIGHBOR && a->type != VG_ADJ_GLEAN) continue;
    uint32_t p = 0;
    while (p < o->n_paths && !(o->paths[p].sw_if_index == a->sw_if_index && o->paths[p].addr == a->next_hop)) p++;
    if (p == o->n_paths) {
      if (p == VG_ROUTE_MAX_PATHS) continue;
      o->paths[o->n_paths++] = (vg_next_hop_t){a->next_hop, a->sw_if_index, 0};
    }
    o->paths[p].weight++;
  }
}

int vg_ip4_route_dump(vg_dp_t *dp, uint32_t vrf, vg_ip4_route_info_t *out, uint32_t max) {
  lock(dp);
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  if (!fib) return unlock(dp, vg_error(VG_E_NOTFOUND, "no VRF %u", vrf));
  uint32_t n = 0;
  for (uint32_t i = 0; i < fib->routes_cap; i++) {
    vg_route_t *r = &fib->routes[i];
    if (!r->in_use) continue;
    if (n < max) route_info(dp, r, &out[n]);
    n++;
  }
  return unlock(dp, (int)n);
}

int vg_ip4_neighbor_dump(vg_dp_t *dp, vg_ip4_neighbor_info_t *out, uint32_t max) {
  lock(dp);
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->ip4->n_neighbors; i++) {
    vg_neighbor_t *nb = &dp->ip4->neighbors[i];
    if (!nb->in_use) continue;
    if (n < max) {
      out[n] = (vg_ip4_neighbor_info_t){.sw_if_index = nb->sw_if_index, .addr = nb->addr, .is_static = nb->is_static};
      memcpy(out[n].mac, nb->mac, 6);
    }
    n++;
  }
  return unlock(dp, (int)n);
}
