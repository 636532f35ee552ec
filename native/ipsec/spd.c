/* Security policy databases (RFC 4301 4.4.1): the API (SPDs, their
 * entries, interface bindings, dumps) and the tables ipsec4-output and
 * ipsec4-input match packets against. Entries are kept per direction in
 * match order (priority, highest first; equal: the older first). Every
 * change is made under the barrier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ip4/ip4.h"
#include "ipsec.h"

#define MAX_SPDS 256

static vg_ipsec_spd_t *spd_find(vg_ipsec_main_t *im, uint32_t spd_id, uint32_t *index) {
  for (uint32_t i = 0; im && i < im->n_spds; i++)
    if (im->spds[i]->spd_id == spd_id) {
      if (index) *index = i;
      return im->spds[i];
    }
  return NULL;
}

static vg_ipsec_spd_t *spd_get(vg_main_t *dp, uint32_t spd_id, uint32_t *index) {
  vg_ipsec_spd_t *s = spd_find(dp->ipsec, spd_id, index);
  if (!s) vg_error(VG_E_NOTFOUND, "no ipsec spd %u", spd_id);
  return s;
}

/* An interface is bound while it exists with its spd flag set: a deleted
 * interface leaves a stale slot in spd_of_if that nothing reads. */
static int bound_to(vg_main_t *dp, uint32_t sw) {
  vg_interface_t *itf = vg_interface_get(dp, sw);
  return itf && itf->spd ? (int)dp->ipsec->spd_of_if[sw] - 1 : -1;
}

int vg_ipsec_spd_of_interface(vg_main_t *dp, uint32_t sw_if_index) {
  return dp->ipsec ? bound_to(dp, sw_if_index) : -1;
}

static uint32_t n_bound(vg_main_t *dp, uint32_t index, const char **first) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->n_interfaces; i++)
    if (bound_to(dp, i) == (int)index) {
      if (!n && first) *first = dp->interfaces[i]->name;
      n++;
    }
  return n;
}

int vg_ipsec_spd_add(vg_dp_t *dp, uint32_t spd_id) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = vg_ipsec_main(dp);
  int rc = 0;
  vg_ipsec_spd_t *s = NULL, **list = NULL;
  if (!im) rc = vg_last_error_code();
  else if (spd_find(im, spd_id, NULL)) rc = vg_error(VG_E_EXISTS, "ipsec spd %u exists", spd_id);
  else if (im->n_spds == MAX_SPDS) rc = vg_error(VG_E_LIMIT, "at most %u ipsec SPDs", MAX_SPDS);
  else if (!(s = calloc(1, sizeof *s)) || !(list = realloc(im->spds, (im->n_spds + 1) * sizeof *list)))
    rc = vg_error(VG_E_NOMEM, "ipsec spd %u", spd_id);
  if (list) im->spds = list;
  if (rc == 0) {
    s->spd_id = spd_id;
    vg_barrier_sync(dp);
    im->spds[im->n_spds++] = s;
    vg_barrier_release(dp);
    s = NULL;
  }
  free(s);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static void entry_release(vg_main_t *dp, vg_ipsec_spd_entry_t *e) {
  vg_ipsec_main_t *im = dp->ipsec;
  if (e->p.action == VG_IPSEC_ACTION_PROTECT) im->sas[e->sa_index]->n_spd_users--;
  im->spd_counter_used[e->counter] = 0;
  memset(vg_stats_name_slot(dp, vg_stats_find(dp, "/ipsec/spd/names"), e->counter), 0, VG_STATS_NAME_MAX);
}

static void spd_destroy(vg_main_t *dp, vg_ipsec_spd_t *s) {
  for (uint32_t i = 0; i < s->n_out; i++) entry_release(dp, &s->out[i]);
  for (uint32_t i = 0; i < s->n_in; i++) entry_release(dp, &s->in[i]);
  free(s->out);
  free(s->in);
  free(s);
}

