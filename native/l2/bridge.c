/* Bridge domains, their ports, and the L2 FIB (see bridge.h for its layout).
 * Configuration runs under the API lock and the barrier; learning and aging
 * run on dataplane threads under write_lock. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/text.h"
#include "bridge.h"

/* ---- the FIB ---- */

static uint32_t fib_capacity(const vg_l2_main_t *l2) { return l2->fib_slots / 2; }

static uint32_t slot_home(const vg_l2_main_t *l2, uint32_t i) {
  return vg_l2fib_hash(l2, l2->fib[i].key);
}

/* Writer only. Returns the entry, or NULL when the table is at capacity. */
static vg_l2fib_entry_t *fib_insert(vg_l2_main_t *l2, uint64_t key, uint64_t val) {
  uint32_t mask = l2->fib_slots - 1, i = vg_l2fib_hash(l2, key);
  for (;; i = (i + 1) & mask) {
    vg_l2fib_entry_t *e = &l2->fib[i];
    if (e->key == key) {
      __atomic_store_n(&e->val, val, __ATOMIC_RELAXED);
      return e;
    }
    if (!e->key) break;
  }
  if (l2->n_entries >= fib_capacity(l2)) return NULL;
  __atomic_store_n(&l2->fib[i].val, val, __ATOMIC_RELAXED);
  __atomic_store_n(&l2->fib[i].key, key, __ATOMIC_RELEASE); /* readers see val first */
  l2->n_entries++;
  return &l2->fib[i];
}

static void count_removed(vg_l2_main_t *l2, uint64_t key, uint64_t val) {
  vg_bd_t *bd = &l2->bds[(key >> 48) - 1];
  if (!(val & VG_L2FIB_STATIC) && bd->n_learned) bd->n_learned--;
  l2->n_entries--;
}

/* Writer only. Backward-shift deletion: later entries of the probe run move
 * up, so the table never needs tombstones and probes stay short. A moved
 * slot is emptied before it is rewritten: a racing reader misses (floods)
 * rather than reading one MAC's key with another's port. */
static void fib_remove_at(vg_l2_main_t *l2, uint32_t i) {
  uint32_t mask = l2->fib_slots - 1;
  count_removed(l2, l2->fib[i].key, vg_l2fib_val(&l2->fib[i]));
  for (uint32_t j = (i + 1) & mask; l2->fib[j].key; j = (j + 1) & mask) {
    uint32_t h = slot_home(l2, j);
    /* j's entry may fill the hole at i unless its home lies in (i, j]. */
    int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (stays) continue;
    __atomic_store_n(&l2->fib[i].key, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&l2->fib[i].val, vg_l2fib_val(&l2->fib[j]), __ATOMIC_RELAXED);
    __atomic_store_n(&l2->fib[i].key, l2->fib[j].key, __ATOMIC_RELEASE);
    i = j;
  }
  __atomic_store_n(&l2->fib[i].key, 0, __ATOMIC_RELEASE);
}

static int fib_alloc(vg_main_t *dp, vg_l2_main_t *l2, uint32_t slots) {
  const char *backing;
  int hugetlb = strcmp(dp->buffer_backing, "hugetlb") == 0;
  vg_l2fib_entry_t *fib = vg_mem_alloc_huge((uint64_t)slots * sizeof *fib, hugetlb, &backing);
  if (!fib) return vg_error(VG_E_NOMEM, "L2 FIB of %u entries", slots);
  vg_l2fib_entry_t *old = l2->fib;
  uint32_t old_slots = l2->fib_slots;
  l2->fib = fib;
  l2->fib_slots = slots;
  l2->fib_shift = 64u - (uint32_t)__builtin_ctz(slots);
  l2->n_entries = 0;
  l2->age_cursor = 0;
  for (uint32_t i = 0; i < old_slots; i++)
    if (old[i].key) fib_insert(l2, old[i].key, old[i].val); /* barrier held: no readers */
  vg_mem_free_huge(old, (uint64_t)old_slots * sizeof *old);
  return 0;
}

/* Room for twice every domain's mac-limit, so learning never finds the
 * table full before a limit; static entries may ask for more. Barrier held. */
