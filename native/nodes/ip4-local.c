/* ip4-local: packets for the box itself. ICMP echo requests are answered
 * here, in the graph; echo replies to the box's own pings are handed to
 * the ping API (ip4/ping.c); UDP to a VXLAN tunnel's port goes to
 * vxlan-input; ESP (protocol 50, and UDP to the port of an inbound
 * UDP-encapsulated SA) to esp-decrypt; UDP to a port nothing listens on
 * gets ICMP port unreachable; other protocols get protocol unreachable.
 * Fragments go to ip4-reassembly first, which sends their datagram back
 * here whole. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../interfaces/vxlan.h"
#include "../ip4/ping.h"
#include "../ipsec/ipsec.h"

enum { NEXT_DROP, NEXT_LOOKUP, NEXT_ICMP_ERROR, NEXT_VXLAN, NEXT_ESP, NEXT_REASSEMBLY };

#define IP4_LOCAL_ERRORS(_)                                        \
  _(ECHO_REPLIED, "echo requests answered")                       \
  _(ECHO_REPLY_IN, "echo replies received")                       \
  _(ECHO_REPLY_PING, "echo replies to our pings")                 \
  _(ICMP_SHORT, "ICMP message too short")                         \
  _(ICMP_CHAINED, "ICMP message larger than one buffer (not answered)") \
  _(ICMP_CHECKSUM, "bad ICMP checksum")                           \
  _(ICMP_OTHER, "ICMP type not handled")                          \
  _(UDP_CLOSED, "UDP to a closed port")                           \
  _(TCP, "TCP to this box (no listener)")                         \
  _(PROTO, "protocol not handled")

enum {
#define _(sym, str) ERR_##sym,
  IP4_LOCAL_ERRORS(_)
#undef _
};

typedef struct {
  uint8_t proto, icmp_type;
  uint32_t src;
} local_trace_t;

static int format_local_trace(char *out, size_t size, const void *rec) {
  const local_trace_t *t = rec;
  uint32_t a = t->src;
  return snprintf(out, size, "  from %u.%u.%u.%u proto %u%s", a >> 24, (a >> 16) & 0xff,
                  (a >> 8) & 0xff, a & 0xff, t->proto, t->proto == 1 && t->icmp_type == 8 ? " (echo request)" : "");
}

static uint16_t drop(vg_node_t *node, vg_buffer_t *b, uint32_t err) {
  b->error = vg_node_error(node, err);
  return NEXT_DROP;
}

static uint16_t icmp(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, uint8_t *ip,
                     uint32_t hl) {
  uint32_t total = (uint32_t)(ip[2] << 8 | ip[3]);
  if (total < hl + 8) return drop(node, b, ERR_ICMP_SHORT);
  if (b->flags & VG_BUF_NEXT_PRESENT) return drop(node, b, ERR_ICMP_CHAINED);
  uint8_t *m = ip + hl;
  if (vg_csum_fold(vg_csum_add(0, m, total - hl)) != 0) return drop(node, b, ERR_ICMP_CHECKSUM);
  if (m[0] == 0) { /* consumed */
    if (dp->ping && m[1] == 0 && vg_ping_reply_in(dp, ip, hl, total)) return drop(node, b, ERR_ECHO_REPLY_PING);
    return drop(node, b, ERR_ECHO_REPLY_IN);
  }
  if (m[0] != 8 || m[1] != 0) return drop(node, b, ERR_ICMP_OTHER);
  /* The reply: swap the addresses, type 8 -> 0 (checksum word 0x0800 less). */
  uint8_t a[4];
  memcpy(a, ip + 12, 4);
  memcpy(ip + 12, ip + 16, 4);
  memcpy(ip + 16, a, 4);
  ip[8] = 64;
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, hl)));
  m[0] = 0;
  uint32_t c = (uint32_t)(m[2] << 8 | m[3]) + 0x0800;
  c = (c & 0xffff) + (c >> 16);
  vg_put_be16(m + 2, (uint16_t)c);
  vg_node_count_error(th, node, ERR_ECHO_REPLIED, 1);
  return NEXT_LOOKUP;
}

static uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  uint8_t *ip = vg_buffer_current(b);
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
  if (VG_UNLIKELY(vg_traced(b))) {
    local_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    *t = (local_trace_t){ip[9], b->current_length > hl ? ip[hl] : 0, vg_rd_be32(ip + 12)};
  }
  if ((ip[6] & 0x3f) || ip[7]) return NEXT_REASSEMBLY;
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  switch (ip[9]) {
  case 1: return icmp(dp, th, node, b, ip, hl);
  case 6: return drop(node, b, ERR_TCP);
  case 50: return NEXT_ESP;
  case 17:
    if (dp->vxlan && b->current_length >= hl + 8 &&
        vg_vxlan_port_used(dp->vxlan, (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3])))
      return NEXT_VXLAN;
    if (dp->ipsec && b->current_length >= hl + 8 &&
        vg_esp_udp_port_used(dp->ipsec, (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3])))
      return NEXT_ESP;
    b->error = vg_node_error(node, ERR_UDP_CLOSED);
    o->icmp_type = 3, o->icmp_code = 3;
    return NEXT_ICMP_ERROR;
  default:
    b->error = vg_node_error(node, ERR_PROTO);
    o->icmp_type = 3, o->icmp_code = 2;
    return NEXT_ICMP_ERROR;
  }
}

static uint32_t ip4_local_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 0);
}

const vg_node_reg_t vg_node_ip4_local = {
    .name = "ip4-local",
    .fn = ip4_local_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", "ip4-icmp-error", "vxlan-input",
                                        "esp-decrypt", "ip4-reassembly", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        IP4_LOCAL_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_local_trace,
};
