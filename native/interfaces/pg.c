/* The packet generator: streams described by one spec string.
 *
 * Grammar: space-separated key=value pairs.
 *   name=NAME          required, unique
 *   if=NAME            rx interface the packets appear on (default pg0; created if missing)
 *   node=NAME          graph node that takes the packets (default ethernet-input)
 *   worker=N           dataplane thread that generates them (default 0)
 *   size=N | MIN-MAX   frame bytes without FCS, a range increments per packet (default 64)
 *   count=N            packets to send, 0 = forever (default 0); k/M/G suffixes
 *   rate=N             packets per second, 0 = as fast as possible (default 0); k/M/G
 *   enable=0|1         start sending at once (default 1)
 *   Headers, built in this order (Ethernet, VLAN tags, IPv4, L4):
 *   eth.dst, eth.src   MAC (default 02:00:00:00:00:02 / 02:00:00:00:00:01)
 *   vlan=ID[,ID]       one or two tags (802.1Q, or 802.1ad outer + 802.1Q inner)
 *   eth.type=N         ethertype (default 0x0800); the IPv4 header exists only for 0x0800
 *   ip4.src, ip4.dst   IPv4 address (default 10.0.0.1 / 10.0.0.2)
 *   ip4.ttl=N          (default 64)   ip4.proto=N  (with l4=none)
 *   l4=udp|tcp|icmp|none                                   (default udp)
 *   udp.sport, udp.dport, tcp.sport, tcp.dport=N           (default 1024)
 *   data=HEX           the raw frame instead of the header keys (padded to size)
 *   edit=OFF:WIDTH:VALUES  overwrite WIDTH (1..8) bytes at OFF per packet (repeatable)
 * Any MAC, address, port or edit takes VALUE, MIN-MAX (incrementing per
 * packet, wrapping) or MIN-MAX/random. The payload is an incrementing byte
 * pattern. IPv4 and TCP/ICMP checksums are kept right as fields change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../engine/text.h"
#include "pg.h"

typedef struct {
  int set, random;
  uint64_t min, max;
} range_t;

typedef enum { L4_UDP, L4_TCP, L4_ICMP, L4_NONE } l4_t;

typedef struct {
  uint64_t offset, width;
  range_t r;
} raw_edit_t;

typedef struct {
  range_t eth_src, eth_dst, ip4_src, ip4_dst, sport, dport;
  uint64_t eth_type, ttl, proto;
  int have_eth_type, have_ip4_key, have_header_key, have_proto, have_l4;
  int port_proto; /* -1, L4_UDP or L4_TCP: which ports were given */
  uint16_t vlan[2];
  int n_vlans;
  l4_t l4;
  uint8_t *data;
  uint32_t data_len;
  uint32_t n_raw_edits;
  raw_edit_t raw_edits[VG_PG_MAX_EDITS];
} opts_t;

#define FIELD_ERR(kv, fmt, ...)                                                             \
  vg_error(VG_E_INVAL, "pg stream spec: field %.*s: " fmt, (int)(kv)->key_len, (kv)->key, \
           __VA_ARGS__)

/* ---- value parsers: each takes [s, s+len) and returns 0 or -1 ---- */

static int parse_mac(const char *s, uint32_t len, uint64_t *out) {
  uint64_t v = 0;
  if (len != 17) return -1;
  for (int i = 0; i < 6; i++) {
    unsigned byte;
    char tmp[3] = {s[3 * i], s[3 * i + 1], 0};
    if (i < 5 && s[3 * i + 2] != ':') return -1;
    char *end;
    byte = (unsigned)strtoul(tmp, &end, 16);
    if (*end || !tmp[0] || !tmp[1]) return -1;
    v = v << 8 | byte;
  }
  *out = v;
  return 0;
}

static int parse_ip4(const char *s, uint32_t len, uint64_t *out) {
  uint64_t v = 0;
  uint32_t i = 0;
  for (int part = 0; part < 4; part++) {
    uint32_t start = i, x = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3) x = x * 10 + (uint32_t)(s[i++] - '0');
    if (i == start || x > 255) return -1;
    v = v << 8 | x;
    if (part < 3 && (i >= len || s[i++] != '.')) return -1;
  }
  if (i != len) return -1;
  *out = v;
  return 0;
}

static int parse_num(const char *s, uint32_t len, uint64_t *out) {
  return vg_parse_u64(s, len, 0, out) ? -1 : 0;
}

typedef int value_parser_t(const char *s, uint32_t len, uint64_t *out);

