/* l2-input: a frame received on a bridge port enters its domain. A
 * sub-interface port's tag is popped so frames inside a domain are untagged
 * (l2-output pushes the tag of the port they leave by); the domain and the
 * rx port's split-horizon group go in the buffer's L2 opaque. */
#include <stdio.h>

#include "../l2/bridge.h"

enum { NEXT_DROP, NEXT_LEARN, NEXT_FWD };

#define L2_INPUT_ERRORS(_) _(NOT_BRIDGED, "interface is not in a bridge domain")

enum {
#define _(sym, str) ERR_##sym,
  L2_INPUT_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t sw_if_index, bd_id;
  int32_t vlan_popped; /* -1: none */
} l2_input_trace_t;

static int format_l2_input_trace(char *out, size_t size, const void *rec) {
  const l2_input_trace_t *t = rec;
  int k = snprintf(out, size, "  rx sw_if_index %u, bridge domain %u", t->sw_if_index, t->bd_id);
  if (t->vlan_popped >= 0 && k > 0 && (size_t)k < size)
    k += snprintf(out + k, size - (size_t)k, ", vlan %d popped", t->vlan_popped);
  return k;
}

/* Frames are 802.1Q-tagged on a sub-interface port: move the MACs over the
 * tag (12 bytes) rather than the payload. */
static inline void pop_tag(vg_buffer_t *b) {
  uint8_t *p = vg_buffer_current(b);
  memmove(p + 4, p, 12);
  vg_buffer_advance(b, 4);
  b->l2_hdr_offset = b->current_data;
  b->flags &= ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2);
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  vg_interface_t *itf = vg_interface_get(dp, b->sw_if_index[VG_RX]);
  if (VG_UNLIKELY(!itf || itf->bd_index == VG_NONE)) {
    b->error = vg_node_error(node, ERR_NOT_BRIDGED);
    return NEXT_DROP;
  }
  int popped = -1;
  if (VG_UNLIKELY(itf->sup_sw_if_index != itf->sw_if_index) && (b->flags & VG_BUF_VLAN_1)) {
    popped = b->vlan[0];
    pop_tag(b);
  }
  vg_l2_opaque_t *o = vg_l2_opaque(b);
  o->bd_index = itf->bd_index;
  o->shg = itf->shg;
  const vg_bd_t *bd = &dp->l2->bds[itf->bd_index];
  if (VG_UNLIKELY(vg_traced(b))) {
    l2_input_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    t->sw_if_index = itf->sw_if_index;
    t->bd_id = bd->bd_id;
    t->vlan_popped = popped;
  }
  return bd->learn ? NEXT_LEARN : NEXT_FWD;
}

static uint32_t l2_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_l2_input = {
    .name = "l2-input",
    .fn = l2_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "l2-learn", "l2-fwd", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        L2_INPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_l2_input_trace,
};
