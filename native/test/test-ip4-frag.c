/* IPv4 fragmentation (ip4-frag): packets routed from port A to a host on
 * port B, bigger than B's MTU and without don't-fragment, leave B as
 * fragments. Each case checks every fragment against RFC 791 (length within
 * the MTU, data in multiples of 8 but the last, offsets, MF, options, a
 * right header checksum, the TTL one less) and that the data reassembles
 * byte for byte; then that the pool got every buffer back. */
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../interfaces/pcap.h"
#include "../ip4/ip4.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define BUFFERS 4096
#define ID 0x1234

static const uint8_t HOST_A[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
static const uint8_t HOST_B[6] = {0x02, 0xbb, 0, 0, 0, 0x02};

typedef struct {
  vg_dp_t *dp;
  int a, b;
  uint8_t mac_a[6];
  vg_pcap_file_t *sent_a, *sent_b;
} net_t;

/* Ports A (10.1.0.1/24, host 10.1.0.2) and B (10.2.0.1/24, host 10.2.0.2,
 * MTU mtu), each writing what it sends to a pcap file. */
static int net(net_t *n, const char *config, uint32_t mtu) {
  memset(n, 0, sizeof *n);
  if (!(n->dp = vg_dp_create(config))) return 0;
  n->a = vg_pcap_interface_create(n->dp, "A", NULL, 1, tmp_path("frag-a.pcap"));
  n->b = vg_pcap_interface_create(n->dp, "B", NULL, 1, tmp_path("frag-b.pcap"));
  if (n->a < 0 || n->b < 0 || vg_interface_add_ip4(n->dp, (uint32_t)n->a, IP(10, 1, 0, 1), 24) ||
      vg_interface_add_ip4(n->dp, (uint32_t)n->b, IP(10, 2, 0, 1), 24) ||
      vg_ip4_neighbor_add(n->dp, (uint32_t)n->a, IP(10, 1, 0, 2), HOST_A, 1) ||
      vg_ip4_neighbor_add(n->dp, (uint32_t)n->b, IP(10, 2, 0, 2), HOST_B, 1) ||
      vg_interface_set_mtu(n->dp, (uint32_t)n->b, mtu)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return 0;
  }
  vg_interface_get_mac(n->dp, (uint32_t)n->a, n->mac_a);
  return 1;
}

/* Data byte i of every test packet: no period a misplaced piece could hide in. */
static uint8_t data_byte(uint32_t i) { return (uint8_t)(i * 7 + (i >> 8) * 13 + 1); }

/* A frame from host A to host B: IPv4 with `opts` (a multiple of 4 bytes),
 * flags and offset field `field`, and `data` bytes of UDP datagram. */
static uint32_t packet(uint8_t *f, const net_t *n, const uint8_t *opts, uint32_t olen, uint16_t field,
                       uint32_t data) {
  memcpy(f, n->mac_a, 6);
  memcpy(f + 6, HOST_A, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t *ip = f + 14;
  uint32_t hl = 20 + olen;
  memset(ip, 0, 20);
  ip[0] = (uint8_t)(0x40 | hl / 4);
  vg_put_be16(ip + 2, (uint16_t)(hl + data));
  vg_put_be16(ip + 4, ID);
  vg_put_be16(ip + 6, field);
  ip[8] = 64, ip[9] = 17;
  vg_wr_be32(ip + 12, IP(10, 1, 0, 2));
  vg_wr_be32(ip + 16, IP(10, 2, 0, 2));
  if (olen) memcpy(ip + 20, opts, olen);
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, hl)));
  for (uint32_t i = 0; i < data; i++) ip[hl + i] = data_byte(i);
  return 14 + hl + data;
}

/* One frame in on A (a chain when longer than a buffer), traced when
 * asked; runs the graph and loads what A and B sent. */
static void send_one(net_t *n, const uint8_t *f, uint32_t len, int trace) {
  vg_thread_t *th = &n->dp->threads[0];
  uint32_t bi = rx_buffer(n->dp, (uint32_t)n->a, f, len), eth = (uint32_t)vg_node_index(n->dp, "ethernet-input");
  REQUIRE(bi != VG_BUFFER_INVALID);
  if (trace) {
    th->trace_node = eth;
    th->trace_remaining = 1;
    vg_trace_maybe_start(th, &n->dp->nodes[eth], vg_buffer(n->dp, bi));
    th->trace_remaining = 0;
  }
  vg_enqueue(th, eth, &bi, 1);
  vg_dp_run_until_idle(n->dp, 0);
}