/* VALUE | MIN-MAX | MIN-MAX/random, each value below `limit`+1. */
static int parse_range(const vg_kv_t *kv, value_parser_t *parse, uint64_t limit, const char *what,
                       range_t *r) {
  const char *s = kv->val;
  uint32_t len = kv->val_len;
  *r = (range_t){.set = 1};
  const char *slash = memchr(s, '/', len);
  if (slash) {
    uint32_t rest = (uint32_t)(s + len - slash - 1);
    if (rest != 6 || memcmp(slash + 1, "random", 6) != 0)
      return FIELD_ERR(kv, "'%.*s': only /random may follow a range", (int)kv->val_len, kv->val);
    r->random = 1;
    len = (uint32_t)(slash - s);
  }
  const char *dash = memchr(s, '-', len);
  uint32_t first = dash ? (uint32_t)(dash - s) : len;
  if (parse(s, first, &r->min) || r->min > limit)
    return FIELD_ERR(kv, "'%.*s' is not %s", (int)first, s, what);
  r->max = r->min;
  if (dash) {
    uint32_t second = len - first - 1;
    if (parse(dash + 1, second, &r->max) || r->max > limit)
      return FIELD_ERR(kv, "'%.*s' is not %s", (int)second, dash + 1, what);
    if (r->max < r->min) return FIELD_ERR(kv, "range %.*s runs backwards", (int)len, s);
  } else if (r->random) {
    return FIELD_ERR(kv, "'%.*s': /random needs a MIN-MAX range", (int)kv->val_len, kv->val);
  }
  return 0;
}

static int parse_u64_field(const vg_kv_t *kv, uint64_t lo, uint64_t hi, uint64_t *out) {
  if (vg_parse_u64(kv->val, kv->val_len, 0, out) || *out < lo || *out > hi)
    return FIELD_ERR(kv, "'%.*s' is not a number in %llu..%llu", (int)kv->val_len, kv->val,
                     (unsigned long long)lo, (unsigned long long)hi);
  return 0;
}

static int parse_hex(const vg_kv_t *kv, opts_t *o) {
  if (kv->val_len % 2 || kv->val_len == 0 || kv->val_len / 2 > VG_PG_MAX_FRAME)
    return FIELD_ERR(kv, "expected an even number of hex digits, at most %d bytes",
                     VG_PG_MAX_FRAME);
  free(o->data);
  o->data_len = kv->val_len / 2;
  o->data = malloc(o->data_len);
  if (!o->data) return vg_error(VG_E_NOMEM, "pg stream spec: data");
  for (uint32_t i = 0; i < o->data_len; i++) {
    char tmp[3] = {kv->val[2 * i], kv->val[2 * i + 1], 0}, *end;
    o->data[i] = (uint8_t)strtoul(tmp, &end, 16);
    if (*end || tmp[0] == '+' || tmp[0] == '-' || tmp[0] == ' ')
      return FIELD_ERR(kv, "'%s' at byte %u is not hex", tmp, i);
  }
  return 0;
}

static int parse_edit(const vg_kv_t *kv, opts_t *o) {
  if (o->n_raw_edits == VG_PG_MAX_EDITS)
    return FIELD_ERR(kv, "at most %d edits per stream", VG_PG_MAX_EDITS);
  const char *c1 = memchr(kv->val, ':', kv->val_len);
  const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(kv->val + kv->val_len - c1 - 1)) : NULL;
  if (!c2) return FIELD_ERR(kv, "'%.*s' is not OFFSET:WIDTH:VALUES", (int)kv->val_len, kv->val);
  raw_edit_t *e = &o->raw_edits[o->n_raw_edits];
  if (vg_parse_u64(kv->val, (uint32_t)(c1 - kv->val), 0, &e->offset) ||
      e->offset >= VG_BUFFER_DATA_SIZE)
    return FIELD_ERR(kv, "offset '%.*s' is not a number below %d", (int)(c1 - kv->val), kv->val,
                     VG_BUFFER_DATA_SIZE);
  if (vg_parse_u64(c1 + 1, (uint32_t)(c2 - c1 - 1), 0, &e->width) || e->width < 1 || e->width > 8)
    return FIELD_ERR(kv, "width '%.*s' is not 1..8", (int)(c2 - c1 - 1), c1 + 1);
  vg_kv_t vals = *kv;
  vals.val = c2 + 1;
  vals.val_len = (uint32_t)(kv->val + kv->val_len - c2 - 1);
  uint64_t limit = e->width == 8 ? UINT64_MAX : (1ull << (8 * e->width)) - 1;
  if (parse_range(&vals, parse_num, limit, "a number that fits the width", &e->r)) return VG_E_INVAL;
  o->n_raw_edits++;
  return 0;
}

