/* IPv4 forwarding through pcap ports: routing with TTL and checksum, ARP
 * (answering, learning, resolving), ICMP echo and errors, every bad header
 * counted under its own reason, and the mtrie against a brute-force LPM. */
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../interfaces/pcap.h"
#include "../ip4/ip4.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint8_t HOST_A[6] = {0x02, 0xaa, 0, 0, 0, 0x01};
static const uint8_t HOST_B[6] = {0x02, 0xbb, 0, 0, 0, 0x02};

/* An Ethernet + IPv4 frame with a right checksum; returns its length. */
static uint32_t ip4_frame(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, uint32_t src,
                          uint32_t dst, uint8_t ttl, uint8_t proto, uint32_t payload) {
  memcpy(f, dmac, 6);
  memcpy(f + 6, smac, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t *ip = f + 14;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  vg_put_be16(ip + 2, (uint16_t)(20 + payload));
  ip[8] = ttl;
  ip[9] = proto;
  vg_wr_be32(ip + 12, src);
  vg_wr_be32(ip + 16, dst);
  for (uint32_t i = 0; i < payload; i++) ip[20 + i] = (uint8_t)i;
  if (proto == 1 && payload >= 8) { /* echo request */
    ip[20] = 8, ip[21] = 0, ip[22] = ip[23] = 0;
    vg_put_be16(ip + 22, vg_csum_fold(vg_csum_add(0, ip + 20, payload)));
  }
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  return 14 + 20 + payload;
}

static uint32_t arp_frame(uint8_t *f, const uint8_t *smac, uint16_t op, uint32_t sender, uint32_t target) {
  memset(f, 0xff, 6);
  memcpy(f + 6, smac, 6);
  f[12] = 0x08, f[13] = 0x06;
  static const uint8_t head[6] = {0, 1, 8, 0, 6, 4};
  memcpy(f + 14, head, 6);
  vg_put_be16(f + 20, op);
  memcpy(f + 22, smac, 6);
  vg_wr_be32(f + 28, sender);
  memset(f + 32, 0, 6);
  vg_wr_be32(f + 38, target);
  return 42;
}

typedef struct {
  vg_dp_t *dp;
  int a, b; /* sw_if_index of ports A (10.1.0.1/24) and B (10.2.0.1/24) */
  uint8_t mac_a[6], mac_b[6];
} router_t;

/* Two pcap ports writing what they send to a.pcap and b.pcap. Static
 * neighbor hosts: 10.1.0.2 on A, 10.2.0.2 on B. */
static int router(router_t *r) {
  r->dp = vg_dp_create("buffers=4096");
  if (!r->dp) return -1;
  r->a = vg_pcap_interface_create(r->dp, "A", NULL, 1, tmp_path("a.pcap"));
  r->b = vg_pcap_interface_create(r->dp, "B", NULL, 1, tmp_path("b.pcap"));
  if (r->a < 0 || r->b < 0) return -1;
  vg_interface_get_mac(r->dp, (uint32_t)r->a, r->mac_a);
  vg_interface_get_mac(r->dp, (uint32_t)r->b, r->mac_b);
  if (vg_interface_add_ip4(r->dp, (uint32_t)r->a, IP(10, 1, 0, 1), 24) ||
      vg_interface_add_ip4(r->dp, (uint32_t)r->b, IP(10, 2, 0, 1), 24) ||
      vg_ip4_neighbor_add(r->dp, (uint32_t)r->a, IP(10, 1, 0, 2), HOST_A, 1) ||
      vg_ip4_neighbor_add(r->dp, (uint32_t)r->b, IP(10, 2, 0, 2), HOST_B, 1)) {
    test_fail(__FILE__, __LINE__, "router set-up: %s", vg_last_error());
    return -1;
  }
  return 0;
}

/* Delivers the frames as received on port A, runs the graph, and loads
 * what each port sent. */
static void run(router_t *r, const uint8_t *const *frames, const uint32_t *lens, uint32_t n,
                vg_pcap_file_t **sent_a, vg_pcap_file_t **sent_b) {
  vg_thread_t *th = &r->dp->threads[0];
  for (uint32_t i = 0; i < n; i++) {
    uint32_t bi;
    if (vg_buffer_alloc(th, &bi, 1) != 1) return;
    vg_buffer_t *b = vg_buffer(r->dp, bi);
    memset(b, 0, sizeof *b);
    b->sw_if_index[VG_RX] = (uint32_t)r->a;
    b->sw_if_index[VG_TX] = VG_NONE;
    vg_buffer_append(th, bi, frames[i], lens[i]);
    vg_enqueue(th, (uint32_t)vg_node_index(r->dp, "ethernet-input"), &bi, 1);
  }
  vg_dp_run_until_idle(r->dp, 0);
  vg_interface_flush(r->dp, (uint32_t)r->a);
  vg_interface_flush(r->dp, (uint32_t)r->b);
  *sent_a = *sent_b = NULL;
  vg_pcap_load(tmp_path("a.pcap"), sent_a);
  vg_pcap_load(tmp_path("b.pcap"), sent_b);
}

static void done(router_t *r, vg_pcap_file_t *a, vg_pcap_file_t *b) {
  CHECK_EQ(vg_buffer_pool_available(r->dp), 4096);
  vg_pcap_file_free(a);
  vg_pcap_file_free(b);
  vg_dp_destroy(r->dp);
}

TEST(ip4_routes_between_ports_with_ttl_and_checksum) {
  router_t r;
  REQUIRE(router(&r) == 0);
  static uint8_t f[2][128];
  uint32_t len[2];
  len[0] = ip4_frame(f[0], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 64, 17, 40);
  len[1] = ip4_frame(f[1], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 2, 6, 60);
  const uint8_t *frames[2] = {f[0], f[1]};
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 2, &a, &b);
  REQUIRE(a && b);
  CHECK_EQ(a->n_records, 0);
  REQUIRE(b->n_records == 2);
  for (uint32_t i = 0; i < 2; i++) {
    const uint8_t *o = b->data + b->offsets[i];
    CHECK_EQ(b->lengths[i], len[i]);
    CHECK(memcmp(o, HOST_B, 6) == 0);      /* to the next hop's MAC */
    CHECK(memcmp(o + 6, r.mac_b, 6) == 0); /* from the port's */
    CHECK_EQ(o[14 + 8], f[i][14 + 8] - 1); /* TTL one less */
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, o + 14, 20)), 0);
    CHECK(memcmp(o + 14 + 20, f[i] + 14 + 20, len[i] - 34) == 0);
  }
  CHECK_EQ(stat_elem(r.dp, "/nodes/packets", "ip4-rewrite"), 2);
  done(&r, a, b);
}

