/* ipsec tunnel interfaces (route-based protection): the API (add, delete,
 * protect, unprotect, dump) and the device whose tx hands what is routed
 * out of the tunnel to esp-encrypt with the tunnel's outbound SA. The
 * tunnel is point to point: its adjacencies need no ARP, and the Ethernet
 * header ip4-rewrite gave the packet is taken off again here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/text.h"
#include "../ip4/ip4.h"
#include "ipsec.h"

const char vg_ipsec_type[] = "ipsec";

#define IP4_FMT "%u.%u.%u.%u"
#define IP4_ARGS(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

static uint32_t ipsec_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi, uint32_t n) {
  const vg_ipsec_tunnel_t *t = itf->dev;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    vg_buffer_advance(b, 14); /* the point-to-point adjacency's rewrite */
    bytes += vg_buffer_length_in_chain(b);
    *vg_esp_sa_slot(b) = t->sa_out;
  }
  vg_if_count_tx(dp, th, itf->sw_if_index, n, bytes);
  vg_enqueue(th, dp->ipsec->encrypt_node, bi, n);
  return n;
}

/* Under the barrier: the SAs no longer point at the tunnel. */
static void unbind(vg_main_t *dp, vg_ipsec_tunnel_t *t) {
  vg_ipsec_main_t *im = dp->ipsec;
  if (t->sa_out != VG_NONE) im->sas[t->sa_out]->sw_if_index = VG_NONE;
  for (uint32_t i = 0; i < t->n_sa_in; i++) im->sas[t->sa_in[i]]->sw_if_index = VG_NONE;
  t->sa_out = VG_NONE;
  t->n_sa_in = 0;
}

static void ipsec_destroy(vg_main_t *dp, vg_interface_t *itf) {
  if (dp->ipsec) unbind(dp, itf->dev);
  free(itf->dev);
  itf->dev = NULL;
}

static void ipsec_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *tx) {
  const vg_ipsec_tunnel_t *t = itf->dev;
  vg_text_printf(tx, "  ipsec tunnel src " IP4_FMT " dst " IP4_FMT " vrf %u\n", IP4_ARGS(t->src),
                 IP4_ARGS(t->dst), t->vrf);
  if (t->sa_out == VG_NONE) {
    vg_text_printf(tx, "  not protected\n");
    return;
  }
  const vg_ipsec_main_t *im = dp->ipsec;
  vg_text_printf(tx, "  protected: sa out %u spi 0x%08x, in", im->sas[t->sa_out]->sa_id,
                 im->sas[t->sa_out]->config.spi);
  for (uint32_t i = 0; i < t->n_sa_in; i++)
    vg_text_printf(tx, " %u (spi 0x%08x)", im->sas[t->sa_in[i]]->sa_id, im->sas[t->sa_in[i]]->config.spi);
  vg_text_printf(tx, "\n");
}

static void default_name(vg_main_t *dp, char *name, size_t size) {
  for (uint32_t k = 0;; k++) {
    snprintf(name, size, "ipsec%u", k);
    int taken = 0;
    for (uint32_t i = 0; i < dp->n_interfaces && !taken; i++)
      taken = dp->interfaces[i] && strcmp(dp->interfaces[i]->name, name) == 0;
    if (!taken) return;
  }
}

static int check_args(uint32_t src, uint32_t dst) {
  if (!src || !dst) return vg_error(VG_E_INVAL, "ipsec tunnel: src and dst must be set");
  if (src == dst) return vg_error(VG_E_INVAL, "ipsec tunnel: src and dst are both " IP4_FMT, IP4_ARGS(src));
  if ((dst >> 28) >= 14 || (dst >> 24) == 127 || (dst >> 24) == 0)
    return vg_error(VG_E_INVAL, "ipsec tunnel: dst " IP4_FMT " is not a unicast address", IP4_ARGS(dst));
  return 0;
}

