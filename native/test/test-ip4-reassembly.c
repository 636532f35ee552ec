/* IPv4 reassembly for the box (ip4-reassembly). The box's underlay port u0
 * (10.0.0.1/24) receives fragments of VXLAN packets from the remote VTEP
 * 10.0.0.2; the tunnel bridges into domain 10 with port p1, so a datagram
 * that was reassembled right leaves p1 as its inner frame, which is
 * compared byte for byte. Each case then checks the counters and that the
 * pool got every buffer back (reassembly holding none). */
#include <stdlib.h>
#include <time.h>

#include "../engine/checksum.h"
#include "../interfaces/pcap.h"
#include "../ip4/ip4.h"
#include "../ip4/reass.h"
#include "test-util.h"
#include "test.h"

#define LOCAL 0x0a000001u  /* 10.0.0.1 */
#define REMOTE 0x0a000002u /* 10.0.0.2 */
#define MAX_DGRAM 65535
static const uint8_t REMOTE_MAC[6] = {2, 0, 0, 0, 0, 0x99};

typedef struct {
  vg_dp_t *dp;
  int u0, p1, vx;
  uint32_t buffers;
  uint8_t u0_mac[6];
  vg_pcap_file_t *p1_out, *u0_out;
} box_t;

static int box(box_t *s, const char *options, uint32_t buffers) {
  memset(s, 0, sizeof *s);
  s->buffers = buffers;
  if (!(s->dp = vg_dp_create(options))) {
    test_fail(__FILE__, __LINE__, "create: %s", vg_last_error());
    return 0;
  }
  s->u0 = vg_pcap_interface_create(s->dp, "u0", NULL, 0, tmp_path("reass-u0.pcap"));
  s->p1 = vg_pcap_interface_create(s->dp, "p1", NULL, 0, tmp_path("reass-p1.pcap"));
  if (s->u0 < 0 || s->p1 < 0 || vg_interface_add_ip4(s->dp, (uint32_t)s->u0, LOCAL, 24) < 0 ||
      vg_ip4_neighbor_add(s->dp, (uint32_t)s->u0, REMOTE, REMOTE_MAC, 1) < 0 ||
      (s->vx = vg_vxlan_tunnel_add(s->dp, "vxlan0", LOCAL, REMOTE, 42, 0, "")) < 0 ||
      vg_bridge_domain_add(s->dp, 10, "") < 0 || vg_bridge_port_set(s->dp, (uint32_t)s->vx, 10, 0, 0) < 0 ||
      vg_bridge_port_set(s->dp, (uint32_t)s->p1, 10, 0, 0) < 0) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return 0;
  }
  vg_interface_get_mac(s->dp, (uint32_t)s->u0, s->u0_mac);
  return 1;
}

static void load(box_t *s) {
  vg_interface_flush(s->dp, (uint32_t)s->u0);
  vg_interface_flush(s->dp, (uint32_t)s->p1);
  vg_pcap_file_free(s->p1_out);
  vg_pcap_file_free(s->u0_out);
  s->p1_out = s->u0_out = NULL;
  vg_pcap_load(tmp_path("reass-p1.pcap"), &s->p1_out);
  vg_pcap_load(tmp_path("reass-u0.pcap"), &s->u0_out);
}

static void done(box_t *s) {
  CHECK_EQ(vg_ip4_reass_buffers_held(s->dp), 0);
  CHECK_EQ(vg_buffer_pool_available(s->dp), s->buffers);
  vg_pcap_file_free(s->p1_out);
  vg_pcap_file_free(s->u0_out);
  vg_dp_destroy(s->dp);
}

static uint64_t err(box_t *s, const char *reason) {
  char name[160];
  snprintf(name, sizeof name, "ip4-reassembly/%s", reason);
  return stat_error(s->dp, name);
}

static uint8_t data_byte(uint32_t i) { return (uint8_t)(i * 7 + (i >> 8) * 13 + 1); }

/* A VXLAN datagram (IPv4 header, UDP to 4789, VXLAN VNI 42, an inner
 * Ethernet frame of pattern bytes) of `total` bytes from the remote VTEP
 * with identification id. */