static int fib_reserve(vg_main_t *dp, vg_l2_main_t *l2, uint64_t extra_static) {
  uint64_t want = extra_static + l2->n_entries;
  for (uint32_t d = 0; d < l2->n_bds; d++)
    if (l2->bds[d].in_use) want += l2->bds[d].mac_limit;
  uint64_t slots = VG_L2FIB_MIN_SLOTS;
  while (slots < 2 * want && slots < VG_L2FIB_MAX_SLOTS) slots *= 2;
  if (slots <= l2->fib_slots) return 0;
  return fib_alloc(dp, l2, (uint32_t)slots);
}

int vg_l2fib_learn(vg_l2_main_t *l2, uint32_t bd_index, uint64_t mac, uint32_t sw_if_index,
                   uint32_t now) {
  uint64_t key = vg_l2fib_key(bd_index, mac);
  uint64_t val = sw_if_index | (uint64_t)now << VG_L2FIB_SEEN_SHIFT;
  vg_bd_t *bd = &l2->bds[bd_index];
  int rc = 0;
  pthread_mutex_lock(&l2->write_lock);
  vg_l2fib_entry_t *e = vg_l2fib_lookup(l2, key);
  if (e) {
    if (!(vg_l2fib_val(e) & VG_L2FIB_STATIC)) __atomic_store_n(&e->val, val, __ATOMIC_RELAXED);
  } else if (bd->n_learned >= bd->mac_limit) rc = 1;
  else if (!fib_insert(l2, key, val)) rc = 2;
  else bd->n_learned++;
  pthread_mutex_unlock(&l2->write_lock);
  return rc;
}

void vg_l2fib_age_step(vg_l2_main_t *l2, uint32_t now, uint32_t max_slots) {
  if (pthread_mutex_trylock(&l2->write_lock) != 0) return; /* a learner has it: next time */
  uint32_t i = l2->age_cursor, end = i + max_slots;
  if (end > l2->fib_slots) end = l2->fib_slots;
  while (i < end) {
    vg_l2fib_entry_t *e = &l2->fib[i];
    uint64_t v = vg_l2fib_val(e);
    uint32_t age = e->key ? l2->bds[(e->key >> 48) - 1].mac_age : 0;
    /* A removal shifts a later entry into slot i: look at i again. */
    if (age && !(v & VG_L2FIB_STATIC) && now - (uint32_t)(v >> VG_L2FIB_SEEN_SHIFT) > age)
      fib_remove_at(l2, i);
    else i++;
  }
  l2->age_cursor = i == l2->fib_slots ? 0 : i;
  pthread_mutex_unlock(&l2->write_lock);
}

/* Removes the entries of a domain, or of one port of it (sw VG_NONE: all).
 * Barrier held. */
static void fib_flush(vg_l2_main_t *l2, uint32_t bd_index, uint32_t sw) {
  for (uint32_t i = 0; i < l2->fib_slots;) {
    vg_l2fib_entry_t *e = &l2->fib[i];
    if (e->key && (e->key >> 48) - 1 == bd_index && (sw == VG_NONE || (uint32_t)vg_l2fib_val(e) == sw))
      fib_remove_at(l2, i);
    else i++;
  }
}

/* ---- the L2 state of a dataplane ---- */

static vg_l2_main_t *l2_get(vg_main_t *dp) {
  if (dp->l2) return dp->l2;
  vg_l2_main_t *l2 = calloc(1, sizeof *l2);
  if (!l2) return vg_error(VG_E_NOMEM, "L2 state"), NULL;
  pthread_mutex_init(&l2->write_lock, NULL);
  l2->epoch_ns = vg_time_ns() - 1000000000ull; /* "seen" 0 never looks recent */
  l2->l2_input_node = (uint32_t)vg_node_index(dp, "l2-input");
  if (fib_alloc(dp, l2, VG_L2FIB_MIN_SLOTS) < 0) {
    free(l2);
    return NULL;
  }
  dp->nodes[vg_node_index(dp, "l2-age")].input_active = 1;
  return dp->l2 = l2;
}

