/* vxlan-input: UDP to a VXLAN tunnel's port for an address of the box
 * (from ip4-local, the buffer at the outer IPv4 header). Checks the VXLAN
 * header, finds the tunnel by (VRF, local address, remote address, VNI,
 * port), strips the outer headers and hands the inner Ethernet frame to
 * ethernet-input as received on the tunnel: bridged when the tunnel is a
 * bridge-domain port, routed when it is an L3 interface. */
#include <stdio.h>
#include <string.h>

#include "../interfaces/vxlan.h"
#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_ETHERNET };

#define VXLAN_INPUT_ERRORS(_)                                                     \
  _(DECAPSULATED, "frames decapsulated")                                         \
  _(TOO_SHORT, "too short for VXLAN and inner ethernet")          \
  _(NO_I_FLAG, "bad flags: I flag clear (no valid VNI)")                         \
  _(RESERVED_FLAGS, "bad flags: reserved flag bits set")                         \
  _(NO_TUNNEL, "no tunnel for (src, dst, vni)")                                  \
  _(ADMIN_DOWN, "tunnel interface is admin down")

enum {
#define _(sym, str) ERR_##sym,
  VXLAN_INPUT_ERRORS(_)
#undef _
};

typedef struct {
  uint32_t src, dst, vni, sw_if_index, length;
  uint8_t flags, error; /* error: ERR_* */
} input_trace_t;

static const char *const errors[] = {
#define _(sym, str) str,
    VXLAN_INPUT_ERRORS(_)
#undef _
};

static int format_input_trace(char *out, size_t size, const void *rec) {
  const input_trace_t *t = rec;
  uint32_t s = t->src, d = t->dst;
  int k = snprintf(out, size, "  vxlan %u.%u.%u.%u -> %u.%u.%u.%u flags 0x%02x vni %u: ", s >> 24,
                   (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, d >> 24, (d >> 16) & 0xff,
                   (d >> 8) & 0xff, d & 0xff, t->flags, t->vni);
  if (k < 0 || (size_t)k >= size) return k;
  if (t->error != ERR_DECAPSULATED)
    return k + snprintf(out + k, size - (size_t)k, "dropped, %s", errors[t->error]);
  return k + snprintf(out + k, size - (size_t)k, "tunnel sw_if_index %u, %u bytes inner",
                      t->sw_if_index, t->length);
}

/* What a frame's packets share: they mostly come from one tunnel, so the
 * previous packet's tunnel is tried before the hash, and the tunnel's rx
 * counters are added once per run of its packets rather than per packet. */
typedef struct {
  vg_vxlan_tunnel_t *t; /* the previous packet's tunnel, NULL at first */
  uint32_t fib_index;   /* the VRF it was found in */
  uint32_t packets;     /* decapsulated into t and not yet counted */
  uint64_t bytes;
  uint32_t decapsulated;
} frame_state_t;

static inline void count_rx(vg_main_t *dp, vg_thread_t *th, frame_state_t *fs) {
  if (fs->packets) vg_if_count_rx(dp, th, fs->t->sw_if_index, fs->packets, fs->bytes);
  fs->packets = 0;
  fs->bytes = 0;
}

static inline vg_vxlan_tunnel_t *find(vg_main_t *dp, vg_thread_t *th, frame_state_t *fs,
                                      uint32_t fib_index, uint32_t local, uint32_t remote,
                                      uint32_t vni, uint16_t dport) {
  vg_vxlan_tunnel_t *t = fs->t;
  if (VG_LIKELY(t && t->src == local && t->dst == remote && t->vni == vni &&
                fs->fib_index == fib_index && t->dport == dport))
    return t;
  t = vg_vxlan_find(dp->vxlan, fib_index, local, remote, vni, dport);
  if (t) {
    count_rx(dp, th, fs);
    fs->t = t;
    fs->fib_index = fib_index;
  }
  return t;
}

static inline uint32_t decap(vg_main_t *dp, vg_thread_t *th, frame_state_t *fs, vg_buffer_t *b,
                             input_trace_t *tr) {
  uint8_t *ip = vg_buffer_current(b);
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
  uint32_t total = (uint32_t)(ip[2] << 8 | ip[3]);
  tr->src = vg_rd_be32(ip + 12);
  tr->dst = vg_rd_be32(ip + 16);
  /* The headers must lie in the first buffer; the inner frame may go on. */
  if (VG_UNLIKELY(total < hl + 16 + 14 || b->current_length < hl + 16)) return ERR_TOO_SHORT;
  const uint8_t *udp = ip + hl, *vx = udp + 8;
  tr->flags = vx[0];
  tr->vni = vg_rd_be32(vx + 4) >> 8;
  if (VG_UNLIKELY(!(vx[0] & 0x08))) return ERR_NO_I_FLAG;
  if (VG_UNLIKELY(vx[0] != 0x08)) return ERR_RESERVED_FLAGS;
  uint16_t dport = (uint16_t)(udp[2] << 8 | udp[3]);
  vg_vxlan_tunnel_t *t = find(dp, th, fs, vg_ip4_opaque(b)->fib_index, tr->dst, tr->src, tr->vni, dport);
  if (VG_UNLIKELY(!t)) return ERR_NO_TUNNEL;
  vg_interface_t *itf = dp->interfaces[t->sw_if_index];
  tr->sw_if_index = t->sw_if_index;
  if (VG_UNLIKELY(!itf->admin_up)) return ERR_ADMIN_DOWN;
  /* Ethernet padding after the outer packet is not part of the inner frame. */
  uint32_t inner = total - hl - 16;
  vg_buffer_advance(b, (int)(hl + 16));
  if (!(b->flags & VG_BUF_NEXT_PRESENT) && b->current_length > inner) b->current_length = (uint16_t)inner;
  b->flags &= ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2);
  b->sw_if_index[VG_RX] = t->sw_if_index;
  b->sw_if_index[VG_TX] = VG_NONE;
  tr->length = vg_buffer_length_in_chain(b);
  fs->packets++;
  fs->bytes += tr->length;
  return ERR_DECAPSULATED;
}