static void datagram(uint8_t *ip, uint32_t total, uint16_t id) {
  memset(ip, 0, 36);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_put_be16(ip + 4, id);
  vg_wr_be32(ip + 12, REMOTE);
  vg_wr_be32(ip + 16, LOCAL);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  vg_put_be16(ip + 20, 50000);
  vg_put_be16(ip + 22, 4789);
  vg_put_be16(ip + 24, (uint16_t)(total - 20));
  ip[28] = 0x08, ip[34] = 42;
  uint8_t *inner = ip + 36;
  static const uint8_t head[14] = {2, 0, 0, 0, 0, 0x0b, 2, 0, 0, 0, 0, 0x0a, 0x88, 0xb5};
  memcpy(inner, head, 14);
  for (uint32_t i = 14; i < total - 36; i++) inner[i] = data_byte(i);
}

/* The frame of the fragment of datagram ip carrying data bytes
 * [start, start + len), with MF as given. Returns its length. */
static uint32_t fragment(uint8_t *f, const box_t *s, const uint8_t *ip, uint32_t start, uint32_t len, int mf) {
  memcpy(f, s->u0_mac, 6);
  memcpy(f + 6, REMOTE_MAC, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t *h = f + 14;
  memcpy(h, ip, 20);
  vg_put_be16(h + 2, (uint16_t)(20 + len));
  vg_put_be16(h + 6, (uint16_t)((mf ? 0x2000 : 0) | start / 8));
  h[10] = h[11] = 0;
  vg_put_be16(h + 10, vg_csum_fold(vg_csum_add(0, h, 20)));
  memcpy(h + 20, ip + 20 + start, len);
  return 14 + 20 + len;
}

/* One frame in on port rx (a chain when longer than a buffer), not yet run. */
static void inject(vg_dp_t *dp, int rx, const uint8_t *f, uint32_t len) {
  uint32_t bi = rx_buffer(dp, (uint32_t)rx, f, len);
  REQUIRE(bi != VG_BUFFER_INVALID);
  vg_enqueue(&dp->threads[0], (uint32_t)vg_node_index(dp, "ethernet-input"), &bi, 1);
}

/* Sends fragment k of a datagram cut into pieces of `piece` data bytes. */
static void send_piece(box_t *s, const uint8_t *ip, uint32_t piece, uint32_t k) {
  static uint8_t f[14 + MAX_DGRAM];
  uint32_t data = (uint32_t)(ip[2] << 8 | ip[3]) - 20, start = k * piece;
  uint32_t len = data - start < piece ? data - start : piece;
  inject(s->dp, s->u0, f, fragment(f, s, ip, start, len, start + len < data));
}

static uint32_t pieces(const uint8_t *ip, uint32_t piece) {
  return ((uint32_t)(ip[2] << 8 | ip[3]) - 20 + piece - 1) / piece;
}

/* Checks that p1 sent exactly the inner frames of the datagrams given. */
static void check_inner(box_t *s, const uint8_t *const *ips, uint32_t n) {
  load(s);
  REQUIRE(s->p1_out);
  CHECK_EQ(s->p1_out->n_records, n);
  for (uint32_t k = 0; k < n && k < s->p1_out->n_records; k++) {
    uint32_t inner = (uint32_t)(ips[k][2] << 8 | ips[k][3]) - 36;
    CHECK_EQ(s->p1_out->lengths[k], inner);
    if (s->p1_out->lengths[k] == inner)
      CHECK(memcmp(s->p1_out->data + s->p1_out->offsets[k], ips[k] + 36, inner) == 0);
  }
}

/* A datagram of `total` bytes in pieces of `piece`, sent in `order`
 * (indices of pieces; NULL: in order), comes out whole. */
static void order_case(uint32_t total, uint32_t piece, const uint32_t *order, uint32_t n_order) {
  static uint8_t ip[MAX_DGRAM];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  datagram(ip, total, 7);
  uint32_t n = pieces(ip, piece);
  for (uint32_t k = 0; k < n; k++) send_piece(&s, ip, piece, order ? order[k % n_order] : k);
  vg_dp_run_until_idle(s.dp, 0);
  const uint8_t *ips[1] = {ip};
  check_inner(&s, ips, 1);
  CHECK_EQ(err(&s, "datagrams reassembled"), 1);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/frames decapsulated"), 1);
  done(&s);
}

TEST(ip4_reassembly_in_order_out_of_order_and_reversed) {
  order_case(1550, 1480, NULL, 0); /* a full-size frame over VXLAN, as Linux fragments it */
  order_case(4000, 1480, NULL, 0);
  static const uint32_t mixed[] = {2, 0, 3, 1};
  order_case(4000, 1000, mixed, 4);
  static const uint32_t reversed[] = {3, 2, 1, 0};
  order_case(4000, 1000, reversed, 4);
  static const uint32_t last_first[] = {1, 0};
  order_case(1550, 1480, last_first, 2);
}

TEST(ip4_reassembly_joins_9000_and_65535_byte_datagrams_into_chains) {
  order_case(9000, 1480, NULL, 0);
  order_case(MAX_DGRAM, 1480, NULL, 0); /* 45 fragments */
  static const uint32_t reversed[] = {6, 5, 4, 3, 2, 1, 0};
  order_case(9000, 1480, reversed, 7);
  order_case(9000, 4000, NULL, 0);      /* fragments that are chains themselves */
}

/* Fragments that drop their datagram: the counter counts every fragment
 * dropped, and nothing is left held. */
TEST(ip4_reassembly_drops_duplicates_and_overlaps_whole) {
  static uint8_t ip[4000], f[2048];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  datagram(ip, 4000, 1);
  send_piece(&s, ip, 1000, 0);
  send_piece(&s, ip, 1000, 1);
  send_piece(&s, ip, 1000, 1); /* a duplicate */
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "overlap or duplicate: datagram dropped"), 3);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 0);
  /* [0, 1000) then [992, 1992): eight bytes twice. */
  send_piece(&s, ip, 1000, 0);
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 992, 1000, 1));
  /* [2000, 3000) then [2400, 2480) inside it. */
  send_piece(&s, ip, 1000, 2);
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 2400, 80, 1));
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "overlap or duplicate: datagram dropped"), 3 + 4);
  /* A last fragment twice. */
  send_piece(&s, ip, 1000, 3);
  send_piece(&s, ip, 1000, 3);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "overlap or duplicate: datagram dropped"), 7 + 2);
  CHECK_EQ(err(&s, "datagrams reassembled"), 0);
  load(&s);
  CHECK(!s.p1_out || s.p1_out->n_records == 0);
  done(&s);
}