static int parse_vlans(const vg_kv_t *kv, opts_t *o) {
  const char *s = kv->val, *end = kv->val + kv->val_len;
  o->n_vlans = 0;
  while (s < end) {
    const char *comma = memchr(s, ',', (size_t)(end - s));
    uint32_t len = (uint32_t)((comma ? comma : end) - s);
    uint64_t id;
    if (o->n_vlans == 2) return FIELD_ERR(kv, "%s", "at most two tags");
    if (vg_parse_u64(s, len, 0, &id) || id > 4095)
      return FIELD_ERR(kv, "'%.*s' is not a VLAN ID 0..4095", (int)len, s);
    o->vlan[o->n_vlans++] = (uint16_t)id;
    s += len + (comma ? 1 : 0);
  }
  if (!o->n_vlans) return FIELD_ERR(kv, "%s", "expected ID or ID,ID");
  return 0;
}

typedef struct {
  const char *key;
  range_t *(*field)(opts_t *o);
} range_key_t;

static int parse_kv(const vg_kv_t *kv, opts_t *o, vg_pg_stream_t *s, char *if_name,
                    size_t if_size, char *node_name, size_t node_size, uint64_t *enable) {
  uint64_t v;
  int rc = 0;
  if (vg_kv_is(kv, "name") || vg_kv_is(kv, "if") || vg_kv_is(kv, "node")) {
    char *dst = vg_kv_is(kv, "name") ? s->name : vg_kv_is(kv, "if") ? if_name : node_name;
    size_t cap = vg_kv_is(kv, "name") ? sizeof s->name : vg_kv_is(kv, "if") ? if_size : node_size;
    if (kv->val_len == 0 || kv->val_len >= cap || kv->val_len >= 64)
      return FIELD_ERR(kv, "%s", "must be 1..63 characters");
    memcpy(dst, kv->val, kv->val_len);
    dst[kv->val_len] = 0;
  } else if (vg_kv_is(kv, "worker")) {
    rc = parse_u64_field(kv, 0, VG_MAX_THREADS - 1, &v);
    s->thread = (uint32_t)v;
  } else if (vg_kv_is(kv, "size")) {
    range_t r;
    if (parse_range(kv, parse_num, VG_PG_MAX_FRAME, "a frame size", &r)) return VG_E_INVAL;
    if (r.random) return FIELD_ERR(kv, "%s", "sizes increment; /random is not supported");
    if (r.min < 1) return FIELD_ERR(kv, "%s", "frames have at least 1 byte");
    s->size_min = (uint32_t)r.min;
    s->size_max = (uint32_t)r.max;
  } else if (vg_kv_is(kv, "count")) {
    if (vg_parse_u64(kv->val, kv->val_len, 0, &s->count))
      return FIELD_ERR(kv, "'%.*s' is not a count", (int)kv->val_len, kv->val);
  } else if (vg_kv_is(kv, "rate")) {
    if (vg_parse_u64(kv->val, kv->val_len, 0, &s->rate) || s->rate > 1000000000000ull)
      return FIELD_ERR(kv, "'%.*s' is not a packet rate", (int)kv->val_len, kv->val);
  } else if (vg_kv_is(kv, "enable")) {
    rc = parse_u64_field(kv, 0, 1, enable);
  } else if (vg_kv_is(kv, "eth.src") || vg_kv_is(kv, "eth.dst")) {
    o->have_header_key = 1;
    rc = parse_range(kv, parse_mac, 0xffffffffffffull, "a MAC address aa:bb:cc:dd:ee:ff",
                     vg_kv_is(kv, "eth.src") ? &o->eth_src : &o->eth_dst);
  } else if (vg_kv_is(kv, "eth.type")) {
    o->have_header_key = o->have_eth_type = 1;
    rc = parse_u64_field(kv, 0, 0xffff, &o->eth_type);
  } else if (vg_kv_is(kv, "vlan")) {
    o->have_header_key = 1;
    rc = parse_vlans(kv, o);
  } else if (vg_kv_is(kv, "ip4.src") || vg_kv_is(kv, "ip4.dst")) {
    o->have_header_key = o->have_ip4_key = 1;
    rc = parse_range(kv, parse_ip4, 0xffffffffu, "an IPv4 address",
                     vg_kv_is(kv, "ip4.src") ? &o->ip4_src : &o->ip4_dst);
  } else if (vg_kv_is(kv, "ip4.ttl")) {
    o->have_header_key = o->have_ip4_key = 1;
    rc = parse_u64_field(kv, 0, 255, &o->ttl);
  } else if (vg_kv_is(kv, "ip4.proto")) {
    o->have_header_key = o->have_ip4_key = o->have_proto = 1;
    rc = parse_u64_field(kv, 0, 255, &o->proto);
  } else if (vg_kv_is(kv, "l4")) {
    static const char *const names[] = {"udp", "tcp", "icmp", "none"};
    o->have_header_key = o->have_ip4_key = o->have_l4 = 1;
    int found = 0;
    for (int i = 0; i < 4; i++)
      if (strlen(names[i]) == kv->val_len && memcmp(kv->val, names[i], kv->val_len) == 0)
        o->l4 = (l4_t)i, found = 1;
    if (!found) return FIELD_ERR(kv, "'%.*s' is not udp, tcp, icmp or none", (int)kv->val_len, kv->val);
  } else if (vg_kv_is(kv, "udp.sport") || vg_kv_is(kv, "udp.dport") ||
             vg_kv_is(kv, "tcp.sport") || vg_kv_is(kv, "tcp.dport")) {
    o->have_header_key = o->have_ip4_key = 1;
    int proto = kv->key[0] == 'u' ? L4_UDP : L4_TCP;
    if (o->port_proto >= 0 && o->port_proto != proto)
      return FIELD_ERR(kv, "%s", "udp.* and tcp.* ports cannot be mixed");
    o->port_proto = proto;
    rc = parse_range(kv, parse_num, 0xffff, "a port 0..65535",
                     kv->key[4] == 's' ? &o->sport : &o->dport);
  } else if (vg_kv_is(kv, "data")) {
    rc = parse_hex(kv, o);
  } else if (vg_kv_is(kv, "edit")) {
    rc = parse_edit(kv, o);
  } else {
    return vg_error(VG_E_INVAL,
                    "pg stream spec: unknown field '%.*s' (known: name if node worker size count "
                    "rate enable eth.src eth.dst eth.type vlan ip4.src ip4.dst ip4.ttl ip4.proto "
                    "l4 udp.sport udp.dport tcp.sport tcp.dport data edit)",
                    (int)kv->key_len, kv->key);
  }
  return rc;
}