TEST(ip4_ttl_expiry_and_no_route_get_icmp_errors) {
  router_t r;
  REQUIRE(router(&r) == 0);
  static uint8_t f[3][128];
  uint32_t len[3];
  len[0] = ip4_frame(f[0], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 1, 17, 40);
  len[1] = ip4_frame(f[1], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(192, 0, 2, 9), 64, 17, 40);
  len[2] = ip4_frame(f[2], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 1, 0, 1), 64, 17, 20); /* closed UDP port */
  const uint8_t *frames[3] = {f[0], f[1], f[2]};
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 3, &a, &b);
  REQUIRE(a && b);
  CHECK_EQ(b->n_records, 0);
  REQUIRE(a->n_records == 3);
  /* The errors leave in the order their paths finish: match them by what
   * they quote (the destination of the packet they are about). */
  static const uint8_t type_code[3][2] = {{11, 0}, {3, 0}, {3, 3}};
  for (uint32_t i = 0; i < 3; i++) {
    const uint8_t *o = NULL;
    for (uint32_t k = 0; k < a->n_records; k++)
      if (memcmp(a->data + a->offsets[k] + 14 + 28 + 16, f[i] + 14 + 16, 4) == 0) o = a->data + a->offsets[k];
    if (!o) {
      test_fail(__FILE__, __LINE__, "no ICMP error about packet %u", i);
      continue;
    }
    const uint8_t *ip = o + 14, *icmp = ip + 20;
    CHECK(memcmp(o, HOST_A, 6) == 0);
    CHECK_EQ(ip[9], 1);
    CHECK_EQ(vg_rd_be32(ip + 12), IP(10, 1, 0, 1)); /* from the port's address */
    CHECK_EQ(vg_rd_be32(ip + 16), IP(10, 1, 0, 2));
    CHECK_EQ(icmp[0], type_code[i][0]);
    CHECK_EQ(icmp[1], type_code[i][1]);
    uint32_t icmp_len = (uint32_t)(ip[2] << 8 | ip[3]) - 20;
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, icmp, icmp_len)), 0);
    CHECK(memcmp(icmp + 8 + 12, f[i] + 14 + 12, 8) == 0); /* quotes the addresses */
  }
  CHECK_EQ(stat_error(r.dp, "ip4-rewrite/TTL expired in transit"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-lookup/no route to the destination"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-local/UDP to a closed port"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-icmp-error/ICMP errors sent"), 3);
  done(&r, a, b);
}

TEST(ip4_echo_reply_arp_reply_and_learning) {
  router_t r;
  REQUIRE(router(&r) == 0);
  static uint8_t f[3][128];
  uint32_t len[3];
  static const uint8_t host_c[6] = {0x02, 0xcc, 0, 0, 0, 3};
  len[0] = ip4_frame(f[0], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 1, 0, 1), 64, 1, 56);
  len[1] = arp_frame(f[1], host_c, 1, IP(10, 1, 0, 3), IP(10, 1, 0, 1));
  len[2] = arp_frame(f[2], host_c, 1, IP(10, 1, 0, 3), IP(10, 1, 0, 99)); /* not us */
  const uint8_t *frames[3] = {f[0], f[1], f[2]};
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 3, &a, &b);
  REQUIRE(a && a->n_records == 2);
  int arp_first = a->data[a->offsets[0] + 13] == 0x06;
  const uint8_t *echo = a->data + a->offsets[arp_first ? 1 : 0];
  CHECK_EQ(echo[14 + 20], 0); /* echo reply */
  CHECK_EQ(vg_rd_be32(echo + 14 + 16), IP(10, 1, 0, 2));
  CHECK_EQ(vg_csum_fold(vg_csum_add(0, echo + 34, 56)), 0);
  const uint8_t *reply = a->data + a->offsets[arp_first ? 0 : 1];
  CHECK(memcmp(reply, host_c, 6) == 0);
  CHECK_EQ(reply[21], 2);
  CHECK(memcmp(reply + 22, r.mac_a, 6) == 0);
  CHECK_EQ(vg_rd_be32(reply + 28), IP(10, 1, 0, 1));
  CHECK_EQ(vg_rd_be32(reply + 38), IP(10, 1, 0, 3));
  CHECK_EQ(stat_error(r.dp, "arp-input/ARP requests answered"), 1);
  CHECK_EQ(stat_error(r.dp, "arp-input/target is not this box"), 1);
  /* The requester was learned, once thread 0 applied it. */
  vg_dp_run_until_idle(r.dp, 1);
  char text[2048];
  vg_ip4_neighbor_format(r.dp, text, sizeof text);
  CHECK_STR_CONTAINS(text, "10.1.0.3 02:cc:00:00:00:03 A dynamic");
  vg_ip4_fib_format(r.dp, 0, text, sizeof text);
  CHECK_STR_CONTAINS(text, "10.1.0.3/32 neighbor neighbor via 10.1.0.3 A\n");
  CHECK_STR_CONTAINS(text, "10.1.0.0/24 connected glean A\n");
  CHECK_STR_CONTAINS(text, "10.1.0.1/32 local local\n");
  done(&r, a, b);
}

