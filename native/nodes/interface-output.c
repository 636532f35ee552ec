/* interface-output: hands each packet to the device of its tx interface
 * (b->sw_if_index[VG_TX]), a run of same-interface packets at a time. */
#include <stdio.h>

#include "../engine/vg.h"

enum { NEXT_DROP };
enum { ERR_NO_INTERFACE, ERR_ADMIN_DOWN, ERR_NO_TX };

typedef struct {
  uint32_t sw_if_index;
  uint32_t length;
} output_trace_t;

static int format_output_trace(char *out, size_t size, const void *rec) {
  const output_trace_t *t = rec;
  return snprintf(out, size, "  tx sw_if_index %u, %u bytes", t->sw_if_index, t->length);
}

static void send_run(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, uint32_t *bi, uint32_t n,
                     uint32_t sw) {
  vg_interface_t *itf = vg_interface_get(dp, sw);
  /* A sub-interface's frames already carry its tag: they leave through the
   * parent's device, counted on both. */
  vg_interface_t *dev = itf && itf->sup_sw_if_index != sw ? vg_interface_get(dp, itf->sup_sw_if_index) : itf;
  uint32_t err = !itf || !dev ? ERR_NO_INTERFACE : !itf->admin_up || !dev->admin_up ? ERR_ADMIN_DOWN
               : !dev->tx ? ERR_NO_TX : UINT32_MAX;
  if (err == UINT32_MAX) {
    if (dev != itf) {
      uint64_t bytes = 0;
      for (uint32_t i = 0; i < n; i++) bytes += vg_buffer_length_in_chain(vg_buffer(dp, bi[i]));
      vg_if_count_tx(dp, th, sw, n, bytes);
    }
    vg_pcap_maybe_capture(dp, VG_PCAP_TX, bi, n, dev->sw_if_index);
    dev->tx(dp, th, dev, bi, n);
    return;
  }
  for (uint32_t i = 0; i < n; i++) vg_buffer(dp, bi[i])->error = vg_node_error(node, err);
  vg_enqueue_next(th, node, NEXT_DROP, bi, n);
}

static uint32_t interface_output_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node,
                                    vg_frame_t *f) {
  uint32_t n = f->n, start = 0, sw = 0;
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    if (VG_UNLIKELY(vg_traced(b))) {
      output_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
      t->sw_if_index = b->sw_if_index[VG_TX];
      t->length = vg_buffer_length_in_chain(b);
    }
    if (i == 0) sw = b->sw_if_index[VG_TX];
    else if (b->sw_if_index[VG_TX] != sw) {
      send_run(dp, th, node, f->bi + start, i - start, sw);
      start = i;
      sw = b->sw_if_index[VG_TX];
    }
  }
  if (n) send_run(dp, th, node, f->bi + start, n - start, sw);
  return n;
}

const vg_node_reg_t vg_node_interface_output = {
    .name = "interface-output",
    .fn = interface_output_fn,
    .next_nodes = (const char *const[]){"error-drop", NULL},
    .errors = (const char *const[]){"no such tx interface", "interface is admin down",
                                    "interface cannot transmit", NULL},
    .format_trace = format_output_trace,
};