/* ---- template ---- */

static void put_be(uint8_t *p, uint32_t width, uint64_t v) {
  for (uint32_t i = 0; i < width; i++) p[width - 1 - i] = (uint8_t)(v >> (8 * i));
}

static void add_edit(vg_pg_stream_t *s, uint32_t offset, uint32_t width, const range_t *r) {
  put_be(s->tmpl + offset, width, r->min);
  if (r->min == r->max) return; /* fixed value: already in the template */
  vg_pg_edit_t *e = &s->edits[s->n_edits++];
  *e = (vg_pg_edit_t){.offset = (uint16_t)offset, .width = (uint8_t)width, .random = (uint8_t)r->random,
                      .min = r->min, .max = r->max, .cur = r->min};
}

static range_t fixed(uint64_t v) { return (range_t){1, 0, v, v}; }
static range_t or_default(range_t r, uint64_t v) { return r.set ? r : fixed(v); }

static int build_template(vg_pg_stream_t *s, opts_t *o) {
  s->tmpl = calloc(1, s->size_max + 64); /* + a line: copies run whole cache lines */
  if (!s->tmpl) return vg_error(VG_E_NOMEM, "pg stream %s: template", s->name);
  for (uint32_t i = 0; i < s->size_max; i++) s->tmpl[i] = (uint8_t)i;
  s->ip4_offset = s->l4_csum_offset = -1;
  uint32_t hdr = 0;
  if (o->data) {
    memcpy(s->tmpl, o->data, o->data_len < s->size_max ? o->data_len : s->size_max);
  } else {
    add_edit(s, 0, 6, (range_t[]){or_default(o->eth_dst, 0x020000000002ull)});
    add_edit(s, 6, 6, (range_t[]){or_default(o->eth_src, 0x020000000001ull)});
    hdr = 12;
    for (int i = 0; i < o->n_vlans; i++) {
      vg_put_be16(s->tmpl + hdr, (o->n_vlans == 2 && i == 0) ? 0x88a8 : 0x8100);
      vg_put_be16(s->tmpl + hdr + 2, o->vlan[i]);
      hdr += 4;
    }
    uint16_t type = o->have_eth_type ? (uint16_t)o->eth_type : 0x0800;
    vg_put_be16(s->tmpl + hdr, type);
    hdr += 2;
    if (type == 0x0800) {
      static const uint8_t proto[] = {17, 6, 1, 253};
      static const uint32_t l4_len[] = {8, 20, 8, 0};
      uint8_t *ip = s->tmpl + hdr;
      s->ip4_offset = (int32_t)hdr;
      ip[0] = 0x45;
      ip[8] = (uint8_t)o->ttl;
      ip[9] = o->l4 == L4_NONE && o->have_proto ? (uint8_t)o->proto : proto[o->l4];
      s->l4_proto = ip[9];
      add_edit(s, hdr + 12, 4, (range_t[]){or_default(o->ip4_src, 0x0a000001)});
      add_edit(s, hdr + 16, 4, (range_t[]){or_default(o->ip4_dst, 0x0a000002)});
      uint32_t l4 = hdr + 20;
      hdr = l4 + l4_len[o->l4];
      if (o->l4 == L4_UDP || o->l4 == L4_TCP) {
        add_edit(s, l4, 2, (range_t[]){or_default(o->sport, 1024)});
        add_edit(s, l4 + 2, 2, (range_t[]){or_default(o->dport, 1024)});
      }
      if (o->l4 == L4_TCP) {
        s->tmpl[l4 + 12] = 0x50;  /* data offset 5 words */
        s->tmpl[l4 + 13] = 0x10;  /* ACK */
        vg_put_be16(s->tmpl + l4 + 14, 65535);
        s->l4_csum_offset = (int32_t)(l4 + 16);
      } else if (o->l4 == L4_ICMP) {
        s->tmpl[l4] = 8; /* echo request */
        s->l4_csum_offset = (int32_t)(l4 + 2);
      } else if (o->l4 == L4_UDP) {
        memset(s->tmpl + l4 + 6, 0, 2); /* no UDP checksum: allowed for IPv4 */
      }
    } else if (o->have_ip4_key) {
      return vg_error(VG_E_INVAL, "pg stream spec: field eth.type: ip4.* and l4 fields need "
                                  "eth.type=0x0800, not 0x%04x", type);
    }
  }
  if (s->size_min < hdr)
    return vg_error(VG_E_INVAL, "pg stream spec: field size: %u bytes is shorter than the %u "
                                "bytes of headers", s->size_min, hdr);
  for (uint32_t i = 0; i < o->n_raw_edits; i++) {
    if (o->raw_edits[i].offset + o->raw_edits[i].width > s->size_min)
      return vg_error(VG_E_INVAL, "pg stream spec: field edit: bytes %llu..%llu lie beyond the "
                                  "%u-byte frame", (unsigned long long)o->raw_edits[i].offset,
                      (unsigned long long)(o->raw_edits[i].offset + o->raw_edits[i].width - 1),
                      s->size_min);
    if (s->n_edits == VG_PG_MAX_EDITS)
      return vg_error(VG_E_INVAL, "pg stream spec: field edit: at most %d varying fields",
                      VG_PG_MAX_EDITS);
    add_edit(s, (uint32_t)o->raw_edits[i].offset, (uint32_t)o->raw_edits[i].width,
             &o->raw_edits[i].r);
  }
  /* Fields that vary per packet inside IPv4 (or the size) need fix-ups. */
  for (uint32_t i = 0; i < s->n_edits; i++) {
    int32_t off = s->edits[i].offset;
    if (s->ip4_offset >= 0 && off >= s->ip4_offset && off < s->ip4_offset + 20) s->fixup_ip4 = 1;
    if (s->l4_csum_offset >= 0 && off >= s->ip4_offset + 12) s->fixup_l4 = 1;
  }
  if (s->size_min != s->size_max && s->ip4_offset >= 0) s->fixup_ip4 = s->fixup_l4 = 1;
  if (s->l4_csum_offset < 0) s->fixup_l4 = 0;
  return 0;
}

