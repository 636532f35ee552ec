/* The interface table: sw_if_index -> interface, names in the stats segment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/text.h"
#include "../engine/vg.h"
#include "../ip4/ip4.h"
#include "../l2/bridge.h"

vg_interface_t *vg_interface_get(vg_main_t *dp, uint32_t sw_if_index) {
  return sw_if_index < dp->n_interfaces ? dp->interfaces[sw_if_index] : NULL;
}

static int find_locked(vg_main_t *dp, const char *name) {
  for (uint32_t i = 0; i < dp->n_interfaces; i++)
    if (dp->interfaces[i] && strcmp(dp->interfaces[i]->name, name) == 0) return (int)i;
  return VG_E_NOTFOUND;
}

/* Caller holds the api lock and the barrier. */
int vg_interface_add(vg_main_t *dp, const char *name, const char *type, vg_interface_t **out) {
  if (!name || !*name || strlen(name) >= sizeof((vg_interface_t *)0)->name)
    return vg_error(VG_E_INVAL, "interface name must be 1..63 characters");
  if (find_locked(dp, name) >= 0) return vg_error(VG_E_EXISTS, "interface %s exists", name);
  if (!dp->interfaces) {
    dp->interfaces = calloc(VG_MAX_INTERFACES, sizeof(vg_interface_t *));
    if (!dp->interfaces) return vg_error(VG_E_NOMEM, "interface table");
  }
  uint32_t i = 0;
  while (i < dp->n_interfaces && dp->interfaces[i]) i++;
  if (i == VG_MAX_INTERFACES) return vg_error(VG_E_LIMIT, "at most %d interfaces", VG_MAX_INTERFACES);
  vg_interface_t *itf = calloc(1, sizeof *itf);
  if (!itf) return vg_error(VG_E_NOMEM, "interface %s", name);
  itf->sw_if_index = i;
  strcpy(itf->name, name);
  itf->type = type;
  itf->admin_up = 1;
  itf->mtu = 1500;
  itf->sup_sw_if_index = i;
  itf->bd_index = VG_NONE;
  /* A locally administered unicast MAC that names the interface index. */
  static const uint8_t oui[3] = {0x02, 0xfe, 0x00};
  memcpy(itf->mac, oui, 3);
  itf->mac[3] = (uint8_t)(i >> 16);
  itf->mac[4] = (uint8_t)(i >> 8);
  itf->mac[5] = (uint8_t)i;
  dp->interfaces[i] = itf;
  if (i == dp->n_interfaces) dp->n_interfaces++;
  int names = vg_stats_find(dp, "/if/names");
  strncpy(vg_stats_name_slot(dp, names, i), name, VG_STATS_NAME_MAX - 1);
  static const char *const counters[] = {"/if/names", "/if/rx-packets", "/if/rx-bytes",
                                         "/if/tx-packets", "/if/tx-bytes", "/if/drops", "/if/rx-errors"};
  for (size_t c = 0; c < VG_ARRAY_LEN(counters); c++)
    vg_stats_set_n_elems(dp, vg_stats_find(dp, counters[c]), dp->n_interfaces);
  /* A reused index starts from zero counters. */
  for (uint32_t t = 0; t < dp->n_threads; t++) {
    uint64_t row = (uint64_t)t * dp->if_stats_stride + i;
    dp->if_rx_packets[row] = dp->if_rx_bytes[row] = dp->if_tx_packets[row] = 0;
    dp->if_tx_bytes[row] = dp->if_drops[row] = dp->if_rx_errors[row] = 0;
  }
  *out = itf;
  return (int)i;
}

int vg_interface_add_device(vg_main_t *dp, const char *name, const vg_device_t *d) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp);
  vg_interface_t *itf;
  int rc = vg_interface_add(dp, name, d->type, &itf);
  if (rc >= 0) {
    itf->dev = d->dev;
    itf->tx = d->tx;
    itf->destroy = d->destroy;
    itf->flush = d->flush;
    itf->format_hw = d->format_hw;
    if (d->host_if) snprintf(itf->host_if, sizeof itf->host_if, "%s", d->host_if);
    if (d->input_node) dp->nodes[vg_node_index(dp, d->input_node)].input_active = 1;
  }
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static void interface_destroy(vg_main_t *dp, vg_interface_t *itf) {
  if (itf->destroy) itf->destroy(dp, itf);
  vg_sub_interface_unlink(dp, itf);
  free(itf->sub_by_vlan);
  dp->interfaces[itf->sw_if_index] = NULL;
  memset(vg_stats_name_slot(dp, vg_stats_find(dp, "/if/names"), itf->sw_if_index), 0,
         VG_STATS_NAME_MAX);
  free(itf);
}