TEST(ip4_unresolved_next_hop_sends_arp_request) {
  router_t r;
  REQUIRE(router(&r) == 0);
  vg_next_hop_t nh = {IP(10, 2, 0, 7), VG_NONE, 1};
  REQUIRE(vg_ip4_route_add(r.dp, 0, IP(172, 16, 0, 0), 16, &nh, 1, 0) == 0);
  static uint8_t f[3][128];
  uint32_t len[3];
  len[0] = ip4_frame(f[0], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(172, 16, 5, 5), 64, 17, 30);
  len[1] = ip4_frame(f[1], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(172, 16, 5, 6), 64, 17, 30); /* throttled */
  len[2] = ip4_frame(f[2], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 9), 64, 17, 30);  /* glean */
  const uint8_t *frames[3] = {f[0], f[1], f[2]};
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 3, &a, &b);
  REQUIRE(b && b->n_records == 2);
  const uint8_t *req = b->data + b->offsets[0];
  CHECK_EQ(b->lengths[0], 60);
  CHECK(memcmp(req, "\xff\xff\xff\xff\xff\xff", 6) == 0);
  CHECK_EQ(req[12], 0x08);
  CHECK_EQ(req[13], 0x06);
  CHECK_EQ(req[21], 1);
  CHECK_EQ(vg_rd_be32(req + 28), IP(10, 2, 0, 1));
  CHECK_EQ(vg_rd_be32(req + 38), IP(10, 2, 0, 7));
  CHECK_EQ(vg_rd_be32(b->data + b->offsets[1] + 38), IP(10, 2, 0, 9));
  CHECK_EQ(stat_error(r.dp, "ip4-arp/ARP request throttled (packet dropped)"), 1);
  done(&r, a, b);
}

