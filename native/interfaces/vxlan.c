/* VXLAN tunnel interfaces: the API (add, delete, dump), the device that
 * hands what the tunnel sends to vxlan-encap, and the table vxlan-input
 * looks tunnels up in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../engine/text.h"
#include "../ip4/ip4.h"
#include "vxlan.h"

const char vg_vxlan_type[] = "vxlan";

#define IP4_FMT "%u.%u.%u.%u"
#define IP4_ARGS(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

static uint32_t slots_for(uint32_t n_tunnels) {
  uint32_t size = 16;
  while (size < 2 * n_tunnels) size <<= 1;
  return size;
}

/* Refills the lookup hash (slots, of size a power of two at least twice the
 * tunnels, so probes stay short) and the port set from the tunnel list;
 * under the barrier. Takes slots over; never fails. */
static void rebuild(vg_vxlan_main_t *vm, vg_vxlan_tunnel_t **slots, uint32_t size) {
  memset(slots, 0, size * sizeof *slots);
  memset(vm->ports, 0, sizeof vm->ports);
  for (uint32_t i = 0; i < vm->n_tunnels; i++) {
    vg_vxlan_tunnel_t *t = vm->tunnels[i];
    uint32_t s = vg_vxlan_key_hash(t->src, t->dst, t->vni) & (size - 1);
    while (slots[s]) s = (s + 1) & (size - 1);
    slots[s] = t;
    vm->ports[t->dport >> 3] |= (uint8_t)(1u << (t->dport & 7));
  }
  if (slots != vm->slots) free(vm->slots);
  vm->slots = slots;
  vm->slot_mask = size - 1;
}

static uint32_t vxlan_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                         uint32_t n) {
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) bytes += vg_buffer_length_in_chain(vg_buffer(dp, bi[i]));
  vg_if_count_tx(dp, th, itf->sw_if_index, n, bytes);
  vg_enqueue(th, dp->vxlan->encap_node, bi, n);
  return n;
}

static void vxlan_destroy(vg_main_t *dp, vg_interface_t *itf) {
  vg_vxlan_main_t *vm = dp->vxlan;
  vg_vxlan_tunnel_t *t = itf->dev;
  for (uint32_t i = 0; vm && i < vm->n_tunnels; i++)
    if (vm->tunnels[i] == t) {
      vm->tunnels[i] = vm->tunnels[--vm->n_tunnels];
      rebuild(vm, vm->slots, vm->slot_mask + 1); /* fewer tunnels fit the same hash */
      break;
    }
  free(t);
  itf->dev = NULL;
}

static void vxlan_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *tx) {
  const vg_vxlan_tunnel_t *t = itf->dev;
  vg_text_printf(tx, "  vxlan tunnel src " IP4_FMT " dst " IP4_FMT " vni %u dport %u encap-vrf %u\n",
                 IP4_ARGS(t->src), IP4_ARGS(t->dst), t->vni, t->dport, t->encap_vrf);
}

static int parse_options(const char *options, uint16_t *dport) {
  *dport = 4789;
  const char *cur = options ? options : "";
  vg_kv_t kv;
  int rc;
  while ((rc = vg_kv_next(&cur, &kv, "vxlan tunnel options")) > 0) {
    uint64_t v;
    if (!vg_kv_is(&kv, "dport"))
      return vg_error(VG_E_INVAL, "vxlan tunnel options: unknown key %.*s", (int)kv.key_len, kv.key);
    if (vg_parse_u64(kv.val, kv.val_len, 0, &v) < 0 || v == 0 || v > 65535)
      return vg_error(VG_E_INVAL, "vxlan tunnel options: dport must be 1..65535, not %.*s",
                      (int)kv.val_len, kv.val);
    *dport = (uint16_t)v;
  }
  return rc;
}

/* Checks what can be checked without the tables. */
static int check_args(uint32_t src, uint32_t dst, uint32_t vni) {
  if (vni > 0xffffff) return vg_error(VG_E_INVAL, "vxlan tunnel: VNI %u is above 16777215 (24 bits)", vni);
  if (!src || !dst) return vg_error(VG_E_INVAL, "vxlan tunnel: src and dst must be set");
  if (src == dst) return vg_error(VG_E_INVAL, "vxlan tunnel: src and dst are both " IP4_FMT, IP4_ARGS(src));
  if ((dst >> 28) == 14)
    return vg_error(VG_E_UNSUPPORTED, "vxlan tunnel: multicast dst " IP4_FMT " is not supported",
                    IP4_ARGS(dst));
  if ((dst >> 28) >= 15 || (dst >> 24) == 127 || (dst >> 24) == 0)
    return vg_error(VG_E_INVAL, "vxlan tunnel: dst " IP4_FMT " is not a unicast address", IP4_ARGS(dst));
  return 0;
}

/* Under the api lock. */
static int check_tables(vg_main_t *dp, uint32_t src, uint32_t dst, uint32_t vni, uint32_t vrf,
                        uint32_t *fib_index) {
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  vg_route_t *r = fib ? vg_fib_route_find(fib, src, 32) : NULL;
  if (!r || r->source != VG_ROUTE_SOURCE_LOCAL)
    return vg_error(VG_E_STATE, "vxlan tunnel: src " IP4_FMT " is not an address of this box in VRF %u",
                    IP4_ARGS(src), vrf);
  for (uint32_t i = 0; i < dp->ip4->n_fibs; i++)
    if (dp->ip4->fibs[i] == fib) *fib_index = i;
  for (uint32_t i = 0; dp->vxlan && i < dp->vxlan->n_tunnels; i++) {
    const vg_vxlan_tunnel_t *t = dp->vxlan->tunnels[i];
    if (t->src == src && t->dst == dst && t->vni == vni && t->encap_vrf == vrf)
      return vg_error(VG_E_EXISTS, "vxlan tunnel " IP4_FMT " -> " IP4_FMT " vni %u in VRF %u exists: %s",
                      IP4_ARGS(src), IP4_ARGS(dst), vni, vrf, dp->interfaces[t->sw_if_index]->name);
  }
  return 0;
}