/* Sets lengths and checksums of the IPv4 packet in p for a frame of `size`. */
static void fix_ip4(vg_pg_stream_t *s, uint8_t *frame, uint32_t size, const uint8_t *tail,
                    uint32_t first_len) {
  uint8_t *ip = frame + s->ip4_offset;
  uint32_t ip_len = size - (uint32_t)s->ip4_offset;
  vg_put_be16(ip + 2, (uint16_t)(ip_len > 65535 ? 65535 : ip_len));
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  if (s->l4_proto == 17) vg_put_be16(ip + 24, (uint16_t)(ip_len - 20));
  if (s->l4_csum_offset < 0) return;
  uint8_t *csum = frame + s->l4_csum_offset;
  csum[0] = csum[1] = 0;
  uint64_t sum = 0;
  if (s->l4_proto == 6) { /* pseudo header */
    sum = vg_csum_add(sum, ip + 12, 8);
    sum += 6 + (ip_len - 20);
  }
  uint32_t l4_off = (uint32_t)s->ip4_offset + 20;
  sum = vg_csum_add(sum, frame + l4_off, (first_len < size ? first_len : size) - l4_off);
  if (first_len < size) sum = vg_csum_add(sum, tail, size - first_len);
  vg_put_be16(csum, vg_csum_fold(sum));
}

