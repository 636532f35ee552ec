/* ipsec4-output: IPv4 packets routed out of an interface with an SPD
 * (ip4-lookup sends them here instead of to ip4-rewrite) meet its
 * outbound entries: the first that matches decides. BYPASS: on to
 * ip4-rewrite; DISCARD: dropped; PROTECT: to esp-encrypt with the entry's
 * SA, which looks the ESP packet up again. No entry: dropped (RFC 4301
 * 4.4.1). ESP that esp-encrypt made passes unchecked. A packet going into
 * a tunnel-mode SA is forwarded by the box without reaching ip4-rewrite,
 * so its TTL is taken down here. */
#include <stdio.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "../ipsec/ipsec.h"

enum { NEXT_DROP, NEXT_REWRITE, NEXT_ENCRYPT };

#define IPSEC4_OUTPUT_ERRORS(_)                       \
  _(BYPASS, "bypassed by policy")                    \
  _(PROTECT, "sent to be encrypted by policy")       \
  _(DISCARD, "discarded by policy")                  \
  _(NO_POLICY, "no policy matched")                  \
  _(ENCRYPTED, "ESP from esp-encrypt (not checked)")    \
  _(TTL_EXPIRED, "TTL expired before encryption")

enum {
#define _(sym, str) ERR_##sym,
  IPSEC4_OUTPUT_ERRORS(_)
#undef _
};

static const char *const errors[] = {
#define _(sym, str) str,
    IPSEC4_OUTPUT_ERRORS(_)
#undef _
    NULL};

typedef struct {
  uint32_t spd_id, entry_id, sa_id, sw_if_index;
  uint8_t error;
} output_trace_t;

static int format_output_trace(char *out, size_t size, const void *rec) {
  const output_trace_t *t = rec;
  if (t->error == ERR_ENCRYPTED || t->error == ERR_NO_POLICY)
    return snprintf(out, size, "  tx sw_if_index %u spd %u: %s", t->sw_if_index, t->spd_id, errors[t->error]);
  int k = snprintf(out, size, "  tx sw_if_index %u spd %u entry %u: %s", t->sw_if_index, t->spd_id, t->entry_id,
                   errors[t->error]);
  if (t->error != ERR_PROTECT || k < 0 || (size_t)k >= size) return k;
  return k + snprintf(out + k, size - (size_t)k, " with sa %u", t->sa_id);
}

static inline uint32_t decide(vg_main_t *dp, vg_thread_t *th, vg_buffer_t *b, output_trace_t *tr) {
  vg_ipsec_main_t *im = dp->ipsec;
  tr->sw_if_index = dp->ip4->adjs[vg_ip4_opaque(b)->adj].sw_if_index;
  if (b->flags & VG_BUF_ESP_ENCRYPTED) return ERR_ENCRYPTED;
  int s = im ? vg_ipsec_spd_of_interface(dp, tr->sw_if_index) : -1;
  if (VG_UNLIKELY(s < 0)) return ERR_BYPASS; /* unbound meanwhile */
  const vg_ipsec_spd_t *spd = im->spds[s];
  tr->spd_id = spd->spd_id;
  const vg_ipsec_spd_entry_t *e = vg_ipsec_spd_match(spd, VG_IPSEC_POLICY_OUTBOUND, vg_buffer_current(b),
                                                     b->current_length);
  if (!e) return ERR_NO_POLICY;
  tr->entry_id = e->entry_id;
  im->c_spd_entry[(uint64_t)th->index * VG_IPSEC_MAX_SPD_ENTRIES + e->counter]++;
  switch (e->p.action) {
  case VG_IPSEC_ACTION_BYPASS: return ERR_BYPASS;
  case VG_IPSEC_ACTION_DISCARD: return ERR_DISCARD;
  default:
    tr->sa_id = e->p.sa_id;
    *vg_esp_sa_slot(b) = e->sa_index;
    if (im->sas[e->sa_index]->tunnel) {
      uint8_t *ip = vg_buffer_current(b);
      if (ip[8] <= 1) return ERR_TTL_EXPIRED;
      ip[8]--;
      uint32_t c = (uint32_t)(ip[10] << 8 | ip[11]) + 0x0100; /* RFC 1624, as ip4-rewrite */
      vg_put_be16(ip + 10, (uint16_t)((c & 0xffff) + (c >> 16)));
    }
    return ERR_PROTECT;
  }
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  output_trace_t tr = {0};
  uint32_t err = decide(dp, th, b, &tr);
  tr.error = (uint8_t)err;
  if (VG_UNLIKELY(vg_traced(b))) *(output_trace_t *)vg_trace_record(th, node, b, sizeof tr) = tr;
  switch (err) {
  case ERR_BYPASS:
  case ERR_ENCRYPTED:
    vg_node_count_error(th, node, err, 1);
    b->flags &= ~VG_BUF_ESP_ENCRYPTED;
    return NEXT_REWRITE;
  case ERR_PROTECT: vg_node_count_error(th, node, err, 1); return NEXT_ENCRYPT;
  default: b->error = vg_node_error(node, err); return NEXT_DROP; /* counted by error-drop */
  }
}

static uint32_t ipsec4_output_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 1);
}

const vg_node_reg_t vg_node_ipsec4_output = {
    .name = "ipsec4-output",
    .fn = ipsec4_output_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-rewrite", "esp-encrypt", NULL},
    .errors = errors,
    .format_trace = format_output_trace,
};