void vg_l2_free(vg_main_t *dp) {
  vg_l2_main_t *l2 = dp->l2;
  if (!l2) return;
  for (uint32_t d = 0; d < l2->n_bds; d++) free(l2->bds[d].ports);
  vg_mem_free_huge(l2->fib, (uint64_t)l2->fib_slots * sizeof *l2->fib);
  pthread_mutex_destroy(&l2->write_lock);
  free(l2);
  dp->l2 = NULL;
}

static vg_bd_t *bd_find(vg_main_t *dp, uint32_t bd_id) {
  vg_l2_main_t *l2 = dp->l2;
  for (uint32_t d = 0; l2 && d < l2->n_bds; d++)
    if (l2->bds[d].in_use && l2->bds[d].bd_id == bd_id) return &l2->bds[d];
  return NULL;
}

static uint32_t bd_index(vg_main_t *dp, const vg_bd_t *bd) { return (uint32_t)(bd - dp->l2->bds); }

static int parse_bd_options(uint32_t bd_id, const char *s, vg_bd_t *bd) {
  bd->learn = bd->flood = bd->uu_flood = 1;
  bd->mac_age = 300;
  bd->mac_limit = 65536;
  char what[48];
  snprintf(what, sizeof what, "bridge domain %u", bd_id);
  vg_kv_t kv;
  int rc = 0;
  while (s && (rc = vg_kv_next(&s, &kv, what)) > 0) {
    uint64_t v, hi = 1;
    if (vg_kv_is(&kv, "mac-age")) hi = 1000000;
    else if (vg_kv_is(&kv, "mac-limit")) hi = VG_L2FIB_MAX_SLOTS / 2;
    else if (!vg_kv_is(&kv, "learn") && !vg_kv_is(&kv, "flood") && !vg_kv_is(&kv, "uu-flood"))
      return vg_error(VG_E_INVAL, "%s: unknown option '%.*s' (known: learn flood uu-flood "
                      "mac-age mac-limit)", what, (int)kv.key_len, kv.key);
    if (vg_parse_u64(kv.val, kv.val_len, 0, &v) || v > hi)
      return vg_error(VG_E_INVAL, "%s: %.*s=%.*s is not a number in 0..%llu", what,
                      (int)kv.key_len, kv.key, (int)kv.val_len, kv.val, (unsigned long long)hi);
    if (vg_kv_is(&kv, "mac-age")) bd->mac_age = (uint32_t)v;
    else if (vg_kv_is(&kv, "mac-limit")) bd->mac_limit = (uint32_t)v;
    else if (vg_kv_is(&kv, "learn")) bd->learn = (uint8_t)v;
    else if (vg_kv_is(&kv, "flood")) bd->flood = (uint8_t)v;
    else bd->uu_flood = (uint8_t)v;
  }
  return rc;
}

/* Runs fn under the API lock and the barrier, with the L2 state made. */
typedef int l2_op_t(vg_main_t *dp, vg_l2_main_t *l2, const void *arg);