void vg_interfaces_free(vg_main_t *dp) {
  for (uint32_t i = 0; i < dp->n_interfaces; i++)
    if (dp->interfaces[i]) interface_destroy(dp, dp->interfaces[i]);
  free(dp->interfaces);
  dp->interfaces = NULL;
  dp->n_interfaces = 0;
}

int vg_interface_find(vg_dp_t *dp, const char *name) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = find_locked(dp, name);
  if (rc < 0) vg_error(rc, "no interface named %s", name);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static int has_subs(const vg_interface_t *itf) {
  for (uint32_t v = 0; v < 4096; v++)
    if (itf->sub_by_vlan[v] != VG_NONE) return 1;
  return 0;
}

int vg_interface_delete(vg_dp_t *dp, uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  const char *busy;
  int rc = 0;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else if (itf->sub_by_vlan && has_subs(itf))
    rc = vg_error(VG_E_STATE, "interface %s has sub-interfaces: delete them first", itf->name);
  else if (vg_pg_uses_interface(dp, sw_if_index))
    rc = vg_error(VG_E_STATE, "interface %s carries packet-generator streams: delete them first",
                  itf->name);
  else if (itf->bd_index != VG_NONE)
    rc = vg_error(VG_E_STATE, "interface %s is a bridge-domain port: take it out first", itf->name);
  else if ((busy = vg_ip4_interface_busy(dp, sw_if_index)))
    rc = vg_error(VG_E_STATE, "interface %s %s", itf->name, busy);
  else {
    vg_barrier_sync(dp);
    interface_destroy(dp, itf);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_interface_set_admin(vg_dp_t *dp, uint32_t sw_if_index, int up) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  int rc = 0;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else {
    vg_barrier_sync(dp);
    itf->admin_up = !!up;
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_interface_flush(vg_dp_t *dp, uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  int rc = 0;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else if (itf->flush) {
    vg_barrier_sync(dp);
    rc = itf->flush(dp, itf);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_interface_dump(vg_dp_t *dp, vg_interface_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (!itf) continue;
    if (n < max) {
      vg_interface_info_t *o = &out[n];
      memset(o, 0, sizeof *o);
      o->sw_if_index = i;
      snprintf(o->name, sizeof o->name, "%s", itf->name);
      snprintf(o->type, sizeof o->type, "%s", itf->type);
      memcpy(o->mac, itf->mac, 6);
      o->admin_up = (uint8_t)itf->admin_up;
      o->is_bvi = itf->is_bvi;
      o->mtu = itf->mtu;
      o->sup_sw_if_index = itf->sup_sw_if_index;
      o->vlan = itf->vlan;
      o->bd_id = itf->bd_index == VG_NONE ? VG_NONE : dp->l2->bds[itf->bd_index].bd_id;
      o->shg = itf->shg;
      o->vrf = vg_fib_of(dp, itf->fib_index)->vrf;
      memcpy(o->host_if, itf->host_if, sizeof o->host_if);
      o->mac_set = itf->mac_set;
    }
    n++;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

int64_t vg_interface_format_hw(vg_dp_t *dp, uint32_t sw_if_index, char *buf, uint64_t size) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  int64_t rc;
  if (!itf) {
    rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  } else {
    vg_barrier_sync(dp);
    vg_text_t t = {buf, size, 0};
    vg_interface_t *parent = vg_interface_get(dp, itf->sup_sw_if_index);
    if (parent && parent != itf)
      vg_text_printf(&t, "  802.1Q sub-interface of %s (sw_if_index %u), vlan %u\n", parent->name,
                     parent->sw_if_index, itf->vlan);
    else if (itf->format_hw)
      itf->format_hw(dp, itf, &t);
    else if (strcmp(itf->type, "pg") == 0)
      vg_pg_format_hw(dp, itf, &t);
    vg_barrier_release(dp);
    rc = vg_text_finish(&t);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}