TEST(ip4_bad_headers_each_counted) {
  router_t r;
  REQUIRE(router(&r) == 0);
  static uint8_t f[10][128];
  uint32_t len[10];
  for (int i = 0; i < 10; i++)
    len[i] = ip4_frame(f[i], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 64, 17, 30);
  len[0] = 14 + 12;                              /* truncated header */
  f[1][14 + 10] ^= 0x5a;                         /* bad checksum */
  f[2][14 + 8] = 0;                              /* TTL 0 (checksum fixed below) */
  f[3][14] = 0x44;                               /* IHL 4 */
  vg_put_be16(f[4] + 16, 200);                   /* total length beyond the frame */
  f[5][14] = 0x65;                               /* version 6 */
  f[6][14] = 0x46, len[6] += 4;                  /* an option with a bad length */
  memmove(f[6] + 38, f[6] + 34, 30);
  f[6][34] = 0x44, f[6][35] = 9, f[6][36] = 0, f[6][37] = 0;
  vg_put_be16(f[6] + 16, 54);
  f[7][14 + 12] = 224;                           /* multicast source */
  vg_put_be16(f[8] + 16, 16);                    /* total length shorter than the header */
  len[9] = arp_frame(f[9], HOST_A, 7, IP(10, 1, 0, 2), IP(10, 1, 0, 1)); /* ARP opcode 7 */
  for (int i = 2; i <= 8; i++) {
    if (i == 3 || i == 5) continue;
    f[i][24] = f[i][25] = 0;
    uint32_t hl = (uint32_t)(f[i][14] & 0x0f) * 4;
    vg_put_be16(f[i] + 24, vg_csum_fold(vg_csum_add(0, f[i] + 14, hl)));
  }
  const uint8_t *frames[10];
  for (int i = 0; i < 10; i++) frames[i] = f[i];
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 10, &a, &b);
  CHECK_EQ(stat_error(r.dp, "ip4-input/frame too short for an IPv4 header"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/bad header checksum"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/header length below 20 bytes (IHL < 5)"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/TTL 0"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/total length beyond the frame"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/version is not 4"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/malformed options"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/source address is multicast, broadcast or loopback"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-input/total length shorter than the header"), 1);
  CHECK_EQ(stat_error(r.dp, "arp-input/opcode is neither request nor reply"), 1);
  CHECK_EQ(stat_elem(r.dp, "/if/rx-errors", "A"), 10); /* every one above is malformed */
  CHECK_EQ(stat_elem(r.dp, "/if/rx-errors", "B"), 0);
  CHECK(b && b->n_records == 0);
  done(&r, a, b);
}

static uint32_t next_rand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(*s >> 33);
}

/* The mtrie answers exactly what a brute-force longest-prefix match over
 * the route table answers, through adds, replacements and deletes. */
TEST(ip4_mtrie_matches_brute_force_lpm) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  /* Each route gets its own next hop, hence its own load-balance object:
   * the object a lookup returns names the route it matched. */
  int nhp = vg_pcap_interface_create(dp, "N", NULL, 0, "/dev/null");
  REQUIRE(nhp >= 0 && vg_interface_add_ip4(dp, (uint32_t)nhp, IP(100, 64, 0, 1), 10) == 0);
  uint32_t plies_before = dp->ip4->n_plies - dp->ip4->n_free_plies;
  enum { N = 3000, PROBES = 20000 };
  static uint32_t pfx[N], plen[N];
  static uint8_t live[N];
  uint64_t rng = 42;