static void load(net_t *n) {
  vg_interface_flush(n->dp, (uint32_t)n->a);
  vg_interface_flush(n->dp, (uint32_t)n->b);
  vg_pcap_file_free(n->sent_a);
  vg_pcap_file_free(n->sent_b);
  n->sent_a = n->sent_b = NULL;
  vg_pcap_load(tmp_path("frag-a.pcap"), &n->sent_a);
  vg_pcap_load(tmp_path("frag-b.pcap"), &n->sent_b);
}

static void done(net_t *n, uint32_t buffers) {
  CHECK_EQ(vg_buffer_pool_available(n->dp), buffers);
  vg_pcap_file_free(n->sent_a);
  vg_pcap_file_free(n->sent_b);
  vg_dp_destroy(n->dp);
}

/* What the fragments must add up to. */
typedef struct {
  uint32_t mtu;
  const uint8_t *orig;   /* the IPv4 header sent */
  uint32_t data;         /* its data bytes */
  uint32_t later_hl;     /* header length of the fragments after the first */
  const uint8_t *later_opts;
  uint32_t n_fragments;  /* expected */
} expect_t;

/* Checks B's fragments against e; reassembles their data into `whole`. */
static void check_fragments(const net_t *n, const expect_t *e) {
  static uint8_t whole[65536];
  const vg_pcap_file_t *s = n->sent_b;
  REQUIRE(s);
  CHECK_EQ(s->n_records, e->n_fragments);
  uint32_t hl0 = (uint32_t)(e->orig[0] & 0x0f) * 4, at = 0;
  uint32_t field0 = (uint32_t)(e->orig[6] << 8 | e->orig[7]), offset0 = (field0 & 0x1fff) * 8;
  memset(whole, 0, e->data);
  for (uint32_t k = 0; k < s->n_records && k < e->n_fragments; k++) {
    const uint8_t *f = s->data + s->offsets[k], *ip = f + 14;
    uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, total = (uint32_t)(ip[2] << 8 | ip[3]);
    uint32_t field = (uint32_t)(ip[6] << 8 | ip[7]), d = total - hl;
    int last = k + 1 == e->n_fragments;
    CHECK(memcmp(f, HOST_B, 6) == 0);
    CHECK_EQ(s->lengths[k], 14 + total);
    CHECK(total <= e->mtu);
    CHECK_EQ(hl, k ? e->later_hl : hl0);
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, ip, hl)), 0);
    CHECK_EQ(ip[4] << 8 | ip[5], ID);
    CHECK_EQ(ip[8], e->orig[8] - 1);
    CHECK(memcmp(ip + 12, e->orig + 12, 8) == 0);
    if (k && hl > 20) CHECK(memcmp(ip + 20, e->later_opts, hl - 20) == 0);
    if (!k) CHECK(memcmp(ip + 20, e->orig + 20, hl - 20) == 0);
    CHECK_EQ((field & 0x1fff) * 8, offset0 + at);
    CHECK_EQ(!!(field & 0x2000), last ? !!(field0 & 0x2000) : 1);
    CHECK_EQ(field & 0xc000, field0 & 0xc000);
    /* As much data as the MTU takes, in 8-byte units; the last the rest. */
    if (!last) CHECK_EQ(d, (e->mtu - hl) & ~7u);
    REQUIRE(at + d <= e->data);
    memcpy(whole + at, ip + hl, d);
    at += d;
  }
  CHECK_EQ(at, e->data);
  for (uint32_t i = 0; i < e->data; i++)
    if (whole[i] != data_byte(i)) {
      test_fail(__FILE__, __LINE__, "reassembled byte %u is 0x%02x, not 0x%02x", i, whole[i], data_byte(i));
      break;
    }
}

static uint32_t n_fragments(uint32_t mtu, uint32_t hl, uint32_t later_hl, uint32_t data) {
  uint32_t first = (mtu - hl) & ~7u, later = (mtu - later_hl) & ~7u;
  return data <= first ? 1 : 1 + (data - first + later - 1) / later;
}

/* Sends one packet of `data` bytes through B at `mtu` and checks what left. */
static void fragment_case(uint32_t mtu, const uint8_t *opts, uint32_t olen, const uint8_t *later_opts,
                          uint32_t later_olen, uint16_t field, uint32_t data) {
  static uint8_t f[14 + 65535];
  net_t n;
  REQUIRE(net(&n, "buffers=4096", mtu));
  uint32_t len = packet(f, &n, opts, olen, field, data);
  send_one(&n, f, len, 0);
  load(&n);
  expect_t e = {mtu, f + 14, data, 20 + later_olen, later_opts,
                n_fragments(mtu, 20 + olen, 20 + later_olen, data)};
  check_fragments(&n, &e);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/packets fragmented"), 1);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/fragments made"), e.n_fragments);
  CHECK_EQ(stat_elem(n.dp, "/if/tx-packets", "B"), e.n_fragments);
  CHECK(n.sent_a && n.sent_a->n_records == 0);
  done(&n, BUFFERS);
}

