/* ip4-icmp-error: turns a packet that cannot be delivered into the ICMP
 * error that tells its sender (time exceeded, unreachable, fragmentation
 * needed), quoting its header and first bytes, and routes the error back.
 * Never about an ICMP error, a fragment after the first, or a packet from a
 * multicast, broadcast or zero source; and rate-limited per thread. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_LOOKUP };
enum { ERR_SENT, ERR_RATE, ERR_NOT_ALLOWED, ERR_NO_SOURCE };

#define RATE_PER_S 1000
#define BURST 100
#define MAX_ERROR_BYTES 576 /* RFC 1812: as much of the original as fits */

typedef struct {
  uint8_t type, code;
  uint32_t to;
} icmp_error_trace_t;

static int format_icmp_error_trace(char *out, size_t size, const void *rec) {
  const icmp_error_trace_t *t = rec;
  uint32_t a = t->to;
  return snprintf(out, size, "  ICMP type %u code %u to %u.%u.%u.%u", t->type, t->code, a >> 24,
                  (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static _Thread_local struct {
  uint64_t last_ns;
  double tokens;
} bucket = {0, BURST};

static int rate_ok(uint64_t now) {
  bucket.tokens += (double)(now - bucket.last_ns) * RATE_PER_S / 1e9;
  if (bucket.tokens > BURST) bucket.tokens = BURST;
  bucket.last_ns = now;
  if (bucket.tokens < 1) return 0;
  bucket.tokens -= 1;
  return 1;
}

static int allowed(const uint8_t *ip, uint32_t len) {
  if (len < 20) return 0;
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, src = vg_rd_be32(ip + 12), dst = vg_rd_be32(ip + 16);
  if (src == 0 || src >= 0xe0000000u || dst >= 0xe0000000u) return 0;
  if ((ip[6] & 0x1f) || ip[7]) return 0; /* not the first fragment */
  if (ip[9] == 1 && len >= hl + 1) {
    uint8_t type = ip[hl];
    if (type != 0 && type != 8 && type != 13 && type != 14) return 0; /* an error itself */
  }
  return 1;
}

/* A slow path (rate-limited): the clock per packet costs nothing here. */
static uint16_t one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b) {
  uint64_t now = vg_time_ns();
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  th->errors[b->error]++; /* why the error is sent: the node that found the fault set it */
  uint8_t *orig = vg_buffer_current(b);
  if (!allowed(orig, b->current_length)) {
    b->error = vg_node_error(node, ERR_NOT_ALLOWED);
    return NEXT_DROP;
  }
  uint32_t src;
  if (!vg_if_ip4_for_peer(dp, b->sw_if_index[VG_RX], vg_rd_be32(orig + 12), &src)) {
    b->error = vg_node_error(node, ERR_NO_SOURCE);
    return NEXT_DROP;
  }
  if (!rate_ok(now)) {
    b->error = vg_node_error(node, ERR_RATE);
    return NEXT_DROP;
  }
  uint32_t quote = (uint32_t)(orig[2] << 8 | orig[3]);
  if (quote > b->current_length) quote = b->current_length;
  if (quote > MAX_ERROR_BYTES - 28) quote = MAX_ERROR_BYTES - 28;
  vg_buffer_free_tail(th, b); /* the quote fits the head */
  uint32_t to = vg_rd_be32(orig + 12);
  vg_buffer_advance(b, -28);
  b->current_length = (uint16_t)(28 + quote);
  uint8_t *ip = vg_buffer_current(b), *icmp = ip + 20;
  memset(ip, 0, 28);
  ip[0] = 0x45;
  vg_put_be16(ip + 2, (uint16_t)(28 + quote));
  ip[8] = 64;
  ip[9] = 1;
  vg_wr_be32(ip + 12, src);
  vg_wr_be32(ip + 16, to);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  icmp[0] = o->icmp_type;
  icmp[1] = o->icmp_code;
  if (o->icmp_type == 3 && o->icmp_code == 4) vg_put_be16(icmp + 6, o->icmp_data);
  vg_put_be16(icmp + 2, vg_csum_fold(vg_csum_add(0, icmp, 8 + quote)));
  b->l3_hdr_offset = b->current_data;
  vg_node_count_error(th, node, ERR_SENT, 1);
  if (VG_UNLIKELY(vg_traced(b))) {
    icmp_error_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    *t = (icmp_error_trace_t){o->icmp_type, o->icmp_code, to};
  }
  return NEXT_LOOKUP;
}

static uint32_t icmp_error_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  return vg_node_each(dp, th, node, f, one, 1);
}

const vg_node_reg_t vg_node_ip4_icmp_error = {
    .name = "ip4-icmp-error",
    .fn = icmp_error_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", NULL},
    .errors = (const char *const[]){"ICMP errors sent", "ICMP error rate-limited",
                                    "no ICMP error for this packet (RFC 1812)",
                                    "no address to send the ICMP error from", NULL},
    .format_trace = format_icmp_error_trace,
};