TEST(ip4_reassembly_refuses_bad_lengths_and_contradicting_ends) {
  static uint8_t ip[MAX_DGRAM + 64], f[2048];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  datagram(ip, 4000, 2);
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 0, 0, 1));   /* MF and no data */
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 0, 100, 1)); /* MF and 100 bytes: not 8-byte units */
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "MF fragment data empty or not 8-byte units"), 2);
  /* Ends beyond 65535 with its header: offset 65520, 16 bytes. */
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 65520, 16, 0));
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "fragment ends beyond 65535 bytes"), 1);
  /* The end at 3000, then a last fragment ending at 2000: both go. */
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 2000, 1000, 0));
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 1000, 1000, 0));
  /* The end at 3000, then a fragment beyond it: both go. */
  datagram(ip, 4000, 3);
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 2000, 1000, 0));
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 2800, 400, 1));
  /* A fragment at 2000..3000 held, then a last one ending before it. */
  datagram(ip, 4000, 4);
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 2000, 1000, 1));
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 1000, 8, 0));
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "contradicts the known end: datagram dropped"), 6);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 0);
  done(&s);
}

static void sleep_ms(uint32_t ms) {
  struct timespec d = {0, (long)ms * 1000000};
  nanosleep(&d, NULL);
}

TEST(ip4_reassembly_times_out_without_the_last_fragment) {
  static uint8_t ip[4000];
  box_t s;
  REQUIRE(box(&s, "buffers=4096 reassembly-timeout=100", 4096));
  datagram(ip, 4000, 5);
  send_piece(&s, ip, 1480, 0);
  send_piece(&s, ip, 1480, 1);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 2);
  CHECK_EQ(vg_buffer_pool_available(s.dp), 4096 - 2);
  sleep_ms(150);
  vg_dp_run_until_idle(s.dp, 0); /* the node's poll expires it */
  CHECK_EQ(err(&s, "timed out incomplete: fragments dropped"), 2);
  /* The late last fragment starts a datagram of its own, which times out too. */
  send_piece(&s, ip, 1480, 2);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 1);
  sleep_ms(150);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "timed out incomplete: fragments dropped"), 3);
  CHECK_EQ(err(&s, "datagrams reassembled"), 0);
  done(&s);
}