/* The tunnel's constant outer headers (see vg_vxlan_tunnel_t.rewrite). */
static void build_rewrite(vg_vxlan_tunnel_t *t) {
  uint8_t *ip = t->rewrite, *udp = ip + 20, *vx = udp + 8;
  memset(t->rewrite, 0, sizeof t->rewrite);
  ip[0] = 0x45;
  ip[8] = 64; /* DF clear: the underlay may fragment */
  ip[9] = 17;
  vg_wr_be32(ip + 12, t->src);
  vg_wr_be32(ip + 16, t->dst);
  udp[2] = (uint8_t)(t->dport >> 8); /* no UDP checksum (RFC 7348 section 5) */
  udp[3] = (uint8_t)t->dport;
  vx[0] = 0x08; /* I flag */
  vg_wr_be32(vx + 4, t->vni << 8);
  t->rewrite_sum = (uint32_t)vg_csum_add(0, ip, 20);
}

static void default_name(vg_main_t *dp, char *name, size_t size) {
  for (uint32_t k = 0;; k++) {
    snprintf(name, size, "vxlan_tunnel%u", k);
    int taken = 0;
    for (uint32_t i = 0; i < dp->n_interfaces && !taken; i++)
      taken = dp->interfaces[i] && strcmp(dp->interfaces[i]->name, name) == 0;
    if (!taken) return;
  }
}

int vg_vxlan_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vni,
                        uint32_t encap_vrf, const char *options) {
  uint16_t dport;
  int rc = check_args(src, dst, vni);
  if (rc < 0 || (rc = parse_options(options, &dport)) < 0) return rc;
  vg_vxlan_tunnel_t *t = calloc(1, sizeof *t);
  if (!t) return vg_error(VG_E_NOMEM, "vxlan tunnel");
  *t = (vg_vxlan_tunnel_t){.src = src, .dst = dst, .vni = vni, .encap_vrf = encap_vrf, .dport = dport};
  build_rewrite(t);
  pthread_mutex_lock(&dp->api_lock);
  char auto_name[64];
  if (!name || !*name) default_name(dp, auto_name, sizeof auto_name), name = auto_name;
  /* The first tunnel makes the table; it is published under the barrier,
   * since ip4-local reads dp->vxlan. */
  vg_vxlan_main_t *vm = dp->vxlan ? dp->vxlan : calloc(1, sizeof *vm);
  if (vm && !dp->vxlan) vm->encap_node = (uint32_t)vg_node_index(dp, "vxlan-encap");
  vg_vxlan_tunnel_t **list = vm ? realloc(vm->tunnels, (vm->n_tunnels + 1) * sizeof *list) : NULL;
  if (list) vm->tunnels = list;
  uint32_t size = vm ? slots_for(vm->n_tunnels + 1) : 0;
  vg_vxlan_tunnel_t **slots = list ? calloc(size, sizeof *slots) : NULL;
  if (!slots) rc = vg_error(VG_E_NOMEM, "vxlan tunnel table");
  else rc = check_tables(dp, src, dst, vni, encap_vrf, &t->fib_index);
  if (rc >= 0) {
    vg_barrier_sync(dp);
    vg_interface_t *itf;
    rc = vg_interface_add(dp, name, vg_vxlan_type, &itf);
    if (rc >= 0) {
      t->sw_if_index = (uint32_t)rc;
      itf->dev = t;
      itf->tx = vxlan_tx;
      itf->destroy = vxlan_destroy;
      itf->format_hw = vxlan_format_hw;
      vm->tunnels[vm->n_tunnels++] = t;
      rebuild(vm, slots, size);
      slots = NULL;
      dp->vxlan = vm;
    }
    vg_barrier_release(dp);
  }
  if (vm && vm != dp->vxlan) {
    free(vm->tunnels);
    free(vm);
  }
  pthread_mutex_unlock(&dp->api_lock);
  free(slots);
  if (rc < 0) free(t);
  return rc;
}

int vg_vxlan_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  int rc = 0;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else if (itf->type != vg_vxlan_type)
    rc = vg_error(VG_E_INVAL, "interface %s is a %s interface, not a vxlan tunnel", itf->name, itf->type);
  pthread_mutex_unlock(&dp->api_lock);
  return rc < 0 ? rc : vg_interface_delete(dp, sw_if_index);
}

int vg_vxlan_tunnel_dump(vg_dp_t *dp, vg_vxlan_tunnel_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (!itf || itf->type != vg_vxlan_type) continue;
    const vg_vxlan_tunnel_t *t = itf->dev;
    if (n < max)
      out[n] = (vg_vxlan_tunnel_info_t){.sw_if_index = i, .src = t->src, .dst = t->dst, .vni = t->vni,
                                        .encap_vrf = t->encap_vrf, .dport = t->dport};
    n++;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

void vg_vxlan_free(vg_main_t *dp) {
  if (!dp->vxlan) return;
  free(dp->vxlan->tunnels);
  free(dp->vxlan->slots);
  free(dp->vxlan);
  dp->vxlan = NULL;
}
