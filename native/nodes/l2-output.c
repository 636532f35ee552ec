/* l2-output: a frame leaves its bridge domain by port b->sw_if_index[VG_TX].
 * A sub-interface port gets its 802.1Q tag pushed (into the headroom); the
 * BVI hands the frame to the routed side: ethernet-input with rx = the BVI. */
#include <stdio.h>

#include "../l2/bridge.h"

enum { NEXT_DROP, NEXT_OUTPUT, NEXT_BVI };

#define L2_OUTPUT_ERRORS(_) _(PORT_GONE, "tx port left the bridge domain")

enum {
#define _(sym, str) ERR_##sym,
  L2_OUTPUT_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t sw_if_index;
  int32_t vlan_pushed; /* -1: none */
  uint16_t next;
} l2_output_trace_t;

static int format_l2_output_trace(char *out, size_t size, const void *rec) {
  const l2_output_trace_t *t = rec;
  if (t->next == NEXT_BVI)
    return snprintf(out, size, "  to the BVI sw_if_index %u: routed side", t->sw_if_index);
  int k = snprintf(out, size, "  tx sw_if_index %u", t->sw_if_index);
  if (t->vlan_pushed >= 0 && k > 0 && (size_t)k < size)
    k += snprintf(out + k, size - (size_t)k, ", vlan %d pushed", t->vlan_pushed);
  return k;
}

static inline void push_tag(vg_buffer_t *b, uint16_t vlan) {
  vg_buffer_advance(b, -4);
  uint8_t *p = vg_buffer_current(b);
  memmove(p, p + 4, 12);
  p[12] = 0x81;
  p[13] = 0x00;
  p[14] = (uint8_t)(vlan >> 8);
  p[15] = (uint8_t)vlan;
}

static inline uint16_t output(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b,
                              int32_t *vlan) {
  uint32_t port = b->sw_if_index[VG_TX];
  vg_interface_t *itf = vg_interface_get(dp, port);
  if (VG_UNLIKELY(!itf || itf->bd_index != vg_l2_opaque(b)->bd_index)) {
    b->error = vg_node_error(node, ERR_PORT_GONE);
    return NEXT_DROP;
  }
  if (VG_UNLIKELY(itf->sup_sw_if_index != port)) {
    push_tag(b, itf->vlan);
    *vlan = itf->vlan;
  }
  if (VG_UNLIKELY(itf->is_bvi)) {
    b->sw_if_index[VG_RX] = port;
    b->sw_if_index[VG_TX] = VG_NONE;
    b->flags &= ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2);
    vg_if_count_rx(dp, th, port, 1, vg_buffer_length_in_chain(b));
    return NEXT_BVI;
  }
  return NEXT_OUTPUT;
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  int32_t vlan = -1;
  uint16_t next = output(dp, th, node, b, &vlan);
  if (VG_UNLIKELY(vg_traced(b))) {
    l2_output_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    t->sw_if_index = next == NEXT_BVI ? b->sw_if_index[VG_RX] : b->sw_if_index[VG_TX];
    t->vlan_pushed = vlan;
    t->next = next;
  }
  return next;
}

static uint32_t l2_output_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_l2_output = {
    .name = "l2-output",
    .fn = l2_output_fn,
    .next_nodes = (const char *const[]){"error-drop", "interface-output", "ethernet-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        L2_OUTPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_l2_output_trace,
};
