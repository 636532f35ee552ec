/* ethernet-input: parses the Ethernet II header and up to two 802.1Q/802.1ad
 * tags, records the L2/L3 offsets and the inner ethertype, and sends the
 * frame on by ethertype: to an interface the ethertype is redirected to, or
 * to error-drop under the reason it cannot go further. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/vg.h"

enum { NEXT_DROP, NEXT_OUTPUT, NEXT_L2, NEXT_IP4, NEXT_ARP };

#define ETHERNET_INPUT_ERRORS(_)                                   \
  _(RUNT, "frame shorter than an ethernet header")                \
  _(VLAN_TRUNCATED, "frame ends inside a VLAN tag")                \
  _(VLAN_TOO_MANY, "more than two VLAN tags")                      \
  _(LLC, "802.3 length field instead of an ethertype")             \
  _(NO_IP4, "IPv4 is not enabled on the interface")                \
  _(NO_ARP, "ARP on an interface without IPv4")                    \
  _(NO_IP6, "no IPv6 handler")                                     \
  _(UNKNOWN_TYPE, "unknown ethertype")                             \
  _(NO_SUBIF, "no sub-interface for the VLAN")                     \
  _(NOT_OUR_MAC, "destination MAC is not the interface's")

enum {
#define _(sym, str) ERR_##sym,
  ETHERNET_INPUT_ERRORS(_)
#undef _
  ERR_NONE
};

struct vg_ethernet_redirect {
  uint16_t ethertype;
  uint32_t sw_if_index;
};

typedef struct {
  uint8_t dst[6], src[6];
  uint16_t ethertype;
  uint16_t n_tags;
  uint16_t vlan[2];
  uint32_t length;
  uint32_t sw_if_index;
} ethernet_trace_t;

static int format_ethernet_trace(char *out, size_t size, const void *rec) {
  const ethernet_trace_t *t = rec;
  const uint8_t *s = t->src, *d = t->dst;
  int k = snprintf(out, size,
                   "  0x%04x: %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x",
                   t->ethertype, s[0], s[1], s[2], s[3], s[4], s[5], d[0], d[1], d[2], d[3], d[4],
                   d[5]);
  for (uint16_t i = 0; i < t->n_tags && k > 0 && (size_t)k < size; i++)
    k += snprintf(out + k, size - (size_t)k, " vlan %u", t->vlan[i]);
  if (k > 0 && (size_t)k < size)
    k += snprintf(out + k, size - (size_t)k, ", %u bytes, rx sw_if_index %u", t->length,
                  t->sw_if_index);
  return k;
}

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline int is_vlan_tpid(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

/* Returns ERR_NONE when the frame is parsed; fills ethertype and L2 length. */
static inline uint32_t parse(vg_buffer_t *b, const uint8_t *p) {
  uint32_t len = b->current_length;
  if (VG_UNLIKELY(len < 14)) return ERR_RUNT;
  uint16_t type = be16(p + 12);
  uint32_t l2 = 14;
  if (VG_UNLIKELY(is_vlan_tpid(type))) {
    for (int tag = 0; is_vlan_tpid(type); tag++) {
      if (tag == 2) return ERR_VLAN_TOO_MANY;
      if (len < l2 + 4) return ERR_VLAN_TRUNCATED;
      b->vlan[tag] = be16(p + l2) & 0x0fff;
      b->flags |= tag ? VG_BUF_VLAN_2 : VG_BUF_VLAN_1;
      type = be16(p + l2 + 2);
      l2 += 4;
    }
  }
  b->ethertype = type;
  b->l2_hdr_offset = b->current_data;
  b->l3_hdr_offset = (int16_t)(b->current_data + l2);
  if (VG_UNLIKELY(type < 0x0600)) return ERR_LLC;
  return ERR_NONE;
}

/* A tagged frame belongs to the sub-interface of its outer VLAN; returns
 * that port, or VG_NONE when the parent has none for it. Counted as rx on
 * the sub-interface (the device counted it on the parent). */
static uint32_t sub_interface(vg_main_t *dp, vg_thread_t *th, vg_buffer_t *b) {
  vg_interface_t *parent = vg_interface_get(dp, b->sw_if_index[VG_RX]);
  if (!parent || !parent->sub_by_vlan) return VG_NONE;
  uint32_t sub = parent->sub_by_vlan[b->vlan[0]];
  if (sub != VG_NONE) {
    b->sw_if_index[VG_RX] = sub;
    vg_if_count_rx(dp, th, sub, 1, vg_buffer_length_in_chain(b));
  }
  return sub;
}