/* Under the api lock. */
static int check_tables(vg_main_t *dp, uint32_t src, uint32_t dst, uint32_t vrf, uint32_t *fib_index) {
  vg_fib_t *fib = vg_fib_get(dp, vrf, 0);
  vg_route_t *r = fib ? vg_fib_route_find(fib, src, 32) : NULL;
  if (!r || r->source != VG_ROUTE_SOURCE_LOCAL)
    return vg_error(VG_E_STATE, "ipsec tunnel: src " IP4_FMT " is not an address of this box in VRF %u",
                    IP4_ARGS(src), vrf);
  for (uint32_t i = 0; i < dp->ip4->n_fibs; i++)
    if (dp->ip4->fibs[i] == fib) *fib_index = i;
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (!itf || itf->type != vg_ipsec_type) continue;
    const vg_ipsec_tunnel_t *t = itf->dev;
    if (t->src == src && t->dst == dst && t->vrf == vrf)
      return vg_error(VG_E_EXISTS, "ipsec tunnel " IP4_FMT " -> " IP4_FMT " in VRF %u exists: %s",
                      IP4_ARGS(src), IP4_ARGS(dst), vrf, itf->name);
  }
  return 0;
}

int vg_ipsec_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vrf) {
  int rc = check_args(src, dst);
  if (rc < 0) return rc;
  vg_ipsec_tunnel_t *t = calloc(1, sizeof *t);
  if (!t) return vg_error(VG_E_NOMEM, "ipsec tunnel");
  *t = (vg_ipsec_tunnel_t){.src = src, .dst = dst, .vrf = vrf, .sa_out = VG_NONE};
  pthread_mutex_lock(&dp->api_lock);
  char auto_name[64];
  if (!name || !*name) default_name(dp, auto_name, sizeof auto_name), name = auto_name;
  if (!vg_ipsec_main(dp)) rc = vg_last_error_code();
  else rc = check_tables(dp, src, dst, vrf, &t->fib_index);
  if (rc >= 0) {
    vg_barrier_sync(dp);
    vg_interface_t *itf;
    rc = vg_interface_add(dp, name, vg_ipsec_type, &itf);
    if (rc >= 0) {
      t->sw_if_index = (uint32_t)rc;
      itf->dev = t;
      itf->tx = ipsec_tx;
      itf->destroy = ipsec_destroy;
      itf->format_hw = ipsec_format_hw;
      itf->p2p = 1;
      t = NULL;
    }
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  free(t);
  return rc;
}

static vg_interface_t *tunnel_get(vg_main_t *dp, uint32_t sw_if_index, int *rc) {
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  if (!itf) *rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else if (itf->type != vg_ipsec_type)
    *rc = vg_error(VG_E_INVAL, "interface %s is a %s interface, not an ipsec tunnel", itf->name, itf->type);
  else return itf;
  return NULL;
}

int vg_ipsec_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0;
  tunnel_get(dp, sw_if_index, &rc);
  pthread_mutex_unlock(&dp->api_lock);
  return rc < 0 ? rc : vg_interface_delete(dp, sw_if_index);
}

/* The SA at sa_id for a tunnel from src to dst (as on the wire for its
 * direction) in vrf; its slot or an error. */
static int check_sa(vg_main_t *dp, const vg_interface_t *itf, uint32_t sa_id, int inbound,
                    const vg_ipsec_tunnel_t *t) {
  int slot = vg_ipsec_sa_slot(dp, sa_id);
  if (slot < 0) return slot;
  const vg_ipsec_sa_t *sa = dp->ipsec->sas[slot];
  uint32_t src = inbound ? t->dst : t->src, dst = inbound ? t->src : t->dst;
  const char *dir = inbound ? "inbound" : "outbound";
  if (sa->inbound != inbound)
    return vg_error(VG_E_INVAL, "ipsec tunnel %s: sa %u is not an %s SA", itf->name, sa_id, dir);
  if (!sa->tunnel) return vg_error(VG_E_INVAL, "ipsec tunnel %s: sa %u is not a tunnel-mode SA", itf->name, sa_id);
  if (sa->config.tunnel_src != src || sa->config.tunnel_dst != dst || sa->config.vrf != t->vrf)
    return vg_error(VG_E_INVAL, "ipsec tunnel %s: %s sa %u is " IP4_FMT " -> " IP4_FMT " in VRF %u, the tunnel "
                    IP4_FMT " -> " IP4_FMT " in VRF %u", itf->name, dir, sa_id, IP4_ARGS(sa->config.tunnel_src),
                    IP4_ARGS(sa->config.tunnel_dst), sa->config.vrf, IP4_ARGS(src), IP4_ARGS(dst), t->vrf);
  if (sa->sw_if_index != VG_NONE && sa->sw_if_index != t->sw_if_index)
    return vg_error(VG_E_STATE, "ipsec tunnel %s: sa %u protects tunnel %s", itf->name, sa_id,
                    dp->interfaces[sa->sw_if_index]->name);
  if (sa->n_spd_users) return vg_error(VG_E_STATE, "ipsec tunnel %s: sa %u is named by SPD entries", itf->name, sa_id);
  return slot;
}