int vg_ipsec_spd_delete(vg_dp_t *dp, uint32_t spd_id) {
  pthread_mutex_lock(&dp->api_lock);
  uint32_t index;
  const char *first = NULL;
  vg_ipsec_spd_t *s = spd_get(dp, spd_id, &index);
  int rc = s ? 0 : VG_E_NOTFOUND;
  if (s && n_bound(dp, index, &first))
    rc = vg_error(VG_E_STATE, "ipsec spd %u is bound to interface %s: unbind it first", spd_id, first);
  else if (s) {
    vg_ipsec_main_t *im = dp->ipsec;
    vg_barrier_sync(dp);
    /* Later SPDs move down one: their bindings follow. */
    for (uint32_t i = 0; i < dp->n_interfaces; i++) {
      int b = bound_to(dp, i);
      if (b > (int)index) im->spd_of_if[i]--;
    }
    memmove(&im->spds[index], &im->spds[index + 1], (im->n_spds - index - 1) * sizeof im->spds[0]);
    im->n_spds--;
    spd_destroy(dp, s);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

/* The ip4 adjacencies of sw carry whether ip4-lookup sends to ipsec4-output. */
static void mark_adjs(vg_main_t *dp, uint32_t sw, int on) {
  for (uint32_t i = 0; i < dp->ip4->n_adjs; i++)
    if (dp->ip4->adjs[i].sw_if_index == sw) dp->ip4->adjs[i].spd = (uint8_t)on;
}

int vg_ipsec_spd_bind(vg_dp_t *dp, uint32_t sw_if_index, uint32_t spd_id) {
  pthread_mutex_lock(&dp->api_lock);
  vg_interface_t *itf = vg_interface_get(dp, sw_if_index);
  uint32_t index = 0;
  int rc = 0;
  if (!itf) rc = vg_error(VG_E_NOTFOUND, "no interface with sw_if_index %u", sw_if_index);
  else if (spd_id != VG_NONE && !spd_get(dp, spd_id, &index)) rc = VG_E_NOTFOUND;
  else if (spd_id != VG_NONE || dp->ipsec) {
    vg_barrier_sync(dp);
    itf->spd = spd_id != VG_NONE;
    dp->ipsec->spd_of_if[sw_if_index] = spd_id != VG_NONE ? index + 1 : 0;
    mark_adjs(dp, sw_if_index, itf->spd);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static int check_policy(vg_main_t *dp, uint32_t spd_id, const vg_ipsec_policy_t *p, int *sa_slot) {
  if (!p) return vg_error(VG_E_INVAL, "ipsec spd %u: no policy", spd_id);
  if (p->direction > VG_IPSEC_POLICY_INBOUND)
    return vg_error(VG_E_INVAL, "ipsec spd %u: direction %u is not VG_IPSEC_POLICY_*", spd_id, p->direction);
  if (p->action > VG_IPSEC_ACTION_PROTECT)
    return vg_error(VG_E_INVAL, "ipsec spd %u: action %u is not VG_IPSEC_ACTION_*", spd_id, p->action);
  if ((p->local_hi && p->local_lo > p->local_hi) || (p->remote_hi && p->remote_lo > p->remote_hi))
    return vg_error(VG_E_INVAL, "ipsec spd %u: an address range has lo above hi", spd_id);
  if ((p->local_port_hi && p->local_port_lo > p->local_port_hi) ||
      (p->remote_port_hi && p->remote_port_lo > p->remote_port_hi))
    return vg_error(VG_E_INVAL, "ipsec spd %u: a port range has lo above hi", spd_id);
  *sa_slot = -1;
  if (p->action != VG_IPSEC_ACTION_PROTECT) return 0;
  int slot = vg_ipsec_sa_slot(dp, p->sa_id);
  if (slot < 0) return slot;
  const vg_ipsec_sa_t *sa = dp->ipsec->sas[slot];
  if (sa->inbound != (p->direction == VG_IPSEC_POLICY_INBOUND))
    return vg_error(VG_E_INVAL, "ipsec spd %u: sa %u is %s, the entry %s", spd_id, p->sa_id,
                    sa->inbound ? "inbound" : "outbound", p->direction ? "inbound" : "outbound");
  if (sa->sw_if_index != VG_NONE)
    return vg_error(VG_E_STATE, "ipsec spd %u: sa %u protects tunnel %s", spd_id, p->sa_id,
                    dp->interfaces[sa->sw_if_index]->name);
  *sa_slot = slot;
  return 0;
}

int vg_ipsec_spd_entry_add(vg_dp_t *dp, uint32_t spd_id, const vg_ipsec_policy_t *policy) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_spd_t *s = spd_get(dp, spd_id, NULL);
  int rc = s ? 0 : VG_E_NOTFOUND, sa_slot = -1;
  if (s) rc = check_policy(dp, spd_id, policy, &sa_slot);
  vg_ipsec_main_t *im = dp->ipsec;
  uint32_t counter = 0;
  while (rc == 0 && counter < VG_IPSEC_MAX_SPD_ENTRIES && im->spd_counter_used[counter]) counter++;
  if (rc == 0 && counter == VG_IPSEC_MAX_SPD_ENTRIES)
    rc = vg_error(VG_E_LIMIT, "at most %u ipsec SPD entries", VG_IPSEC_MAX_SPD_ENTRIES);
  int in = policy && policy->direction == VG_IPSEC_POLICY_INBOUND;
  vg_ipsec_spd_entry_t *list = NULL;
  if (rc == 0) {
    uint32_t n = in ? s->n_in : s->n_out;
    list = malloc((n + 1) * sizeof *list);
    if (!list) rc = vg_error(VG_E_NOMEM, "ipsec spd %u entry", spd_id);
  }
  if (rc == 0) {
    vg_ipsec_spd_entry_t **cur = in ? &s->in : &s->out;
    uint32_t *n = in ? &s->n_in : &s->n_out, at = 0;
    while (at < *n && (*cur)[at].p.priority >= policy->priority) at++;
    if (*n) { /* the first entry has no list to copy from */
      memcpy(list, *cur, at * sizeof *list);
      memcpy(list + at + 1, *cur + at, (*n - at) * sizeof *list);
    }
    list[at] = (vg_ipsec_spd_entry_t){.entry_id = s->next_entry_id, .p = *policy, .counter = counter,
                                      .sa_index = sa_slot < 0 ? VG_NONE : (uint32_t)sa_slot};
    im->spd_counter_used[counter] = 1;
    for (uint32_t t = 0; t < dp->n_threads; t++) im->c_spd_entry[(uint64_t)t * VG_IPSEC_MAX_SPD_ENTRIES + counter] = 0;
    int names = vg_stats_find(dp, "/ipsec/spd/names");
    snprintf(vg_stats_name_slot(dp, names, counter), VG_STATS_NAME_MAX, "%u/%u", spd_id, s->next_entry_id);
    if (counter >= im->n_spd_counters) {
      im->n_spd_counters = counter + 1;
      vg_stats_set_n_elems(dp, names, counter + 1);
      vg_stats_set_n_elems(dp, vg_stats_find(dp, "/ipsec/spd/packets"), counter + 1);
    }
    vg_barrier_sync(dp);
    vg_ipsec_spd_entry_t *old = *cur;
    *cur = list;
    (*n)++;
    if (sa_slot >= 0) im->sas[sa_slot]->n_spd_users++;
    vg_barrier_release(dp);
    free(old);
    rc = (int)s->next_entry_id++;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ipsec_spd_entry_delete(vg_dp_t *dp, uint32_t spd_id, uint32_t entry_id) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_spd_t *s = spd_get(dp, spd_id, NULL);
  int rc = s ? VG_E_NOTFOUND : VG_E_NOTFOUND;
  for (int in = 0; s && in < 2 && rc < 0; in++) {
    vg_ipsec_spd_entry_t *list = in ? s->in : s->out;
    uint32_t *n = in ? &s->n_in : &s->n_out;
    for (uint32_t i = 0; i < *n; i++)
      if (list[i].entry_id == entry_id) {
        vg_barrier_sync(dp);
        entry_release(dp, &list[i]);
        memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof *list);
        (*n)--;
        vg_barrier_release(dp);
        rc = 0;
        break;
      }
  }
  if (s && rc < 0) rc = vg_error(VG_E_NOTFOUND, "ipsec spd %u has no entry %u", spd_id, entry_id);
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ipsec_spd_dump(vg_dp_t *dp, vg_ipsec_spd_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = dp->ipsec;
  uint32_t n = im ? im->n_spds : 0;
  for (uint32_t i = 0; i < n && i < max; i++)
    out[i] = (vg_ipsec_spd_info_t){.spd_id = im->spds[i]->spd_id, .n_entries = im->spds[i]->n_out + im->spds[i]->n_in,
                                   .n_interfaces = n_bound(dp, i, NULL)};
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

int vg_ipsec_spd_entry_dump(vg_dp_t *dp, uint32_t spd_id, vg_ipsec_spd_entry_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_spd_t *s = spd_get(dp, spd_id, NULL);
  int rc = VG_E_NOTFOUND;
  if (s) {
    uint32_t n = 0;
    for (int in = 0; in < 2; in++) {
      const vg_ipsec_spd_entry_t *list = in ? s->in : s->out;
      for (uint32_t i = 0; i < (in ? s->n_in : s->n_out); i++, n++) {
        if (n >= max) continue;
        uint64_t sum = 0;
        for (uint32_t t = 0; t < dp->n_threads; t++)
          sum += dp->ipsec->c_spd_entry[(uint64_t)t * VG_IPSEC_MAX_SPD_ENTRIES + list[i].counter];
        out[n] = (vg_ipsec_spd_entry_info_t){.entry_id = list[i].entry_id, .packets = sum, .policy = list[i].p};
      }
    }
    rc = (int)n;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_ipsec_spd_binding_dump(vg_dp_t *dp, vg_ipsec_spd_binding_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  uint32_t n = 0;
  for (uint32_t i = 0; dp->ipsec && i < dp->n_interfaces; i++) {
    int b = bound_to(dp, i);
    if (b < 0) continue;
    if (n < max) out[n] = (vg_ipsec_spd_binding_t){.sw_if_index = i, .spd_id = dp->ipsec->spds[b]->spd_id};
    n++;
  }
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

void vg_ipsec_spd_free(vg_main_t *dp) {
  vg_ipsec_main_t *im = dp->ipsec;
  for (uint32_t i = 0; i < im->n_spds; i++) spd_destroy(dp, im->spds[i]);
  free(im->spds);
  im->spds = NULL;
  im->n_spds = 0;
}