TEST(ip4_reassembly_limits_fragments_per_datagram) {
  static uint8_t ip[4000], f[256];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  datagram(ip, 4000, 6);
  for (uint32_t k = 0; k < 65; k++) inject(s.dp, s.u0, f, fragment(f, &s, ip, k * 8, 8, 1));
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "more than 64 fragments: datagram dropped"), 65);
  /* 64 exactly is fine: 63 of 8 bytes and a last one. */
  datagram(ip, 20 + 64 * 8, 7);
  static const uint8_t *ips[1];
  ips[0] = ip;
  for (uint32_t k = 0; k < 64; k++) send_piece(&s, ip, 8, k);
  vg_dp_run_until_idle(s.dp, 0);
  check_inner(&s, ips, 1);
  CHECK_EQ(err(&s, "datagrams reassembled"), 1);
  done(&s);
}

TEST(ip4_reassembly_limits_concurrent_datagrams) {
  static uint8_t ip[5][1550];
  box_t s;
  REQUIRE(box(&s, "buffers=4096 reassembly-max=4", 4096));
  for (uint32_t d = 0; d < 5; d++) datagram(ip[d], 1550, (uint16_t)(100 + d));
  for (uint32_t d = 0; d < 5; d++) send_piece(&s, ip[d], 1480, 0);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "every context in use: fragment dropped"), 1);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 4);
  /* One completes, its context is free again: the fifth now goes through. */
  send_piece(&s, ip[0], 1480, 1);
  vg_dp_run_until_idle(s.dp, 0);
  send_piece(&s, ip[4], 1480, 0);
  send_piece(&s, ip[4], 1480, 1);
  for (uint32_t d = 1; d < 4; d++) send_piece(&s, ip[d], 1480, 1);
  vg_dp_run_until_idle(s.dp, 0);
  const uint8_t *ips[5] = {ip[0], ip[4], ip[1], ip[2], ip[3]};
  check_inner(&s, ips, 5);
  CHECK_EQ(err(&s, "datagrams reassembled"), 5);
  done(&s);
}

/* A quarter of the pool, per thread, may wait in reassembly. */
TEST(ip4_reassembly_holds_at_most_a_quarter_of_the_pool) {
  static uint8_t ip[1550];
  box_t s;
  REQUIRE(box(&s, "buffers=1024", 1024));
  for (uint32_t d = 0; d < 300; d++) {
    datagram(ip, 1550, (uint16_t)d);
    send_piece(&s, ip, 1480, 0);
    if (d % 32 == 31) vg_dp_run_until_idle(s.dp, 0);
  }
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 256);
  CHECK_EQ(err(&s, "holds its share of the pool: datagram dropped"), 300 - 256);
  vg_dp_destroy(s.dp); /* frees what is held */
}

/* The pool runs dry as the last fragment comes: the datagram's fragments
 * are dropped and counted, nothing leaks, and the next one goes through. */