static int with_l2(vg_dp_t *dp, l2_op_t *fn, const void *arg) {
  pthread_mutex_lock(&dp->api_lock);
  vg_barrier_sync(dp);
  vg_l2_main_t *l2 = l2_get(dp);
  int rc = l2 ? fn(dp, l2, arg) : vg_last_error_code();
  vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

typedef struct {
  uint32_t bd_id;
  const char *options;
  uint32_t sw_if_index, shg;
  int bvi;
  const uint8_t *mac;
  int is_static;
  vg_text_t *text;
} l2_args_t;

static int bd_add(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_bd_t bd = {.bd_id = a->bd_id};
  if (a->bd_id == UINT32_MAX)
    return vg_error(VG_E_INVAL, "bridge domain id %u is reserved (it means: no domain)", a->bd_id);
  if (bd_find(dp, a->bd_id)) return vg_error(VG_E_EXISTS, "bridge domain %u exists", a->bd_id);
  int rc = parse_bd_options(a->bd_id, a->options, &bd);
  if (rc < 0) return rc;
  uint32_t d = 0;
  while (d < l2->n_bds && l2->bds[d].in_use) d++;
  if (d == VG_L2_MAX_BD) return vg_error(VG_E_LIMIT, "at most %d bridge domains", VG_L2_MAX_BD);
  bd.in_use = 1;
  l2->bds[d] = bd;
  if (d == l2->n_bds) l2->n_bds++;
  if ((rc = fib_reserve(dp, l2, 0)) < 0) l2->bds[d].in_use = 0;
  return rc;
}

int vg_bridge_domain_add(vg_dp_t *dp, uint32_t bd_id, const char *options) {
  l2_args_t a = {.bd_id = bd_id, .options = options};
  return with_l2(dp, bd_add, &a);
}

static int bd_delete(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_bd_t *bd = bd_find(dp, a->bd_id);
  if (!bd) return vg_error(VG_E_NOTFOUND, "no bridge domain %u", a->bd_id);
  if (bd->n_ports)
    return vg_error(VG_E_STATE, "bridge domain %u still has %u ports: remove them first",
                    a->bd_id, bd->n_ports);
  fib_flush(l2, bd_index(dp, bd), VG_NONE);
  free(bd->ports);
  memset(bd, 0, sizeof *bd);
  return 0;
}

int vg_bridge_domain_delete(vg_dp_t *dp, uint32_t bd_id) {
  l2_args_t a = {.bd_id = bd_id};
  return with_l2(dp, bd_delete, &a);
}

static int port_leave(vg_main_t *dp, vg_l2_main_t *l2, vg_interface_t *itf) {
  if (itf->bd_index == VG_NONE)
    return vg_error(VG_E_STATE, "interface %s is not in a bridge domain", itf->name);
  vg_bd_t *bd = &l2->bds[itf->bd_index];
  for (uint32_t p = 0; p < bd->n_ports; p++)
    if (bd->ports[p] == itf->sw_if_index) bd->ports[p] = bd->ports[--bd->n_ports];
  fib_flush(l2, itf->bd_index, itf->sw_if_index);
  itf->bd_index = VG_NONE;
  itf->shg = 0;
  itf->is_bvi = 0;
  (void)dp;
  return 0;
}

static int port_join(vg_main_t *dp, vg_l2_main_t *l2, vg_interface_t *itf, const l2_args_t *a) {
  vg_bd_t *bd = bd_find(dp, a->bd_id);
  if (!bd) return vg_error(VG_E_NOTFOUND, "%s: no bridge domain %u", itf->name, a->bd_id);
  if (itf->bd_index != VG_NONE)
    return vg_error(VG_E_EXISTS, "%s is already a port of bridge domain %u", itf->name,
                    l2->bds[itf->bd_index].bd_id);
  if (a->shg > 255)
    return vg_error(VG_E_INVAL, "%s: split-horizon group %u is outside 0..255", itf->name, a->shg);
  uint32_t d = bd_index(dp, bd);
  if (a->bvi) {
    if (strcmp(itf->type, "loopback") != 0)
      return vg_error(VG_E_INVAL, "%s: only a loopback can be a BVI (it is %s)", itf->name,
                      itf->type);
    for (uint32_t p = 0; p < bd->n_ports; p++)
      if (vg_interface_get(dp, bd->ports[p])->is_bvi)
        return vg_error(VG_E_EXISTS, "bridge domain %u already has a BVI", a->bd_id);
    uint64_t key = vg_l2fib_key(d, vg_l2_mac(itf->mac));
    int rc = fib_reserve(dp, l2, 1);
    if (rc < 0) return rc;
    if (!fib_insert(l2, key, itf->sw_if_index | VG_L2FIB_STATIC))
      return vg_error(VG_E_LIMIT, "bridge domain %u: L2 FIB full", a->bd_id);
  }
  if (bd->n_ports == bd->cap_ports) {
    uint32_t cap = bd->cap_ports ? 2 * bd->cap_ports : 8;
    uint32_t *p = realloc(bd->ports, cap * sizeof *p);
    if (!p) return vg_error(VG_E_NOMEM, "bridge domain %u ports", a->bd_id);
    bd->ports = p;
    bd->cap_ports = cap;
  }
  bd->ports[bd->n_ports++] = itf->sw_if_index;
  itf->bd_index = d;
  itf->shg = (uint8_t)a->shg;
  itf->is_bvi = (uint8_t)!!a->bvi;
  return 0;
}

static int port_set(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_interface_t *itf = vg_interface_get(dp, a->sw_if_index);
  if (!itf) return vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", a->sw_if_index);
  return a->bd_id == UINT32_MAX ? port_leave(dp, l2, itf) : port_join(dp, l2, itf, a);
}

int vg_bridge_port_set(vg_dp_t *dp, uint32_t sw_if_index, uint32_t bd_id, uint32_t shg, int bvi) {
  l2_args_t a = {.bd_id = bd_id, .sw_if_index = sw_if_index, .shg = shg, .bvi = bvi};
  return with_l2(dp, port_set, &a);
}

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

static int fib_add(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_bd_t *bd = bd_find(dp, a->bd_id);
  vg_interface_t *itf = vg_interface_get(dp, a->sw_if_index);
  if (!bd) return vg_error(VG_E_NOTFOUND, "l2fib " MAC_FMT ": no bridge domain %u",
                           MAC_ARGS(a->mac), a->bd_id);
  if (!itf) return vg_error(VG_E_NOTFOUND, "l2fib " MAC_FMT ": no interface with sw_if_index %u",
                            MAC_ARGS(a->mac), a->sw_if_index);
  uint32_t d = bd_index(dp, bd);
  if (itf->bd_index != d)
    return vg_error(VG_E_INVAL, "l2fib " MAC_FMT ": %s is not a port of bridge domain %u",
                    MAC_ARGS(a->mac), itf->name, a->bd_id);
  if (a->mac[0] & 1)
    return vg_error(VG_E_INVAL, "l2fib " MAC_FMT ": a multicast MAC cannot be an entry",
                    MAC_ARGS(a->mac));
  int rc = fib_reserve(dp, l2, 1);
  if (rc < 0) return rc;
  uint64_t key = vg_l2fib_key(d, vg_l2_mac(a->mac));
  vg_l2fib_entry_t *old = vg_l2fib_lookup(l2, key);
  int was_dynamic = old && !(vg_l2fib_val(old) & VG_L2FIB_STATIC);
  uint64_t val = a->sw_if_index | (a->is_static ? VG_L2FIB_STATIC
                                                 : (uint64_t)vg_l2_now(l2) << VG_L2FIB_SEEN_SHIFT);
  if (!fib_insert(l2, key, val))
    return vg_error(VG_E_LIMIT, "l2fib " MAC_FMT ": the L2 FIB is full", MAC_ARGS(a->mac));
  bd->n_learned += (uint32_t)!a->is_static - (uint32_t)was_dynamic;
  return 0;
}

int vg_l2fib_add(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac, uint32_t sw_if_index,
                 int is_static) {
  l2_args_t a = {.bd_id = bd_id, .mac = mac, .sw_if_index = sw_if_index, .is_static = is_static};
  return with_l2(dp, fib_add, &a);
}

static int fib_del(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_bd_t *bd = bd_find(dp, a->bd_id);
  if (!bd) return vg_error(VG_E_NOTFOUND, "l2fib " MAC_FMT ": no bridge domain %u",
                           MAC_ARGS(a->mac), a->bd_id);
  vg_l2fib_entry_t *e = vg_l2fib_lookup(l2, vg_l2fib_key(bd_index(dp, bd), vg_l2_mac(a->mac)));
  if (!e) return vg_error(VG_E_NOTFOUND, "bridge domain %u has no entry for " MAC_FMT,
                          a->bd_id, MAC_ARGS(a->mac));
  fib_remove_at(l2, (uint32_t)(e - l2->fib));
  return 0;
}

int vg_l2fib_delete(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac) {
  l2_args_t a = {.bd_id = bd_id, .mac = mac};
  return with_l2(dp, fib_del, &a);
}

/* ---- tables as text ---- */

static const char *port_name(vg_main_t *dp, uint32_t sw) {
  vg_interface_t *itf = vg_interface_get(dp, sw);
  return itf ? itf->name : "(deleted)";
}

static int fib_format(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_text_t *t = a->text;
  uint32_t now = vg_l2_now(l2);
  for (uint32_t i = 0; i < l2->fib_slots; i++) {
    uint64_t k = l2->fib[i].key, v = vg_l2fib_val(&l2->fib[i]);
    if (!k) continue;
    vg_bd_t *bd = &l2->bds[(k >> 48) - 1];
    if (a->bd_id != UINT32_MAX && bd->bd_id != a->bd_id) continue;
    uint8_t m[8];
    memcpy(m, &k, 8);
    vg_text_printf(t, "bd %u " MAC_FMT " port %s ", bd->bd_id, MAC_ARGS(m), port_name(dp, (uint32_t)v));
    if (v & VG_L2FIB_STATIC) vg_text_printf(t, "static\n");
    else vg_text_printf(t, "dynamic age %us\n", now - (uint32_t)(v >> VG_L2FIB_SEEN_SHIFT));
  }
  return 0;
}

static int bd_format(vg_main_t *dp, vg_l2_main_t *l2, const void *arg) {
  const l2_args_t *a = arg;
  vg_text_t *t = a->text;
  for (uint32_t d = 0; d < l2->n_bds; d++) {
    vg_bd_t *bd = &l2->bds[d];
    if (!bd->in_use || (a->bd_id != UINT32_MAX && bd->bd_id != a->bd_id)) continue;
    vg_text_printf(t, "bd %u learn %u flood %u uu-flood %u mac-age %u mac-limit %u learned %u ports %u\n",
        bd->bd_id, bd->learn, bd->flood, bd->uu_flood, bd->mac_age, bd->mac_limit, bd->n_learned,
        bd->n_ports);
    for (uint32_t p = 0; p < bd->n_ports; p++) {
      vg_interface_t *itf = vg_interface_get(dp, bd->ports[p]);
      vg_text_printf(t, "bd %u port %s shg %u%s\n", bd->bd_id, port_name(dp, bd->ports[p]),
          itf ? itf->shg : 0, itf && itf->is_bvi ? " bvi" : "");
    }
  }
  return 0;
}

static int64_t format_with(vg_dp_t *dp, l2_op_t *fn, uint32_t bd_id, char *buf, uint64_t size) {
  vg_text_t t = {buf, size, 0};
  l2_args_t a = {.bd_id = bd_id, .text = &t};
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0;
  if (bd_id != UINT32_MAX && !bd_find(dp, bd_id))
    rc = vg_error(VG_E_NOTFOUND, "no bridge domain %u", bd_id);
  else if (dp->l2) {
    /* Learning may go on meanwhile; write_lock keeps entries from moving. */
    pthread_mutex_lock(&dp->l2->write_lock);
    fn(dp, dp->l2, &a);
    pthread_mutex_unlock(&dp->l2->write_lock);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc < 0 ? rc : vg_text_finish(&t);
}

int64_t vg_l2fib_format(vg_dp_t *dp, uint32_t bd_id, char *buf, uint64_t size) {
  return format_with(dp, fib_format, bd_id, buf, size);
}

int64_t vg_bridge_domain_format(vg_dp_t *dp, uint32_t bd_id, char *buf, uint64_t size) {
  return format_with(dp, bd_format, bd_id, buf, size);
}

/* ---- tables read back ---- */

int vg_bridge_domain_dump(vg_dp_t *dp, vg_bridge_domain_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  vg_l2_main_t *l2 = dp->l2;
  uint32_t n = 0;
  if (l2) pthread_mutex_lock(&l2->write_lock); /* n_learned moves with learning */
  for (uint32_t d = 0; l2 && d < l2->n_bds; d++) {
    const vg_bd_t *bd = &l2->bds[d];
    if (!bd->in_use) continue;
    if (n < max)
      out[n] = (vg_bridge_domain_info_t){.bd_id = bd->bd_id, .learn = bd->learn, .flood = bd->flood,
                                         .uu_flood = bd->uu_flood, .mac_age = bd->mac_age,
                                         .mac_limit = bd->mac_limit, .n_learned = bd->n_learned,
                                         .n_ports = bd->n_ports};
    n++;
  }
  if (l2) pthread_mutex_unlock(&l2->write_lock);
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}