#define RAND() next_rand(&rng)
  uint32_t added = 0;
  for (uint32_t i = 0; i < N; i++) {
    uint32_t len = RAND() % 33, mask = len ? ~0u << (32 - len) : 0;
    /* Cluster the prefixes so they overlap: a few /8s only. */
    uint32_t net = RAND() % 4 + 10;
    pfx[i] = (net << 24 | (RAND() & 0x00ffffff)) & mask;
    plen[i] = len;
    if (len == 0) continue;
    vg_next_hop_t nh = {IP(100, 64, 0, 2) + i, VG_NONE, 1};
    if (vg_ip4_route_add(dp, 0, pfx[i], len, &nh, 1, 0) == 0) live[i] = 1, added++;
  }
  CHECK(added > N / 2);
  vg_fib_t *fib = vg_fib_get(dp, 0, 0);
  REQUIRE(fib);
  for (int round = 0; round < 2; round++) {
    uint32_t wrong = 0;
    for (uint32_t p = 0; p < PROBES; p++) {
      uint32_t net = RAND() % 4 + 10;
      uint32_t addr = net << 24 | (RAND() & 0x00ffffff);
      if (p % 4 == 0) { /* inside a known prefix, to hit the deep plies */
        uint32_t i = RAND() % N;
        uint32_t host = RAND();
        addr = pfx[i] | (host & (plen[i] ? ~(~0u << (32 - plen[i])) : ~0u));
      }
      vg_route_t *want = vg_fib_route_match(fib, addr);
      uint32_t got = vg_mtrie_lookup(dp->ip4, &fib->mtrie, addr);
      if (!want || got != want->lb) wrong++;
    }
    CHECK_EQ(wrong, 0);
    /* Delete every other live route, then check again. */
    for (uint32_t i = 0; i < N; i += 2)
      if (live[i] && vg_fib_route_find(fib, pfx[i], plen[i])) {
        CHECK_EQ(vg_ip4_route_delete(dp, 0, pfx[i], plen[i]), 0);
        live[i] = 0;
      }
  }
  /* Deleting them all gives the plies back. */
  for (uint32_t i = 0; i < N; i++)
    if (vg_fib_route_find(fib, pfx[i], plen[i]) && plen[i]) vg_ip4_route_delete(dp, 0, pfx[i], plen[i]);
  CHECK_EQ(dp->ip4->n_plies - dp->ip4->n_free_plies, plies_before);
  CHECK_EQ(vg_mtrie_lookup(dp->ip4, &fib->mtrie, IP(10, 1, 2, 3)), vg_fib_route_find(fib, 0, 0)->lb);
  vg_dp_destroy(dp);
}

TEST(ip4_ecmp_spreads_flows_and_vrfs_stay_apart) {
  router_t r;
  REQUIRE(router(&r) == 0);
  int c = vg_pcap_interface_create(r.dp, "C", NULL, 1, tmp_path("c.pcap"));
  REQUIRE(c >= 0);
  REQUIRE(vg_interface_add_ip4(r.dp, (uint32_t)c, IP(10, 3, 0, 1), 24) == 0);
  static const uint8_t host_c[6] = {0x02, 0xcc, 0, 0, 0, 3};
  REQUIRE(vg_ip4_neighbor_add(r.dp, (uint32_t)c, IP(10, 3, 0, 2), host_c, 1) == 0);
  vg_next_hop_t nh[2] = {{IP(10, 2, 0, 2), VG_NONE, 1}, {IP(10, 3, 0, 2), VG_NONE, 1}};
  REQUIRE(vg_ip4_route_add(r.dp, 0, IP(198, 51, 100, 0), 24, nh, 2, 0) == 0);
  /* A port in VRF 7 does not see VRF 0's routes. */
  int d = vg_pcap_interface_create(r.dp, "D", NULL, 1, tmp_path("d.pcap"));
  REQUIRE(d >= 0);
  REQUIRE(vg_interface_set_vrf(r.dp, (uint32_t)d, 7) == 0);
  REQUIRE(vg_interface_add_ip4(r.dp, (uint32_t)d, IP(10, 1, 0, 1), 24) == 0); /* same net, other VRF */
  CHECK_EQ(vg_interface_add_ip4(r.dp, (uint32_t)c, IP(10, 1, 0, 9), 24), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "overlaps 10.1.0.1/24 on A");
  enum { FLOWS = 64 };
  static uint8_t f[FLOWS + 1][128];
  uint32_t len[FLOWS + 1];
  const uint8_t *frames[FLOWS + 1];
  for (uint32_t i = 0; i < FLOWS; i++) {
    len[i] = ip4_frame(f[i], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(198, 51, 100, i + 1), 64, 17, 30);
    frames[i] = f[i];
  }
  len[FLOWS] = ip4_frame(f[FLOWS], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(198, 51, 100, 1), 64, 17, 30);
  frames[FLOWS] = f[FLOWS];
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, FLOWS, &a, &b);
  uint64_t via_b = stat_elem(r.dp, "/if/tx-packets", "B"), via_c = stat_elem(r.dp, "/if/tx-packets", "C");
  CHECK_EQ(via_b + via_c, FLOWS);
  CHECK(via_b > FLOWS / 5 && via_c > FLOWS / 5);
  char text[4096];
  vg_ip4_fib_format(r.dp, 0, text, sizeof text);
  CHECK_STR_CONTAINS(text, "198.51.100.0/24 static neighbor via 10.2.0.2 B neighbor via 10.3.0.2 C");
  vg_ip4_fib_format(r.dp, 7, text, sizeof text);
  CHECK(!strstr(text, "198.51.100.0/24"));
  CHECK_STR_CONTAINS(text, "10.1.0.1/32 local local");
  CHECK_EQ(vg_ip4_route_delete(r.dp, 0, IP(10, 1, 0, 0), 24), VG_E_NOTFOUND); /* an interface's */
  CHECK_EQ(vg_ip4_route_add(r.dp, 0, IP(10, 9, 0, 0), 16, (vg_next_hop_t[]){{IP(10, 77, 0, 1), VG_NONE, 1}}, 1, 0),
           VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "next hop 10.77.0.1 is not on an attached network");
  done(&r, a, b);
}