TEST(ip4_reassembly_pool_exhaustion_drops_the_datagram) {
  static uint8_t ip[9000];
  static uint32_t hog[1024];
  box_t s;
  REQUIRE(box(&s, "buffers=1024", 1024));
  vg_thread_t *th = &s.dp->threads[0];
  datagram(ip, 9000, 9);
  uint32_t n = pieces(ip, 1480); /* 7; joined they need 4 more buffers */
  for (uint32_t k = 0; k + 1 < n; k++) send_piece(&s, ip, 1480, k);
  vg_dp_run_until_idle(s.dp, 0);
  uint32_t n_hog = 0, avail = vg_buffer_pool_available(s.dp) - 1 - 2; /* the last fragment; 2 spare */
  while (n_hog < avail) {
    uint32_t want = avail - n_hog < 256 ? avail - n_hog : 256, got = vg_buffer_alloc(th, hog + n_hog, want);
    REQUIRE(got);
    n_hog += got;
  }
  send_piece(&s, ip, 1480, n - 1);
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "no buffers to join: datagram dropped"), n);
  CHECK_EQ(vg_ip4_reass_buffers_held(s.dp), 0);
  for (uint32_t i = 0; i < n_hog; i++) vg_buffer(s.dp, hog[i])->flags = 0;
  vg_buffer_free(th, hog, n_hog);
  CHECK_EQ(vg_buffer_pool_available(s.dp), 1024);
  for (uint32_t k = 0; k < n; k++) send_piece(&s, ip, 1480, k);
  vg_dp_run_until_idle(s.dp, 0);
  const uint8_t *ips[1] = {ip};
  check_inner(&s, ips, 1);
  done(&s);
}

/* An echo request in two fragments is answered whole (u0 takes 9000-byte
 * packets, so the reply leaves unfragmented). */
TEST(ip4_reassembly_of_an_echo_request_is_answered) {
  static uint8_t ip[1800], f[2048];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  REQUIRE(vg_interface_set_mtu(s.dp, (uint32_t)s.u0, 9000) == 0);
  memset(ip, 0, 28);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 1;
  vg_put_be16(ip + 2, sizeof ip);
  vg_put_be16(ip + 4, 77);
  vg_wr_be32(ip + 12, REMOTE);
  vg_wr_be32(ip + 16, LOCAL);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  ip[20] = 8;
  for (uint32_t i = 28; i < sizeof ip; i++) ip[i] = data_byte(i);
  vg_put_be16(ip + 22, vg_csum_fold(vg_csum_add(0, ip + 20, sizeof ip - 20)));
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 1480, sizeof ip - 1500, 0));
  inject(s.dp, s.u0, f, fragment(f, &s, ip, 0, 1480, 1));
  vg_dp_run_until_idle(s.dp, 0);
  CHECK_EQ(err(&s, "datagrams reassembled"), 1);
  CHECK_EQ(stat_error(s.dp, "ip4-local/echo requests answered"), 1);
  load(&s);
  REQUIRE(s.u0_out && s.u0_out->n_records == 1);
  const uint8_t *r = s.u0_out->data + s.u0_out->offsets[0] + 14;
  CHECK_EQ(s.u0_out->lengths[0], 14 + sizeof ip);
  CHECK_EQ(r[2] << 8 | r[3], sizeof ip);
  CHECK_EQ(r[6] << 8 | r[7], 0); /* neither MF nor an offset */
  CHECK_EQ(r[20], 0);
  CHECK(memcmp(r + 24, ip + 24, sizeof ip - 24) == 0);
  done(&s);
}

