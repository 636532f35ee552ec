/* Interface settings shared by every kind: MAC, MTU, 802.1Q sub-interfaces,
 * loopbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/vg.h"
#include "../ip4/ip4.h"

/* Runs fn on the interface under the API lock and barrier. */
typedef int interface_op_t(vg_main_t *dp, vg_interface_t *itf, const void *arg);

static int with_interface(vg_dp_t *dp, uint32_t sw, interface_op_t *fn, const void *arg) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw);
  int rc;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw);
  else {
    vg_barrier_sync(dp);
    rc = fn(dp, itf, arg);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static int set_mac(vg_main_t *dp, vg_interface_t *itf, const void *arg) {
  const uint8_t *mac = arg;
  if (mac[0] & 1)
    return vg_error(VG_E_INVAL, "interface %s: %02x:%02x:%02x:%02x:%02x:%02x is a multicast MAC",
                    itf->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  memcpy(itf->mac, mac, 6);
  itf->mac_set = 1;
  /* Rewrites carry the source MAC: rebuild them for this port. */
  vg_adj_update_rewrites(dp, itf->sw_if_index);
  return 0;
}

int vg_interface_set_mac(vg_dp_t *dp, uint32_t sw_if_index, const uint8_t *mac) {
  return with_interface(dp, sw_if_index, set_mac, mac);
}

static int get_mac(vg_main_t *dp, vg_interface_t *itf, const void *arg) {
  (void)dp;
  memcpy((uint8_t *)(uintptr_t)arg, itf->mac, 6);
  return 0;
}

int vg_interface_get_mac(vg_dp_t *dp, uint32_t sw_if_index, uint8_t *mac_out) {
  return with_interface(dp, sw_if_index, get_mac, mac_out);
}

static int set_mtu(vg_main_t *dp, vg_interface_t *itf, const void *arg) {
  (void)dp;
  uint32_t mtu = *(const uint32_t *)arg;
  if (mtu < 68 || mtu > 9000)
    return vg_error(VG_E_INVAL, "interface %s: MTU %u is outside 68..9000", itf->name, mtu);
  itf->mtu = mtu;
  return 0;
}

int vg_interface_set_mtu(vg_dp_t *dp, uint32_t sw_if_index, uint32_t mtu) {
  return with_interface(dp, sw_if_index, set_mtu, &mtu);
}

int vg_sub_interface_create(vg_dp_t *dp, uint32_t parent, uint32_t vlan) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *p = vg_interface_get(dp, parent), *sub;
  int rc = 0;
  char name[80];
  if (!p) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", parent);
  else if (p->sup_sw_if_index != parent)
    rc = vg_error(VG_E_INVAL, "%s is itself a sub-interface", p->name);
  else if (vlan < 1 || vlan > 4094)
    rc = vg_error(VG_E_INVAL, "%s: VLAN %u is outside 1..4094", p->name, vlan);
  else if (p->sub_by_vlan && p->sub_by_vlan[vlan] != VG_NONE)
    rc = vg_error(VG_E_EXISTS, "%s already has a sub-interface for VLAN %u", p->name, vlan);
  else if (snprintf(name, sizeof name, "%s.%u", p->name, vlan) >= 64)
    rc = vg_error(VG_E_INVAL, "%s.%u: name too long", p->name, vlan);
  if (rc) goto out;
  vg_barrier_sync(dp);
  if (!p->sub_by_vlan) {
    p->sub_by_vlan = malloc(4096 * sizeof(uint32_t));
    if (p->sub_by_vlan) memset(p->sub_by_vlan, 0xff, 4096 * sizeof(uint32_t));
  }
  if (!p->sub_by_vlan) rc = vg_error(VG_E_NOMEM, "sub-interface table");
  else if ((rc = vg_interface_add(dp, name, "sub", &sub)) >= 0) {
    sub->sup_sw_if_index = parent;
    sub->vlan = (uint16_t)vlan;
    memcpy(sub->mac, p->mac, 6);
    p->sub_by_vlan[vlan] = sub->sw_if_index;
  }
  vg_barrier_release(dp);
out:
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

/* Unhooks a sub-interface from its parent before it is destroyed. */
void vg_sub_interface_unlink(vg_main_t *dp, vg_interface_t *itf) {
  vg_interface_t *p = vg_interface_get(dp, itf->sup_sw_if_index);
  if (p && p != itf && p->sub_by_vlan) p->sub_by_vlan[itf->vlan] = VG_NONE;
}