TEST(ip4_frag_splits_at_mtus_576_1280_1500) {
  static const uint32_t mtus[] = {576, 1280, 1500};
  for (uint32_t i = 0; i < 3; i++) {
    fragment_case(mtus[i], NULL, 0, NULL, 0, 0, 4000 - 20);
    fragment_case(mtus[i], NULL, 0, NULL, 0, 0, mtus[i] - 20 + 1); /* one byte over */
  }
  CHECK_EQ(n_fragments(576, 20, 20, 3980), 8);
  CHECK_EQ(n_fragments(1500, 20, 20, 1530), 2); /* a 1550-byte VXLAN packet */
}

TEST(ip4_frag_a_9000_byte_chain_at_1500_and_into_chained_fragments_at_4000) {
  fragment_case(1500, NULL, 0, NULL, 0, 0, 9000 - 20); /* 7 fragments from a 5-buffer chain */
  fragment_case(4000, NULL, 0, NULL, 0, 0, 9000 - 20); /* 3976 + 20 bytes: two buffers each */
  fragment_case(9000, NULL, 0, NULL, 0, 0, 20000);     /* the largest MTU, three chains */
  fragment_case(1500, NULL, 0, NULL, 0, 0, 65535 - 20); /* the largest packet */
}

TEST(ip4_frag_of_a_fragment_keeps_its_offset_and_mf) {
  /* A middle piece (MF, offset 800): every fragment MF, offsets from 800. */
  fragment_case(1280, NULL, 0, NULL, 0, 0x2000 | 100, 3000);
  /* A last piece (MF clear, offset 1480): only its last fragment MF clear. */
  fragment_case(576, NULL, 0, NULL, 0, 185, 2000);
  /* The reserved bit travels with every fragment too. */
  fragment_case(576, NULL, 0, NULL, 0, 0x8000, 1000);
}

TEST(ip4_frag_copies_only_options_with_the_copy_flag) {
  /* Router alert (copied), record route (not), end: 12 bytes. Later
   * fragments carry the router alert alone. */
  static const uint8_t opts[12] = {0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0};
  static const uint8_t later[4] = {0x94, 4, 0, 0};
  fragment_case(576, opts, 12, later, 4, 0, 2000);
  /* Record route before a copied option that then needs padding. */
  static const uint8_t opts2[12] = {1, 7, 7, 4, 0, 0, 0, 0, 0x83, 3, 4, 0};
  static const uint8_t later2[4] = {0x83, 3, 4, 0};
  fragment_case(1280, opts2, 12, later2, 4, 0, 3000);
}

TEST(ip4_frag_at_the_smallest_mtu_with_the_longest_header) {
  fragment_case(68, NULL, 0, NULL, 0, 0, 1000); /* 48 bytes of data each */
  /* 60-byte header: 8 bytes in the first fragment, 40 in the later ones
   * (24-byte header with the router alert). */
  uint8_t opts[40];
  memset(opts, 1, sizeof opts);
  static const uint8_t later[4] = {0x94, 4, 0, 0};
  memcpy(opts + 36, later, 4);
  fragment_case(68, opts, 40, later, 4, 0, 1000);
}

TEST(ip4_frag_dont_fragment_still_gets_icmp_fragmentation_needed) {
  static uint8_t f[2048];
  net_t n;
  REQUIRE(net(&n, "buffers=4096", 576));
  uint32_t len = packet(f, &n, NULL, 0, 0x4000, 1000);
  send_one(&n, f, len, 0);
  load(&n);
  REQUIRE(n.sent_a && n.sent_b);
  CHECK_EQ(n.sent_b->n_records, 0);
  REQUIRE(n.sent_a->n_records == 1);
  const uint8_t *err = n.sent_a->data + n.sent_a->offsets[0];
  CHECK_EQ(err[14 + 20], 3);
  CHECK_EQ(err[14 + 21], 4);
  CHECK_EQ(err[14 + 26] << 8 | err[14 + 27], 576);
  CHECK_EQ(stat_error(n.dp, "ip4-rewrite/bigger than the MTU with don't-fragment set"), 1);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/packets fragmented"), 0);
  done(&n, BUFFERS);
}

