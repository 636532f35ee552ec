/* af-packet-input: drains the TPACKET_V3 rx ring of each af_packet interface
 * into ethernet-input, up to a frame of packets per interface per call.
 * Blocks are handed back to the kernel as soon as their last packet is
 * copied; a block drained halfway stays ours until the next call. */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>

#include "../interfaces/af-packet.h"

enum { NEXT_ETHERNET };

typedef struct {
  uint32_t sw_if_index;
  uint32_t length;
  uint16_t vlan_tci; /* a tag the kernel had taken off, put back */
  uint16_t vlan_valid;
} af_packet_trace_t;

static int format_af_packet_trace(char *out, size_t size, const void *rec) {
  const af_packet_trace_t *t = rec;
  int k = snprintf(out, size, "  af_packet rx sw_if_index %u, %u bytes", t->sw_if_index, t->length);
  if (t->vlan_valid && k > 0 && (size_t)k < size)
    k += snprintf(out + k, size - (size_t)k, ", vlan tci 0x%04x restored", t->vlan_tci);
  return k;
}

#define RX_SLL_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

/* The kernel moves the outer VLAN tag into tp_vlan_tci; sub-interfaces
 * need it in the frame, so it goes back between the MACs and the type. */
static int copy_frame(vg_thread_t *th, uint32_t bi, const struct tpacket3_hdr *h) {
  const uint8_t *p = (const uint8_t *)h + h->tp_mac;
  uint32_t len = h->tp_snaplen;
  if (VG_LIKELY(!(h->tp_status & TP_STATUS_VLAN_VALID)) || len < 12)
    return vg_buffer_append(th, bi, p, len);
  uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
  uint8_t tag[4] = {(uint8_t)(tpid >> 8), (uint8_t)tpid, (uint8_t)(h->hv1.tp_vlan_tci >> 8),
                    (uint8_t)h->hv1.tp_vlan_tci};
  int rc = vg_buffer_append(th, bi, p, 12);
  if (!rc) rc = vg_buffer_append(th, bi, tag, 4);
  if (!rc) rc = vg_buffer_append(th, bi, p + 12, len - 12);
  return rc;
}

static uint32_t drain(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_interface_t *itf) {
  vg_af_packet_dev_t *dev = itf->dev;
  struct tpacket_block_desc *bd =
      (void *)(dev->rx + (size_t)dev->rx_block * dev->rx_block_size);
  if (!dev->rx_left && !(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
                         TP_STATUS_USER))
    return 0;
  uint32_t bi[VG_FRAME_SIZE];
  uint32_t n_alloc = vg_buffer_alloc(th, bi, VG_FRAME_SIZE), n = 0, seen = 0;
  uint32_t truncated = 0, no_buffer = 0;
  uint64_t bytes = 0;
  while (seen < VG_FRAME_SIZE) {
    if (!dev->rx_left) {
      bd = (void *)(dev->rx + (size_t)dev->rx_block * dev->rx_block_size);
      if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
        break;
      dev->rx_left = bd->hdr.bh1.num_pkts;
      dev->rx_offset = bd->hdr.bh1.offset_to_first_pkt;
    }
    if (dev->rx_left) {
      const struct tpacket3_hdr *h = (const void *)((uint8_t *)bd + dev->rx_offset);
      const struct sockaddr_ll *sll = (const void *)((const uint8_t *)h + RX_SLL_OFF);
      dev->rx_offset += h->tp_next_offset;
      dev->rx_left--;
      if (dev->rx_left) VG_PREFETCH((uint8_t *)bd + dev->rx_offset);
      seen++;
      if (VG_UNLIKELY(sll->sll_pkttype == PACKET_OUTGOING)) {
        /* our own tx, on kernels without PACKET_IGNORE_OUTGOING */
      } else if (VG_UNLIKELY(h->tp_snaplen < h->tp_len)) {
        truncated++;
      } else if (VG_UNLIKELY(n == n_alloc)) {
        no_buffer++;
      } else {
        vg_buffer_t *b = vg_buffer(dp, bi[n]);
        memset(b, 0, sizeof *b);
        b->sw_if_index[VG_RX] = itf->sw_if_index;
        b->sw_if_index[VG_TX] = VG_NONE;
        if (VG_UNLIKELY(copy_frame(th, bi[n], h) != 0)) {
          /* The pool ran dry inside a chain: free it, the last spare
           * buffer takes its place. */
          vg_buffer_free(th, &bi[n], 1);
          bi[n] = bi[--n_alloc];
          no_buffer++;
        } else {
          uint32_t len = vg_buffer_length_in_chain(b);
          bytes += len;
          vg_trace_maybe_start(th, node, b);
          if (VG_UNLIKELY(vg_traced(b))) {
            af_packet_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
            *t = (af_packet_trace_t){itf->sw_if_index, len, h->hv1.tp_vlan_tci,
                                     !!(h->tp_status & TP_STATUS_VLAN_VALID)};
          }
          n++;
        }
      }
    }
    if (!dev->rx_left) {
      __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      dev->rx_block = dev->rx_block + 1 == dev->rx_n_blocks ? 0 : dev->rx_block + 1;
    }
  }
  if (n_alloc > n) vg_buffer_free(th, bi + n, n_alloc - n);
  if (truncated) vg_node_count_error(th, node, AF_PACKET_ERR_TRUNCATED, truncated);
  if (no_buffer) vg_node_count_error(th, node, AF_PACKET_ERR_NO_BUFFER, no_buffer);
  if (truncated + no_buffer) vg_if_count_drop(dp, th, itf->sw_if_index, truncated + no_buffer);
  vg_input_enqueue(dp, th, node->next[NEXT_ETHERNET], bi, n);
  vg_if_count_rx(dp, th, itf->sw_if_index, n, bytes);
  return n;
}

static uint32_t af_packet_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node,
                                   vg_frame_t *f) {
  (void)f;
  uint32_t total = 0;
  if (th->index != 0) return 0; /* each ring has one reader: the first thread */
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (itf && itf->admin_up && vg_af_packet_is(itf)) total += drain(dp, th, node, itf);
  }
  return total;
}

const vg_node_reg_t vg_node_af_packet_input = {
    .name = "af-packet-input",
    .fn = af_packet_input_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){"ethernet-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        AF_PACKET_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_af_packet_trace,
};