static inline uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, frame_state_t *fs,
                           vg_buffer_t *b) {
  input_trace_t tr = {0};
  uint32_t err = decap(dp, th, fs, b, &tr);
  tr.error = (uint8_t)err;
  if (VG_UNLIKELY(vg_traced(b))) *(input_trace_t *)vg_trace_record(th, node, b, sizeof tr) = tr;
  if (VG_LIKELY(err == ERR_DECAPSULATED)) {
    fs->decapsulated++;
    return NEXT_ETHERNET;
  }
  b->error = vg_node_error(node, err);
  return NEXT_DROP;
}

/* vg_node_each's loop, with the frame's state beside each packet. */
static uint32_t vxlan_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  uint16_t next[VG_FRAME_SIZE];
  frame_state_t fs = {0};
  uint32_t n = f->n;
  for (uint32_t i = 0; i < n; i++) {
    if (i + 8 < n) {
      vg_buffer_t *ahead = vg_buffer(dp, f->bi[i + 8]);
      VG_PREFETCH_W(ahead);
      VG_PREFETCH_W(vg_buffer_current(ahead));
    }
    next[i] = one(dp, th, node, &fs, vg_buffer(dp, f->bi[i]));
  }
  count_rx(dp, th, &fs);
  vg_node_count_error(th, node, ERR_DECAPSULATED, fs.decapsulated);
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}

const vg_node_reg_t vg_node_vxlan_input = {
    .name = "vxlan-input",
    .fn = vxlan_input_fn,
    .next_nodes = (const char *const[]){"error-drop", "ethernet-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        VXLAN_INPUT_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_input_trace,
};