TEST(ip4_mtu_and_proxy_arp) {
  router_t r;
  REQUIRE(router(&r) == 0);
  REQUIRE(vg_interface_set_mtu(r.dp, (uint32_t)r.b, 576) == 0);
  CHECK_EQ(vg_interface_set_mtu(r.dp, (uint32_t)r.b, 40), VG_E_INVAL);
  REQUIRE(vg_proxy_arp_add(r.dp, 0, IP(10, 1, 0, 200), IP(10, 1, 0, 210)) == 0);
  static uint8_t f[4][1100];
  uint32_t len[4];
  len[0] = ip4_frame(f[0], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 64, 17, 1000);
  f[0][14 + 6] = 0x40; /* don't fragment */
  f[0][24] = f[0][25] = 0;
  vg_put_be16(f[0] + 24, vg_csum_fold(vg_csum_add(0, f[0] + 14, 20)));
  len[1] = ip4_frame(f[1], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(10, 2, 0, 2), 64, 17, 1000);
  len[2] = arp_frame(f[2], HOST_A, 1, IP(10, 1, 0, 2), IP(10, 1, 0, 205)); /* in the proxy range */
  len[3] = arp_frame(f[3], HOST_A, 1, IP(10, 1, 0, 2), IP(10, 1, 0, 211)); /* just outside */
  const uint8_t *frames[4] = {f[0], f[1], f[2], f[3]};
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, 4, &a, &b);
  REQUIRE(a && b);
  CHECK_EQ(b->n_records, 2); /* the one without don't-fragment, in two fragments */
  REQUIRE(a->n_records == 2);
  int icmp_first = a->data[a->offsets[0] + 13] == 0x00;
  const uint8_t *err = a->data + a->offsets[icmp_first ? 0 : 1], *arp = a->data + a->offsets[icmp_first ? 1 : 0];
  CHECK_EQ(err[14 + 20], 3);
  CHECK_EQ(err[14 + 21], 4);
  CHECK_EQ(err[14 + 26] << 8 | err[14 + 27], 576); /* the next-hop MTU */
  CHECK_EQ(arp[21], 2);
  CHECK_EQ(vg_rd_be32(arp + 28), IP(10, 1, 0, 205));
  CHECK(memcmp(arp + 22, r.mac_a, 6) == 0);
  CHECK_EQ(stat_error(r.dp, "ip4-rewrite/bigger than the MTU with don't-fragment set"), 1);
  CHECK_EQ(stat_error(r.dp, "ip4-frag/packets fragmented"), 1);
  CHECK_EQ(stat_error(r.dp, "arp-input/target is not this box"), 1);
  done(&r, a, b);
}

TEST(ip4_icmp_errors_are_rate_limited) {
  router_t r;
  REQUIRE(router(&r) == 0);
  enum { N = 300 };
  static uint8_t f[N][128];
  uint32_t len[N];
  const uint8_t *frames[N];
  for (int i = 0; i < N; i++) {
    len[i] = ip4_frame(f[i], r.mac_a, HOST_A, IP(10, 1, 0, 2), IP(203, 0, 113, 1), 64, 17, 20);
    frames[i] = f[i];
  }
  vg_pcap_file_t *a, *b;
  run(&r, frames, len, N, &a, &b);
  uint64_t sent = stat_error(r.dp, "ip4-icmp-error/ICMP errors sent");
  uint64_t limited = stat_error(r.dp, "ip4-icmp-error/ICMP error rate-limited");
  CHECK(sent >= 100 && sent < N); /* a burst of 100, then 1000/s */
  CHECK_EQ(sent + limited, N);
  CHECK_EQ(a ? a->n_records : 0, sent);
  done(&r, a, b);
}

/* The tables read back through the dump calls: what the agent's resync
 * compares its desired configuration with. */
