/* ipsec4-input: IPv4 packets received on an interface with an SPD (from
 * ip4-input, before ip4-lookup) meet its inbound entries. A packet that
 * came in clear follows the first entry that matches: BYPASS passes,
 * DISCARD drops, PROTECT drops (it should have come encrypted); no entry:
 * it passes. ESP and UDP to 500/4500 are the protection itself and pass
 * unchecked. A packet esp-decrypt decrypted with an SA that protects no
 * tunnel must match a PROTECT entry naming that SA. */
#include <stdio.h>

#include "../ip4/ip4.h"
#include "../ipsec/ipsec.h"

enum { NEXT_DROP, NEXT_LOOKUP };

#define IPSEC4_INPUT_ERRORS(_)                                        \
  _(PASSED, "passed")                                                \
  _(DISCARD, "discarded by policy")                                  \
  _(CLEAR_PROTECTED, "clear packet matches a protect policy")        \
  _(WRONG_SA, "decrypted packet does not match its SA's policy")

enum {
#define _(sym, str) ERR_##sym,
  IPSEC4_INPUT_ERRORS(_)
#undef _
};

static const char *const errors[] = {
#define _(sym, str) str,
    IPSEC4_INPUT_ERRORS(_)
#undef _
    NULL};

typedef struct {
  uint32_t spd_id, entry_id, sw_if_index;
  uint8_t error, matched, decrypted;
} input_trace_t;

static int format_input_trace(char *out, size_t size, const void *rec) {
  const input_trace_t *t = rec;
  int k = snprintf(out, size, "  rx sw_if_index %u spd %u, %s", t->sw_if_index, t->spd_id,
                   t->decrypted ? "decrypted" : "clear");
  if (k < 0 || (size_t)k >= size) return k;
  if (t->matched) k += snprintf(out + k, size - (size_t)k, ", entry %u", t->entry_id);
  if (k < 0 || (size_t)k >= size) return k;
  return k + snprintf(out + k, size - (size_t)k, ": %s", errors[t->error]);
}

/* ESP, and IKE or NAT-T for the box: not subject to the policies. */
static inline int is_protection(const uint8_t *ip, uint32_t len) {
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
  if (ip[9] == 50) return 1;
  if (ip[9] != 17 || len < hl + 4) return 0;
  uint16_t dport = (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3]);
  return dport == 500 || dport == 4500;
}

static inline uint32_t decide(vg_main_t *dp, vg_thread_t *th, vg_buffer_t *b, input_trace_t *tr) {
  vg_ipsec_main_t *im = dp->ipsec;
  tr->sw_if_index = b->sw_if_index[VG_RX];
  int s = im ? vg_ipsec_spd_of_interface(dp, tr->sw_if_index) : -1;
  if (VG_UNLIKELY(s < 0)) return ERR_PASSED;
  const vg_ipsec_spd_t *spd = im->spds[s];
  const uint8_t *ip = vg_buffer_current(b);
  tr->spd_id = spd->spd_id;
  uint32_t slot = VG_NONE;
  if (b->flags & VG_BUF_ESP_DECRYPTED) {
    slot = *vg_esp_sa_slot(b);
    const vg_ipsec_sa_t *sa = slot < VG_IPSEC_MAX_SAS ? im->sas[slot] : NULL;
    if (sa && sa->sw_if_index != VG_NONE) return ERR_PASSED; /* route-based: the tunnel protects it */
    tr->decrypted = 1;
  } else if (is_protection(ip, b->current_length)) {
    return ERR_PASSED;
  }
  const vg_ipsec_spd_entry_t *e = vg_ipsec_spd_match(spd, VG_IPSEC_POLICY_INBOUND, ip, b->current_length);
  if (e) {
    tr->matched = 1, tr->entry_id = e->entry_id;
    im->c_spd_entry[(uint64_t)th->index * VG_IPSEC_MAX_SPD_ENTRIES + e->counter]++;
  }
  if (tr->decrypted)
    return e && e->p.action == VG_IPSEC_ACTION_PROTECT && e->sa_index == slot ? ERR_PASSED : ERR_WRONG_SA;
  if (!e || e->p.action == VG_IPSEC_ACTION_BYPASS) return ERR_PASSED;
  return e->p.action == VG_IPSEC_ACTION_DISCARD ? ERR_DISCARD : ERR_CLEAR_PROTECTED;
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  input_trace_t tr = {0};
  uint32_t err = decide(dp, th, b, &tr);
  tr.error = (uint8_t)err;
  if (VG_UNLIKELY(vg_traced(b))) *(input_trace_t *)vg_trace_record(th, node, b, sizeof tr) = tr;
  if (VG_LIKELY(err == ERR_PASSED)) {
    vg_node_count_error(th, node, ERR_PASSED, 1);
    return NEXT_LOOKUP;
  }
  b->error = vg_node_error(node, err);
  return NEXT_DROP;
}

static uint32_t ipsec4_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 1);
}

const vg_node_reg_t vg_node_ipsec4_input = {
    .name = "ipsec4-input",
    .fn = ipsec4_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", NULL},
    .errors = errors,
    .format_trace = format_input_trace,
};