static inline uint16_t classify(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b,
                                uint32_t err) {
  if (VG_UNLIKELY(b->flags & VG_BUF_VLAN_1) && err == ERR_NONE && sub_interface(dp, th, b) == VG_NONE)
    err = dp->n_eth_redirect ? ERR_NONE : ERR_NO_SUBIF; /* a redirect takes any frame */
  if (VG_LIKELY(err == ERR_NONE)) {
    vg_interface_t *itf = dp->interfaces[b->sw_if_index[VG_RX]];
    /* A frame on a bridge port belongs to its domain, whatever its
     * ethertype; the BVI is the domain's routed side, so its frames stay. */
    if (itf->bd_index != VG_NONE && !itf->is_bvi) return NEXT_L2;
    for (uint32_t r = 0; VG_UNLIKELY(r < dp->n_eth_redirect); r++)
      if (dp->eth_redirect[r].ethertype == b->ethertype) {
        b->sw_if_index[VG_TX] = dp->eth_redirect[r].sw_if_index;
        return NEXT_OUTPUT;
      }
    switch (b->ethertype) {
    case 0x0800: err = itf->ip4_enabled ? ERR_NONE : ERR_NO_IP4; break;
    case 0x0806: err = itf->ip4_enabled ? ERR_NONE : ERR_NO_ARP; break;
    case 0x86dd: err = ERR_NO_IP6; break;
    default: err = ERR_UNKNOWN_TYPE; break;
    }
    if (err == ERR_NONE) {
      /* A routed port takes frames for its MAC, broadcast and multicast. */
      const uint8_t *dmac = vg_buffer_data(b) + b->l2_hdr_offset;
      uint32_t d4, m4;
      uint16_t d2, m2;
      memcpy(&d4, dmac, 4), memcpy(&m4, itf->mac, 4), memcpy(&d2, dmac + 4, 2), memcpy(&m2, itf->mac + 4, 2);
      if (VG_UNLIKELY(!(dmac[0] & 1) && ((d4 ^ m4) | (uint32_t)(d2 ^ m2)))) err = ERR_NOT_OUR_MAC;
      else {
        vg_buffer_advance(b, b->l3_hdr_offset - b->current_data);
        return b->ethertype == 0x0800 ? NEXT_IP4 : NEXT_ARP;
      }
    }
  }
  b->error = vg_node_error(node, err);
  return NEXT_DROP;
}

static void trace_frame(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, const uint8_t *p) {
  ethernet_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
  if (b->current_length >= 12) {
    memcpy(t->dst, p, 6);
    memcpy(t->src, p + 6, 6);
  }
  t->ethertype = b->ethertype;
  t->n_tags = (b->flags & VG_BUF_VLAN_2) ? 2 : (b->flags & VG_BUF_VLAN_1) ? 1 : 0;
  t->vlan[0] = b->vlan[0];
  t->vlan[1] = b->vlan[1];
  t->length = vg_buffer_length_in_chain(b);
  t->sw_if_index = b->sw_if_index[VG_RX];
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  const uint8_t *p = vg_buffer_current(b);
  uint32_t err = parse(b, p);
  if (VG_UNLIKELY(err != ERR_NONE)) vg_if_count_rx_error(dp, th, b->sw_if_index[VG_RX]);
  uint16_t next = classify(dp, th, node, b, err);
  if (VG_UNLIKELY(vg_traced(b))) trace_frame(th, node, b, p);
  return next;
}

static uint32_t ethernet_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 1);
}

int vg_ethernet_redirect(vg_dp_t *dp, uint16_t ethertype, uint32_t tx_sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = 0;
  uint32_t r = 0;
  while (r < dp->n_eth_redirect && dp->eth_redirect[r].ethertype != ethertype) r++;
  if (tx_sw_if_index != UINT32_MAX && !vg_interface_get(dp, tx_sw_if_index)) {
    rc = vg_error(VG_E_NOTFOUND, "redirect 0x%04x: no interface with sw_if_index %u", ethertype,
                  tx_sw_if_index);
  } else if (tx_sw_if_index == UINT32_MAX && r == dp->n_eth_redirect) {
    rc = vg_error(VG_E_NOTFOUND, "ethertype 0x%04x is not redirected", ethertype);
  } else if (tx_sw_if_index != UINT32_MAX && r == dp->n_eth_redirect && r == 64) {
    rc = vg_error(VG_E_LIMIT, "at most 64 ethertype redirects");
  } else {
    vg_barrier_sync(dp);
    if (!dp->eth_redirect) dp->eth_redirect = calloc(64, sizeof *dp->eth_redirect);
    if (!dp->eth_redirect) rc = vg_error(VG_E_NOMEM, "redirect table");
    else if (tx_sw_if_index == UINT32_MAX) dp->eth_redirect[r] = dp->eth_redirect[--dp->n_eth_redirect];
    else {
      dp->eth_redirect[r] = (struct vg_ethernet_redirect){ethertype, tx_sw_if_index};
      if (r == dp->n_eth_redirect) dp->n_eth_redirect++;
    }
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

const vg_node_reg_t vg_node_ethernet_input = {
    .name = "ethernet-input",
    .fn = ethernet_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "interface-output", "l2-input", "ip4-input",
                                        "arp-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        ETHERNET_INPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_ethernet_trace,
};
