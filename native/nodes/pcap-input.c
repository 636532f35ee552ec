/* pcap-input: replays the rx file of each pcap interface into
 * ethernet-input, a frame at a time per interface, as fast as the graph
 * takes it, looping as often as the interface asks. */
#include <stdio.h>
#include <string.h>

#include "../interfaces/pcap.h"

enum { NEXT_ETHERNET };

typedef struct {
  uint32_t record;
  uint32_t length;
  uint32_t sw_if_index;
} pcap_trace_t;

static int format_pcap_trace(char *out, size_t size, const void *rec) {
  const pcap_trace_t *t = rec;
  return snprintf(out, size, "  pcap record %u, %u bytes, rx sw_if_index %u", t->record, t->length,
                  t->sw_if_index);
}

static uint32_t replay(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_interface_t *itf) {
  vg_pcap_dev_t *dev = itf->dev;
  vg_pcap_file_t *f = dev->rx;
  uint32_t bi[VG_FRAME_SIZE];
  uint32_t want = f->n_records - dev->rx_next;
  if (want > VG_FRAME_SIZE) want = VG_FRAME_SIZE;
  uint32_t n = vg_buffer_alloc(th, bi, want);
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t r = dev->rx_next++;
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    memset(b, 0, sizeof *b);
    b->sw_if_index[VG_RX] = itf->sw_if_index;
    b->sw_if_index[VG_TX] = UINT32_MAX;
    vg_buffer_append(th, bi[i], f->data + f->offsets[r], f->lengths[r]);
    bytes += vg_buffer_length_in_chain(b);
    vg_trace_maybe_start(th, node, b);
    if (VG_UNLIKELY(vg_traced(b))) {
      pcap_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
      *t = (pcap_trace_t){r + 1, f->lengths[r], itf->sw_if_index};
    }
  }
  if (dev->rx_next == f->n_records) {
    dev->rx_next = 0;
    dev->rx_loop++;
    if (dev->rx_loops && dev->rx_loop >= dev->rx_loops) dev->rx_done = 1;
  }
  vg_input_enqueue(dp, th, node->next[NEXT_ETHERNET], bi, n);
  vg_if_count_rx(dp, th, itf->sw_if_index, n, bytes);
  return n;
}

static uint32_t pcap_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  (void)f;
  uint32_t total = 0;
  if (th->index != 0) return 0; /* pcap replay belongs to the first thread */
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (!itf || !vg_pcap_is_pcap(itf) || !itf->admin_up) continue;
    vg_pcap_dev_t *dev = itf->dev;
    if (!dev->rx || dev->rx_done || !dev->rx->n_records) continue;
    total += replay(dp, th, node, itf);
  }
  return total;
}

const vg_node_reg_t vg_node_pcap_input = {
    .name = "pcap-input",
    .fn = pcap_input_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){"ethernet-input", NULL},
    .errors = (const char *const[]){NULL},
    .format_trace = format_pcap_trace,
};