TEST(ip4_frag_within_the_mtu_is_not_fragmented) {
  static uint8_t f[2048];
  net_t n;
  REQUIRE(net(&n, "buffers=4096", 1500));
  uint32_t len = packet(f, &n, NULL, 0, 0, 1480);
  send_one(&n, f, len, 0);
  load(&n);
  REQUIRE(n.sent_b && n.sent_b->n_records == 1);
  CHECK_EQ(n.sent_b->lengths[0], len);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/fragments made"), 0);
  done(&n, BUFFERS);
}

/* The pool runs dry after three fragments: those are freed again, the
 * packet is dropped and counted, nothing leaves B and nothing leaks. */
TEST(ip4_frag_pool_exhaustion_is_counted_and_leaks_nothing) {
  static uint8_t f[8192];
  net_t n;
  REQUIRE(net(&n, "buffers=1024", 576));
  vg_thread_t *th = &n.dp->threads[0];
  uint32_t len = packet(f, &n, NULL, 0, 0, 4000);
  static uint32_t hog[1024];
  uint32_t n_hog = 0, avail = vg_buffer_pool_available(n.dp) - 2; /* the packet's two buffers */
  while (n_hog + 3 < avail) {
    uint32_t want = avail - 3 - n_hog < 256 ? avail - 3 - n_hog : 256;
    uint32_t got = vg_buffer_alloc(th, hog + n_hog, want);
    REQUIRE(got);
    n_hog += got;
  }
  send_one(&n, f, len, 0);
  load(&n);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/no buffers for the fragments (pool exhausted)"), 1);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/packets fragmented"), 0);
  CHECK_EQ(stat_elem(n.dp, "/if/tx-packets", "B"), 0);
  CHECK(!n.sent_b || n.sent_b->n_records == 0);
  for (uint32_t i = 0; i < n_hog; i++) vg_buffer(n.dp, hog[i])->flags = 0;
  vg_buffer_free(th, hog, n_hog);
  /* With buffers back, the same packet goes through. */
  send_one(&n, f, len, 0);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/packets fragmented"), 1);
  CHECK_EQ(stat_elem(n.dp, "/if/tx-packets", "B"), 8);
  done(&n, 1024);
}

/* A vector of big packets at the smallest MTU makes more fragments than
 * one call queues: the rest of the vector waits for the next call, and
 * every packet still goes out whole and in order. */
TEST(ip4_frag_many_fragments_per_vector) {
  static uint8_t f[4096];
  net_t n;
  REQUIRE(net(&n, "buffers=16384", 68));
  vg_thread_t *th = &n.dp->threads[0];
  uint32_t len = packet(f, &n, NULL, 0, 0, 3000), eth = (uint32_t)vg_node_index(n.dp, "ethernet-input");
  uint32_t bi[64];
  for (uint32_t i = 0; i < 64; i++) REQUIRE((bi[i] = rx_buffer(n.dp, (uint32_t)n.a, f, len)) != VG_BUFFER_INVALID);
  vg_enqueue(th, eth, bi, 64);
  vg_dp_run_until_idle(n.dp, 0);
  uint32_t each = n_fragments(68, 20, 20, 3000); /* 63 */
  CHECK_EQ(stat_error(n.dp, "ip4-frag/packets fragmented"), 64);
  CHECK_EQ(stat_error(n.dp, "ip4-frag/fragments made"), 64 * each);
  load(&n);
  REQUIRE(n.sent_b && n.sent_b->n_records == 64 * each);
  for (uint32_t k = 0; k < n.sent_b->n_records; k++) {
    const uint8_t *ip = n.sent_b->data + n.sent_b->offsets[k] + 14;
    CHECK_EQ((ip[6] << 8 | ip[7]) & 0x1fff, (k % each) * 6); /* 48 bytes: 6 units */
  }
  done(&n, 16384);
}

TEST(ip4_frag_trace_explains_and_follows_the_first_fragment) {
  static uint8_t f[4096];
  net_t n;
  REQUIRE(net(&n, "buffers=4096", 1500));
  uint32_t len = packet(f, &n, NULL, 0, 0, 3000);
  send_one(&n, f, len, 1);
  static char text[16384];
  CHECK(vg_trace_format(n.dp, text, sizeof text) > 0);
  CHECK_STR_CONTAINS(text, "ip4-frag");
  CHECK_STR_CONTAINS(text, "mtu 1500: 3020 bytes (id 4660 offset 0) into 3 fragments of at most 1500 bytes");
  CHECK(strstr(strstr(text, "ip4-frag"), "ip4-rewrite")); /* the first fragment, on its way */
  load(&n);
  done(&n, BUFFERS);
}