TEST(ip4_reassembly_trace_says_held_and_complete) {
  static uint8_t ip[1550], f[2048];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  datagram(ip, 1550, 0x1234);
  vg_thread_t *th = &s.dp->threads[0];
  uint32_t eth = (uint32_t)vg_node_index(s.dp, "ethernet-input");
  for (uint32_t k = 0; k < 2; k++) {
    inject(s.dp, s.u0, f, fragment(f, &s, ip, k * 1480, k ? 50 : 1480, !k));
    vg_frame_t *fr = th->rt[eth].open;
    REQUIRE(fr);
    th->trace_node = eth;
    th->trace_remaining = 1;
    vg_trace_maybe_start(th, &s.dp->nodes[eth], vg_buffer(s.dp, fr->bi[fr->n - 1]));
    th->trace_remaining = 0;
    vg_dp_run_until_idle(s.dp, 0);
  }
  static char text[32768];
  CHECK(vg_trace_format(s.dp, text, sizeof text) > 0);
  CHECK_STR_CONTAINS(text, "10.0.0.2 -> 10.0.0.1 proto 17 id 4660 offset 0 length 1480 MF: held, 1 fragments, 1480 data bytes");
  CHECK_STR_CONTAINS(text, "10.0.0.2 -> 10.0.0.1 proto 17 id 4660 offset 1480 length 50: complete, 1550 bytes from 2 fragments");
  done(&s);
}

/* ip4-frag on one dataplane (routing the VTEP's packets out of a port of
 * MTU mtu), reassembly on the box: the inner frame arrives as it left. */
static void round_trip(uint32_t total, uint32_t mtu) {
  static uint8_t ip[MAX_DGRAM], f[14 + MAX_DGRAM];
  box_t s;
  REQUIRE(box(&s, "buffers=4096", 4096));
  vg_dp_t *r = vg_dp_create("buffers=4096");
  REQUIRE(r);
  static const uint8_t HOST[6] = {2, 0xaa, 0, 0, 0, 1};
  int a = vg_pcap_interface_create(r, "A", NULL, 0, "/dev/null");
  int b = vg_pcap_interface_create(r, "B", NULL, 0, tmp_path("reass-frag.pcap"));
  REQUIRE(a >= 0 && b >= 0);
  REQUIRE(vg_interface_add_ip4(r, (uint32_t)a, 0x0a010001u, 24) == 0);
  REQUIRE(vg_interface_add_ip4(r, (uint32_t)b, 0x0a000003u, 24) == 0);
  REQUIRE(vg_ip4_neighbor_add(r, (uint32_t)b, LOCAL, s.u0_mac, 1) == 0);
  REQUIRE(vg_interface_set_mtu(r, (uint32_t)b, mtu) == 0);
  uint8_t a_mac[6];
  vg_interface_get_mac(r, (uint32_t)a, a_mac);
  datagram(ip, total, (uint16_t)mtu);
  memcpy(f, a_mac, 6);
  memcpy(f + 6, HOST, 6);
  f[12] = 0x08, f[13] = 0;
  memcpy(f + 14, ip, total);
  inject(r, a, f, 14 + total);
  vg_dp_run_until_idle(r, 0);
  vg_interface_flush(r, (uint32_t)b);
  vg_pcap_file_t *frags = NULL;
  REQUIRE(vg_pcap_load(tmp_path("reass-frag.pcap"), &frags) == 0);
  CHECK_EQ(stat_error(r, "ip4-frag/packets fragmented"), total > mtu);
  for (uint32_t k = frags->n_records; k-- > 0;) /* last first: the worst order */
    inject(s.dp, s.u0, frags->data + frags->offsets[k], frags->lengths[k]);
  vg_dp_run_until_idle(s.dp, 0);
  ip[8]--; /* r routed it */
  const uint8_t *ips[1] = {ip};
  check_inner(&s, ips, 1);
  CHECK_EQ(err(&s, "datagrams reassembled"), total > mtu);
  vg_pcap_file_free(frags);
  vg_dp_destroy(r);
  done(&s);
}

TEST(ip4_reassembly_round_trip_with_ip4_frag) {
  static const uint32_t mtus[] = {576, 1280, 1500, 4000, 9000};
  static const uint32_t sizes[] = {1550, 4000, 9000, 20000};
  for (uint32_t m = 0; m < 5; m++)
    for (uint32_t z = 0; z < 4; z++)
      if ((sizes[z] - 20) / ((mtus[m] - 20) & ~7u) < 64) round_trip(sizes[z], mtus[m]);
  round_trip(MAX_DGRAM, 1500);
  round_trip(1550, 68); /* 48 bytes a fragment: 33 of them */
}