static int stream_init(vg_pg_stream_t *s, opts_t *o) {
  if (!s->name[0]) return vg_error(VG_E_INVAL, "pg stream spec: field name: required");
  if (o->data && o->have_header_key)
    return vg_error(VG_E_INVAL, "pg stream spec: field data: cannot be combined with header "
                                "fields (eth.*, vlan, ip4.*, l4, ports)");
  if (o->port_proto >= 0) {
    if (o->have_l4 && (int)o->l4 != o->port_proto)
      return vg_error(VG_E_INVAL, "pg stream spec: field l4: the ports given are %s ports",
                      o->port_proto == L4_UDP ? "udp" : "tcp");
    o->l4 = (l4_t)o->port_proto;
  }
  if (!s->size_max) s->size_min = s->size_max = o->data ? o->data_len : 64;
  int rc = build_template(s, o);
  if (rc) return rc;
  s->size_cur = s->size_min;
  s->rng = 0x9e3779b97f4a7c15ull ^ (uintptr_t)s;
  s->meta.current_length = (uint16_t)(s->size_min < VG_BUFFER_DATA_SIZE ? s->size_min : VG_BUFFER_DATA_SIZE);
  s->meta.sw_if_index[VG_TX] = UINT32_MAX;
  /* The template already carries the constant IPv4 lengths and checksums. */
  if (s->ip4_offset >= 0)
    fix_ip4(s, s->tmpl, s->size_min, s->tmpl + VG_BUFFER_DATA_SIZE, s->size_min);
  if (s->fixup_ip4 && !s->fixup_l4 && s->size_min == s->size_max) {
    /* Only header fields vary: keep the header sum of the constant bytes and
     * add each packet's edited values to it. */
    uint8_t hdr[20];
    memcpy(hdr, s->tmpl + s->ip4_offset, 20);
    hdr[10] = hdr[11] = 0;
    for (uint32_t i = 0; i < s->n_edits; i++) {
      vg_pg_edit_t *x = &s->edits[i];
      for (int32_t b = 0; b < x->width; b++) {
        int32_t r = x->offset + b - s->ip4_offset;
        if (r >= 0 && r < 20) hdr[r] = 0, x->in_ip4 = 1;
      }
    }
    s->ip4_base_sum = vg_csum_add(0, hdr, 20);
    s->ip4_incremental = 1;
  }
  return 0;
}

int vg_pg_parse(const char *spec, vg_pg_stream_t **out, char *if_name, size_t if_size,
                char *node_name, size_t node_size) {
  vg_pg_stream_t *s = calloc(1, sizeof *s);
  opts_t o = {.ttl = 64, .port_proto = -1};
  uint64_t enable = 1;
  if (!s) return vg_error(VG_E_NOMEM, "pg stream");
  snprintf(if_name, if_size, "pg0");
  snprintf(node_name, node_size, "ethernet-input");
  vg_kv_t kv;
  int rc;
  if (!spec) spec = "";
  while ((rc = vg_kv_next(&spec, &kv, "pg stream spec")) > 0)
    if ((rc = parse_kv(&kv, &o, s, if_name, if_size, node_name, node_size, &enable)) < 0) break;
  if (rc == 0) rc = stream_init(s, &o);
  free(o.data);
  if (rc < 0) {
    vg_pg_stream_free(s);
    return rc;
  }
  s->enabled = (int)enable;
  *out = s;
  return 0;
}

void vg_pg_stream_free(vg_pg_stream_t *s) {
  if (!s) return;
  free(s->tmpl);
  free(s);
}

/* ---- the per-packet work ---- */

static inline uint64_t next_random(vg_pg_stream_t *s) {
  s->rng ^= s->rng >> 12;
  s->rng ^= s->rng << 25;
  s->rng ^= s->rng >> 27;
  return s->rng * 0x2545f4914f6cdd1dull;
}

/* Stores the low `width` bytes of v big-endian; the common widths (ports,
 * addresses, MACs) as one or two stores. */
static inline void store_be(uint8_t *p, uint32_t width, uint64_t v) {
  switch (width) {
  case 2: {
    uint16_t x = __builtin_bswap16((uint16_t)v);
    memcpy(p, &x, 2);
    return;
  }
  case 4: {
    uint32_t x = __builtin_bswap32((uint32_t)v);
    memcpy(p, &x, 4);
    return;
  }
  case 6: {
    uint16_t hi = __builtin_bswap16((uint16_t)(v >> 32));
    uint32_t lo = __builtin_bswap32((uint32_t)v);
    memcpy(p, &hi, 2);
    memcpy(p + 2, &lo, 4);
    return;
  }
  default:
    put_be(p, width, v);
  }
}

/* What an edited value adds to the IPv4 header's ones' complement sum:
 * each of its bytes inside the header, as the high or low half of a word. */
static inline uint64_t ip4_sum_of(const vg_pg_edit_t *x, int32_t ip4_offset, uint64_t v) {
  int32_t rel = x->offset - ip4_offset;
  if (x->width == 4 && rel >= 0 && rel <= 16 && !(rel & 1)) return (v >> 16) + (v & 0xffff);
  if (x->width == 2 && rel >= 0 && rel <= 18 && !(rel & 1)) return v & 0xffff;
  uint64_t sum = 0;
  for (int32_t i = 0; i < x->width; i++) {
    int32_t r = rel + i;
    uint64_t byte = (v >> (8 * (x->width - 1 - i))) & 0xff;
    if (r >= 0 && r < 20) sum += (r & 1) ? byte : byte << 8;
  }
  return sum;
}