TEST(ip4_tables_read_back) {
  router_t r;
  REQUIRE(router(&r) == 0);
  vg_next_hop_t nh[2] = {{IP(10, 2, 0, 2), VG_NONE, 3}, {IP(10, 1, 0, 2), VG_NONE, 1}};
  REQUIRE(vg_ip4_route_add(r.dp, 0, IP(198, 51, 100, 0), 24, nh, 2, 0) == 0);
  REQUIRE(vg_ip4_route_add(r.dp, 0, IP(203, 0, 113, 0), 24, NULL, 0, VG_ROUTE_PROHIBIT) == 0);
  /* More next hops than the old 16-path dump held, weights the buckets cannot keep. */
  vg_next_hop_t many[40];
  for (uint32_t i = 0; i < 40; i++) many[i] = (vg_next_hop_t){IP(10, 2, 0, 10 + i), VG_NONE, i % 2 ? 1 : 2};
  REQUIRE(vg_ip4_route_add(r.dp, 0, IP(192, 0, 2, 0), 24, many, 40, 0) == 0);
  int sub = vg_sub_interface_create(r.dp, (uint32_t)r.b, 42);
  REQUIRE(sub >= 0);
  REQUIRE(vg_interface_set_vrf(r.dp, (uint32_t)sub, 9) == 0);
  REQUIRE(vg_interface_set_mtu(r.dp, (uint32_t)sub, 1400) == 0);
  REQUIRE(vg_interface_set_mac(r.dp, (uint32_t)r.a, r.mac_a) == 0);

  vg_interface_info_t itf[8];
  int n = vg_interface_dump(r.dp, itf, 8);
  CHECK_EQ(n, 3);
  CHECK(strcmp(itf[2].name, "B.42") == 0 && strcmp(itf[2].type, "sub") == 0);
  CHECK_EQ(itf[2].sup_sw_if_index, r.b);
  CHECK_EQ(itf[2].vlan, 42);
  CHECK_EQ(itf[2].vrf, 9);
  CHECK_EQ(itf[2].mtu, 1400);
  CHECK_EQ(itf[2].bd_id, VG_NONE);
  CHECK(memcmp(itf[0].mac, r.mac_a, 6) == 0);
  CHECK(itf[0].mac_set && !itf[1].mac_set && !itf[2].mac_set); /* set above; B's is the default */
  CHECK_EQ(itf[2].host_if[0], 0);
  uint32_t vrfs[4];
  CHECK_EQ(vg_ip4_vrf_dump(r.dp, vrfs, 4), 2);
  CHECK(vrfs[0] == 0 && vrfs[1] == 9);

  vg_ip4_address_info_t addr[4];
  CHECK_EQ(vg_ip4_address_dump(r.dp, addr, 4), 2);
  CHECK_EQ(addr[1].addr, IP(10, 2, 0, 1));
  CHECK_EQ(addr[1].len, 24);

  int nr = vg_ip4_route_dump(r.dp, 0, NULL, 0);
  REQUIRE(nr > 0);
  vg_ip4_route_info_t *routes = calloc((size_t)nr, sizeof *routes);
  CHECK_EQ(vg_ip4_route_dump(r.dp, 0, routes, (uint32_t)nr), nr);
  int seen_ecmp = 0, seen_prohibit = 0, seen_many = 0, seen_connected = 0;
  for (int i = 0; i < nr; i++) {
    vg_ip4_route_info_t *ri = &routes[i];
    if (ri->prefix == IP(198, 51, 100, 0)) {
      seen_ecmp = 1;
      CHECK_EQ(ri->source, VG_ROUTE_SOURCE_CONFIGURED);
      CHECK_EQ(ri->n_paths, 2); /* as given: the weight, and no interface where none was named */
      CHECK_EQ(ri->paths[0].addr, IP(10, 2, 0, 2));
      CHECK_EQ(ri->paths[0].weight, 3);
      CHECK_EQ(ri->paths[1].sw_if_index, VG_NONE);
      CHECK_EQ(ri->paths[1].weight, 1);
    }
    if (ri->prefix == IP(192, 0, 2, 0)) {
      seen_many = ri->n_paths == 40;
      CHECK(ri->paths[39].addr == IP(10, 2, 0, 49) && ri->paths[39].weight == 1);
      CHECK_EQ(ri->paths[38].weight, 2);
    }
    if (ri->prefix == IP(10, 2, 0, 0) && ri->len == 24) { /* where it forwards: the interface */
      seen_connected = ri->source == VG_ROUTE_SOURCE_CONNECTED && ri->n_paths == 1;
      CHECK_EQ(ri->paths[0].sw_if_index, r.b);
    }
    if (ri->prefix == IP(203, 0, 113, 0)) seen_prohibit = ri->flags == VG_ROUTE_PROHIBIT && ri->n_paths == 0;
  }
  CHECK(seen_ecmp && seen_prohibit && seen_many && seen_connected);
  free(routes);
  CHECK_EQ(vg_ip4_route_dump(r.dp, 77, NULL, 0), VG_E_NOTFOUND);
  /* A configured default route, deleted, gives 0.0.0.0/0 back to "unreachable". */
  vg_next_hop_t gw = {IP(10, 2, 0, 2), VG_NONE, 1};
  REQUIRE(vg_ip4_route_add(r.dp, 0, 0, 0, &gw, 1, 0) == 0);
  CHECK_EQ(vg_ip4_route_delete(r.dp, 0, 0, 0), 0);
  CHECK_EQ(vg_ip4_route_delete(r.dp, 0, 0, 0), VG_E_NOTFOUND);
  char text[4096];
  vg_ip4_fib_format(r.dp, 0, text, sizeof text);
  CHECK_STR_CONTAINS(text, "0.0.0.0/0 default unreachable\n");

  vg_ip4_neighbor_info_t nb[4];
  CHECK_EQ(vg_ip4_neighbor_dump(r.dp, nb, 4), 2);
  CHECK(memcmp(nb[0].mac, HOST_A, 6) == 0 && nb[0].is_static);
  vg_pcap_file_t *a = NULL, *b = NULL;
  done(&r, a, b);
}