int vg_ipsec_tunnel_protect(vg_dp_t *dp, uint32_t sw_if_index, uint32_t sa_out, const uint32_t *sa_in,
                            uint32_t n_in) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0, out = 0, in[VG_IPSEC_TUNNEL_MAX_SA_IN];
  vg_interface_t *itf = tunnel_get(dp, sw_if_index, &rc);
  vg_ipsec_tunnel_t *t = itf ? itf->dev : NULL;
  if (t && (n_in < 1 || n_in > VG_IPSEC_TUNNEL_MAX_SA_IN || !sa_in))
    rc = vg_error(VG_E_INVAL, "ipsec tunnel %s: 1..%u inbound SAs, not %u", itf->name, VG_IPSEC_TUNNEL_MAX_SA_IN, n_in);
  if (rc >= 0) rc = out = check_sa(dp, itf, sa_out, 0, t);
  for (uint32_t i = 0; rc >= 0 && i < n_in; i++) {
    rc = in[i] = check_sa(dp, itf, sa_in[i], 1, t);
    for (uint32_t j = 0; rc >= 0 && j < i; j++)
      if (sa_in[j] == sa_in[i]) rc = vg_error(VG_E_INVAL, "ipsec tunnel %s: sa %u named twice", itf->name, sa_in[i]);
  }
  if (rc >= 0) {
    vg_barrier_sync(dp);
    unbind(dp, t);
    t->sa_out = (uint32_t)out;
    dp->ipsec->sas[out]->sw_if_index = sw_if_index;
    for (uint32_t i = 0; i < n_in; i++) {
      t->sa_in[i] = (uint32_t)in[i];
      dp->ipsec->sas[in[i]]->sw_if_index = sw_if_index;
    }
    t->n_sa_in = n_in;
    vg_barrier_release(dp);
    rc = 0;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ipsec_tunnel_unprotect(vg_dp_t *dp, uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0;
  vg_interface_t *itf = tunnel_get(dp, sw_if_index, &rc);
  vg_ipsec_tunnel_t *t = itf ? itf->dev : NULL;
  if (t && t->sa_out == VG_NONE) rc = vg_error(VG_E_STATE, "ipsec tunnel %s is not protected", itf->name);
  else if (t) {
    vg_barrier_sync(dp);
    unbind(dp, t);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ipsec_tunnel_dump(vg_dp_t *dp, vg_ipsec_tunnel_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (!itf || itf->type != vg_ipsec_type) continue;
    const vg_ipsec_tunnel_t *t = itf->dev;
    if (n < max) {
      vg_ipsec_tunnel_info_t *o = &out[n];
      memset(o, 0, sizeof *o);
      *o = (vg_ipsec_tunnel_info_t){.sw_if_index = i, .src = t->src, .dst = t->dst, .vrf = t->vrf,
                                    .sa_out = VG_NONE, .n_sa_in = t->n_sa_in};
      if (t->sa_out != VG_NONE) o->sa_out = dp->ipsec->sas[t->sa_out]->sa_id;
      for (uint32_t k = 0; k < t->n_sa_in; k++) o->sa_in[k] = dp->ipsec->sas[t->sa_in[k]]->sa_id;
    }
    n++;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}