/* Writes this packet's values of the varying fields; returns the IPv4
 * header's ones' complement sum when it is kept incrementally. The sum is
 * built from registers: reading back the header just written would stall
 * on store forwarding. */
static inline uint64_t apply_edits(vg_pg_stream_t *s, uint8_t *p) {
  uint64_t sum = s->ip4_base_sum;
  for (uint32_t e = 0; e < s->n_edits; e++) {
    vg_pg_edit_t *x = &s->edits[e];
    uint64_t v;
    if (x->random) {
      uint64_t span = x->max - x->min + 1;
      /* Multiply-shift maps 32 random bits onto the span without a
       * division (a modulo costs more than the rest of the packet). */
      uint64_t r = next_random(s);
      v = x->min + (span == 0 ? r : span <= (1ull << 32) ? ((r >> 32) * span) >> 32 : r % span);
    } else {
      v = x->cur;
      x->cur = v == x->max ? x->min : v + 1;
    }
    store_be(p + x->offset, x->width, v);
    if (x->in_ip4) sum += ip4_sum_of(x, s->ip4_offset, v);
  }
  return sum;
}

static inline void copy_lines(uint8_t *dst, const uint8_t *src, uint32_t len) {
  for (uint32_t i = 0; i < len; i += 64) __builtin_memcpy(dst + i, src + i, 64);
}

void vg_pg_fill(vg_main_t *dp, vg_thread_t *th, vg_pg_stream_t *s, const uint32_t *bi,
                uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    uint32_t size = s->size_cur;
    if (VG_UNLIKELY(s->size_min != s->size_max))
      s->size_cur = size == s->size_max ? s->size_min : size + 1;
    uint32_t first = size < VG_BUFFER_DATA_SIZE ? size : VG_BUFFER_DATA_SIZE;
    *b = s->meta;
    b->current_length = (uint16_t)first;
    uint8_t *p = vg_buffer_data(b);
    copy_lines(p, s->tmpl, first);
    uint64_t sum = apply_edits(s, p);
    if (s->ip4_incremental) vg_put_be16(p + s->ip4_offset + 10, vg_csum_fold(sum));
    else if (VG_UNLIKELY(s->fixup_ip4 | s->fixup_l4))
      fix_ip4(s, p, size, s->tmpl + VG_BUFFER_DATA_SIZE, first);
    if (VG_UNLIKELY(size > first))
      vg_buffer_append(th, bi[i], s->tmpl + first, size - first); /* a short chain on NOMEM */
  }
}

/* ---- API ---- */

static vg_pg_stream_t *stream_get(vg_main_t *dp, uint32_t i) {
  return i < dp->n_pg_streams ? dp->pg_streams[i] : NULL;
}

static int pg_input_node(vg_main_t *dp) { return vg_node_index(dp, "pg-input"); }

int vg_pg_stream_add(vg_dp_t *dp, const char *spec) {
  vg_pg_stream_t *s;
  char if_name[64], node_name[64];
  int rc = vg_pg_parse(spec, &s, if_name, sizeof if_name, node_name, sizeof node_name);
  if (rc < 0) return rc;
  pthread_mutex_lock(&dp->api_lock);
  int node = vg_node_index(dp, node_name);
  uint32_t slot = 0;
  while (slot < dp->n_pg_streams && dp->pg_streams[slot]) slot++;
  for (uint32_t i = 0; i < dp->n_pg_streams && !rc; i++)
    if (dp->pg_streams[i] && strcmp(dp->pg_streams[i]->name, s->name) == 0)
      rc = vg_error(VG_E_EXISTS, "pg stream spec: field name: a stream named %s exists", s->name);
  if (!rc && node < 0)
    rc = vg_error(VG_E_NOTFOUND, "pg stream spec: field node: no node named %s", node_name);
  if (!rc && dp->nodes[node].reg->type == VG_NODE_INPUT)
    rc = vg_error(VG_E_INVAL, "pg stream spec: field node: %s is an input node", node_name);
  if (!rc && s->thread >= dp->n_threads)
    rc = vg_error(VG_E_INVAL, "pg stream spec: field worker: %u, but the dataplane has %u "
                              "thread(s)", s->thread, dp->n_threads);
  if (!rc && slot == 1024) rc = vg_error(VG_E_LIMIT, "at most 1024 pg streams");
  if (rc) goto out;
  vg_barrier_sync(dp);
  vg_interface_t *itf = NULL;
  int sw = -1;
  for (uint32_t i = 0; i < dp->n_interfaces && sw < 0; i++)
    if (dp->interfaces[i] && strcmp(dp->interfaces[i]->name, if_name) == 0) sw = (int)i;
  if (sw < 0) sw = vg_interface_add(dp, if_name, "pg", &itf);
  if (sw < 0) {
    rc = sw;
  } else if (!dp->pg_streams && !(dp->pg_streams = calloc(1024, sizeof(vg_pg_stream_t *)))) {
    rc = vg_error(VG_E_NOMEM, "pg streams");
  } else {
    s->sw_if_index = (uint32_t)sw;
    s->meta.sw_if_index[VG_RX] = (uint32_t)sw;
    s->node = (uint32_t)node;
    s->index = slot;
    dp->pg_streams[slot] = s;
    if (slot == dp->n_pg_streams) dp->n_pg_streams++;
    dp->nodes[pg_input_node(dp)].input_active = 1;
    rc = (int)slot;
  }
  vg_barrier_release(dp);
out:
  pthread_mutex_unlock(&dp->api_lock);
  if (rc < 0) vg_pg_stream_free(s);
  return rc;
}