/* Many routes in one call: each result as vg_ip4_route_add would give it, a
 * bad route leaving the others in, next hops taken from the shared array. */
TEST(ip4_route_add_many) {
  router_t r;
  REQUIRE(router(&r) == 0);
  REQUIRE(vg_dp_start(r.dp) == 0); /* the barrier taken once, with threads to park */
  vg_next_hop_t nh[3] = {{IP(10, 2, 0, 2), VG_NONE, 1}, {IP(10, 1, 0, 2), VG_NONE, 2}, {IP(10, 2, 0, 2), VG_NONE, 1}};
  vg_ip4_route_req_t req[6] = {
      {0, IP(198, 51, 100, 0), 24, 0, 0, 2},                /* ECMP: nh[0], nh[1] */
      {0, IP(203, 0, 113, 0), 24, VG_ROUTE_DROP, 0, 0},     /* no next hops */
      {0, IP(192, 0, 2, 0), 33, 0, 2, 1},                   /* length above 32 */
      {0, IP(10, 2, 0, 0), 24, 0, 2, 1},                    /* an interface's network */
      {0, IP(192, 0, 2, 0), 24, 0, 2, 2},                   /* next hops past the array */
      {0, IP(100, 64, 0, 0), 10, 0, 2, 1},                  /* nh[2] */
  };
  int32_t res[6];
  CHECK_EQ(vg_ip4_route_add_many(r.dp, req, 6, nh, 3, res), 3);
  CHECK(res[0] == 0 && res[1] == 0 && res[5] == 0);
  CHECK(res[2] == VG_E_INVAL && res[3] == VG_E_EXISTS && res[4] == VG_E_INVAL);
  CHECK(strstr(vg_last_error(), "past the 3 given") != NULL); /* the last failure's */
  int nr = vg_ip4_route_dump(r.dp, 0, NULL, 0);
  REQUIRE(nr > 0);
  vg_ip4_route_info_t *routes = calloc((size_t)nr, sizeof *routes);
  REQUIRE(routes != NULL);
  CHECK_EQ(vg_ip4_route_dump(r.dp, 0, routes, (uint32_t)nr), nr);
  int ecmp = 0, drop = 0, cgn = 0, bad = 0;
  for (int i = 0; i < nr; i++) {
    vg_ip4_route_info_t *ri = &routes[i];
    if (ri->prefix == IP(198, 51, 100, 0))
      ecmp = ri->n_paths == 2 && ri->paths[1].addr == IP(10, 1, 0, 2) && ri->paths[1].weight == 2;
    if (ri->prefix == IP(203, 0, 113, 0)) drop = ri->flags == VG_ROUTE_DROP && ri->n_paths == 0;
    if (ri->prefix == IP(100, 64, 0, 0)) cgn = ri->len == 10 && ri->n_paths == 1 && ri->paths[0].addr == IP(10, 2, 0, 2);
    if (ri->prefix == IP(192, 0, 2, 0)) bad = 1;
    if (ri->prefix == IP(10, 2, 0, 0) && ri->len == 24) CHECK_EQ(ri->source, VG_ROUTE_SOURCE_CONNECTED);
  }
  CHECK(ecmp && drop && cgn && !bad);
  free(routes);
  vg_dp_stop(r.dp);
  vg_pcap_file_t *a = NULL, *b = NULL;
  done(&r, a, b);
}