int vg_pg_stream_enable(vg_dp_t *dp, uint32_t stream, int enable) {
  pthread_mutex_lock(&dp->api_lock);
  vg_pg_stream_t *s = stream_get(dp, stream);
  int rc = 0;
  if (!s) rc = vg_error(VG_E_NOTFOUND, "no pg stream %u", stream);
  else {
    vg_barrier_sync(dp);
    if (enable && (s->done || !s->enabled)) { /* (re)start from the beginning */
      s->sent = s->bytes = s->first_ns = s->last_ns = s->start_ns = s->start_sent = 0;
      s->done = 0;
    }
    s->enabled = !!enable;
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_pg_stream_delete(vg_dp_t *dp, uint32_t stream) {
  pthread_mutex_lock(&dp->api_lock);
  vg_pg_stream_t *s = stream_get(dp, stream);
  int rc = 0;
  if (!s) rc = vg_error(VG_E_NOTFOUND, "no pg stream %u", stream);
  else {
    vg_barrier_sync(dp);
    dp->pg_streams[stream] = NULL;
    vg_barrier_release(dp);
    vg_pg_stream_free(s);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_pg_stream_status(vg_dp_t *dp, uint32_t stream, vg_pg_status_t *out) {
  pthread_mutex_lock(&dp->api_lock);
  vg_pg_stream_t *s = stream_get(dp, stream);
  int rc = 0;
  if (!s) rc = vg_error(VG_E_NOTFOUND, "no pg stream %u", stream);
  else {
    vg_barrier_sync(dp); /* the sending thread writes these as it goes */
    *out = (vg_pg_status_t){s->sent, s->bytes, s->first_ns, s->last_ns, (uint32_t)s->done,
                            (uint32_t)s->enabled};
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int vg_pg_pending(vg_main_t *dp) {
  for (uint32_t i = 0; i < dp->n_pg_streams; i++) {
    vg_pg_stream_t *s = dp->pg_streams[i];
    if (s && s->enabled && s->count && !s->done) return 1;
  }
  return 0;
}

int vg_pg_uses_interface(vg_main_t *dp, uint32_t sw_if_index) {
  for (uint32_t i = 0; i < dp->n_pg_streams; i++)
    if (dp->pg_streams[i] && dp->pg_streams[i]->sw_if_index == sw_if_index) return 1;
  return 0;
}

void vg_pg_free_all(vg_main_t *dp) {
  for (uint32_t i = 0; i < dp->n_pg_streams; i++) vg_pg_stream_free(dp->pg_streams[i]);
  free(dp->pg_streams);
  dp->pg_streams = NULL;
  dp->n_pg_streams = 0;
}

void vg_pg_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *t) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < dp->n_pg_streams; i++) {
    vg_pg_stream_t *s = dp->pg_streams[i];
    if (!s || s->sw_if_index != itf->sw_if_index) continue;
    n++;
    vg_text_printf(t, "  stream %u %s: %s, %llu", s->index, s->name,
                   s->done ? "done" : s->enabled ? "enabled" : "disabled", (unsigned long long)s->sent);
    if (s->count) vg_text_printf(t, " of %llu", (unsigned long long)s->count);
    vg_text_printf(t, " packets sent, ");
    if (s->rate) vg_text_printf(t, "%llu packets/s", (unsigned long long)s->rate);
    else vg_text_printf(t, "as fast as possible");
    vg_text_printf(t, ", %u..%u bytes, worker %u, into %s\n", s->size_min, s->size_max, s->thread,
                   dp->nodes[s->node].reg->name);
  }
  if (!n) vg_text_printf(t, "  packet generator: no streams\n");
}
