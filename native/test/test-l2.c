/* L2 bridging: learning, forwarding, flooding, split horizon, limits,
 * aging, sub-interface ports, the BVI, and the refusals of the API. Frames
 * enter through generator streams on pcap ports (if=pN) and leave through
 * the ports' pcap writers, counted by /if/tx-packets. */
#include <stdlib.h>
#include <unistd.h>

#include "../interfaces/pcap.h"
#include "test-util.h"
#include "test.h"

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 0xa}, MAC_B[6] = {2, 0, 0, 0, 0, 0xb};

/* A dataplane with bridge domain 10 (options) and n pcap ports p0.. in it. */
static vg_dp_t *bridge(uint32_t n, const char *options) {
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  if (!dp || vg_bridge_domain_add(dp, 10, options) < 0) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return dp;
  }
  for (uint32_t i = 0; i < n; i++) {
    char name[16], file[32];
    snprintf(name, sizeof name, "p%u", i);
    snprintf(file, sizeof file, "l2-%s.pcap", name);
    int sw = vg_pcap_interface_create(dp, name, NULL, 0, tmp_path(file));
    if (sw < 0 || vg_bridge_port_set(dp, (uint32_t)sw, 10, 0, 0) < 0)
      test_fail(__FILE__, __LINE__, "port %s: %s", name, vg_last_error());
  }
  return dp;
}

/* Sends count frames (spec: the header keys) in on port `port`, runs the graph. */
static void send(vg_dp_t *dp, const char *port, uint32_t count, const char *spec) {
  char s[512];
  snprintf(s, sizeof s, "name=t if=%s count=%u eth.type=0x88b5 %s", port, count, spec);
  int st = vg_pg_stream_add(dp, s);
  if (st < 0) {
    test_fail(__FILE__, __LINE__, "stream %s: %s", s, vg_last_error());
    return;
  }
  vg_dp_run_until_idle(dp, 0);
  vg_pg_stream_delete(dp, (uint32_t)st);
}

static uint64_t tx(vg_dp_t *dp, const char *port) { return stat_elem(dp, "/if/tx-packets", port); }

static char *fib_text(vg_dp_t *dp) {
  static char buf[8192];
  CHECK(vg_l2fib_format(dp, UINT32_MAX, buf, sizeof buf) >= 0);
  return buf;
}

static int sw(vg_dp_t *dp, const char *name) { return vg_interface_find(dp, name); }

TEST(l2_learns_source_on_its_port_and_forwards_known_unicast) {
  vg_dp_t *dp = bridge(3, "");
  REQUIRE(dp);
  /* A to B, B unknown: flooded to p1 and p2; A learned on p0. */
  send(dp, "p0", 1, "eth.src=02:00:00:00:00:0a eth.dst=02:00:00:00:00:0b");
  CHECK_EQ(tx(dp, "p1"), 1);
  CHECK_EQ(tx(dp, "p2"), 1);
  CHECK_EQ(tx(dp, "p0"), 0);
  CHECK_STR_CONTAINS(fib_text(dp), "bd 10 02:00:00:00:00:0a port p0 dynamic age 0s");
  CHECK_EQ(stat_error(dp, "l2-learn/MAC learned"), 1);
  /* B answers from p1: goes to p0 only; B learned on p1. */
  send(dp, "p1", 5, "eth.src=02:00:00:00:00:0b eth.dst=02:00:00:00:00:0a");
  CHECK_EQ(tx(dp, "p0"), 5);
  CHECK_EQ(tx(dp, "p2"), 1);
  CHECK_STR_CONTAINS(fib_text(dp), "bd 10 02:00:00:00:00:0b port p1 dynamic");
  /* Now known both ways: no more flooding. */
  send(dp, "p0", 7, "eth.src=02:00:00:00:00:0a eth.dst=02:00:00:00:00:0b");
  CHECK_EQ(tx(dp, "p1"), 8);
  CHECK_EQ(tx(dp, "p2"), 1);
  /* A moves to p2. */
  send(dp, "p2", 1, "eth.src=02:00:00:00:00:0a eth.dst=02:00:00:00:00:0b");
  CHECK_EQ(stat_error(dp, "l2-learn/MAC moved"), 1);
  CHECK_STR_CONTAINS(fib_text(dp), "02:00:00:00:00:0a port p2 dynamic");
  /* To a MAC on the rx port itself: dropped. */
  send(dp, "p1", 2, "eth.src=02:00:00:00:00:0c eth.dst=02:00:00:00:00:0b");
  CHECK_EQ(stat_error(dp, "l2-fwd/destination MAC is on the rx port"), 2);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp);
}

TEST(l2_broadcast_floods_and_split_horizon_is_honoured) {
  vg_dp_t *dp = bridge(2, "");
  REQUIRE(dp);
  int s2 = vg_pcap_interface_create(dp, "s2", NULL, 0, tmp_path("l2-s2.pcap"));
  int s3 = vg_pcap_interface_create(dp, "s3", NULL, 0, tmp_path("l2-s3.pcap"));
  REQUIRE(s2 >= 0 && s3 >= 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)s2, 10, 1, 0), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)s3, 10, 1, 0), 0);
  send(dp, "p0", 3, "eth.src=02:00:00:00:00:0a eth.dst=ff:ff:ff:ff:ff:ff");
  CHECK_EQ(tx(dp, "p1"), 3);
  CHECK_EQ(tx(dp, "s2"), 3);
  CHECK_EQ(tx(dp, "s3"), 3);
  /* From s2 (group 1): not to s3, its group; to p0 and p1. */
  send(dp, "s2", 4, "eth.src=02:00:00:00:00:0c eth.dst=01:00:5e:00:00:01");
  CHECK_EQ(tx(dp, "s3"), 3);
  CHECK_EQ(tx(dp, "p0"), 4);
  CHECK_EQ(tx(dp, "p1"), 7);
  /* flood=0: broadcast dropped with its reason; uu-flood=0 likewise. */
  vg_dp_t *dp2 = bridge(2, "flood=0 uu-flood=0");
  REQUIRE(dp2);
  send(dp2, "p0", 2, "eth.dst=ff:ff:ff:ff:ff:ff");
  send(dp2, "p0", 3, "eth.dst=02:00:00:00:00:99");
  CHECK_EQ(stat_error(dp2, "l2-fwd/broadcast/multicast dropped (flood off)"), 2);
  CHECK_EQ(stat_error(dp2, "l2-fwd/unknown unicast dropped (uu-flood off)"), 3);
  CHECK_EQ(tx(dp2, "p1"), 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  CHECK_EQ(vg_buffer_pool_available(dp2), 4096);
  vg_dp_destroy(dp);
  vg_dp_destroy(dp2);
}

TEST(l2_mac_limit_and_multicast_sources) {
  vg_dp_t *dp = bridge(2, "mac-limit=3");
  REQUIRE(dp);
  /* Ten sources, three learned. */
  send(dp, "p0", 10, "eth.src=02:00:00:00:01:00-02:00:00:00:01:09 eth.dst=02:00:00:00:00:0b");
  CHECK_EQ(stat_error(dp, "l2-learn/MAC learned"), 3);
  CHECK_EQ(stat_error(dp, "l2-learn/MAC limit reached"), 7);
  char buf[1024];
  CHECK(vg_bridge_domain_format(dp, 10, buf, sizeof buf) > 0);
  CHECK_STR_CONTAINS(buf, "bd 10 learn 1 flood 1 uu-flood 1 mac-age 300 mac-limit 3 learned 3 ports 2");
  CHECK_STR_CONTAINS(buf, "bd 10 port p0 shg 0");
  /* A multicast source is forwarded but never learned. */
  send(dp, "p1", 2, "eth.src=03:00:00:00:00:01 eth.dst=02:00:00:00:01:00");
  CHECK_EQ(stat_error(dp, "l2-learn/multicast source MAC not learned"), 2);
  CHECK(!strstr(fib_text(dp), "03:00:00:00:00:01"));
  CHECK_EQ(tx(dp, "p0"), 2);
  vg_dp_destroy(dp);
}

TEST(l2_learned_entries_age_and_static_ones_stay) {
  vg_dp_t *dp = bridge(2, "mac-age=1");
  REQUIRE(dp);
  CHECK_EQ(vg_l2fib_add(dp, 10, MAC_B, (uint32_t)sw(dp, "p1"), 1), 0);
  send(dp, "p0", 1, "eth.src=02:00:00:00:00:0a eth.dst=02:00:00:00:00:0b");
  CHECK_STR_CONTAINS(fib_text(dp), "02:00:00:00:00:0a port p0 dynamic");
  CHECK_EQ(tx(dp, "p1"), 1);
  /* The dataplane thread runs the age scan while nothing else happens. */
  REQUIRE(vg_dp_start(dp) == 0);
  usleep(2300 * 1000);
  vg_dp_stop(dp);
  char *t = fib_text(dp);
  CHECK(!strstr(t, "02:00:00:00:00:0a"));
  CHECK_STR_CONTAINS(t, "bd 10 02:00:00:00:00:0b port p1 static");
  /* Deleting an entry; deleting it again names it. */
  CHECK_EQ(vg_l2fib_delete(dp, 10, MAC_B), 0);
  CHECK_EQ(vg_l2fib_delete(dp, 10, MAC_B), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "bridge domain 10 has no entry for 02:00:00:00:00:0b");
  vg_dp_destroy(dp);
}

/* Reads a pcap written by a port. */
static vg_pcap_file_t *written(vg_dp_t *dp, const char *port, const char *file) {
  vg_interface_flush(dp, (uint32_t)sw(dp, port));
  vg_pcap_file_t *f = NULL;
  if (vg_pcap_load(tmp_path(file), &f) != 0) test_fail(__FILE__, __LINE__, "%s", vg_last_error());
  return f;
}

TEST(l2_sub_interface_ports_pop_and_push_their_tags) {
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int t0 = vg_pcap_interface_create(dp, "t0", NULL, 0, tmp_path("l2-t0.pcap"));
  int t1 = vg_pcap_interface_create(dp, "t1", NULL, 0, tmp_path("l2-t1.pcap"));
  REQUIRE(t0 >= 0 && t1 >= 0);
  int a = vg_sub_interface_create(dp, (uint32_t)t0, 100);
  int b = vg_sub_interface_create(dp, (uint32_t)t1, 200);
  int c = vg_sub_interface_create(dp, (uint32_t)t0, 300); /* same parent, other domain */
  int d = vg_sub_interface_create(dp, (uint32_t)t1, 300);
  REQUIRE(a >= 0 && b >= 0 && c >= 0 && d >= 0);
  CHECK_EQ(vg_bridge_domain_add(dp, 1, ""), 0);
  CHECK_EQ(vg_bridge_domain_add(dp, 2, ""), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)a, 1, 0, 0), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)b, 1, 0, 0), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)c, 2, 0, 0), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)d, 2, 0, 0), 0);
  send(dp, "t0", 1, "vlan=100 eth.src=02:00:00:00:00:0a eth.dst=ff:ff:ff:ff:ff:ff size=64");
  send(dp, "t0", 2, "vlan=300 eth.src=02:00:00:00:00:0c eth.dst=ff:ff:ff:ff:ff:ff size=64");
  /* Inside the domains the frames were untagged: learned on the sub-interfaces. */
  char *t = fib_text(dp);
  CHECK_STR_CONTAINS(t, "bd 1 02:00:00:00:00:0a port t0.100 dynamic");
  CHECK_STR_CONTAINS(t, "bd 2 02:00:00:00:00:0c port t0.300 dynamic");
  CHECK_EQ(tx(dp, "t1.200"), 1);
  CHECK_EQ(tx(dp, "t1.300"), 2);
  CHECK_EQ(tx(dp, "t0.300"), 0); /* domains stay apart */
  vg_pcap_file_t *f = written(dp, "t1", "l2-t1.pcap");
  REQUIRE(f);
  REQUIRE(f->n_records == 3);
  const uint8_t *p = f->data + f->offsets[0];
  CHECK_EQ(f->lengths[0], 64);
  CHECK_EQ(p[12], 0x81);
  CHECK_EQ(p[13], 0x00);
  CHECK_EQ((p[14] << 8 | p[15]) & 0xfff, 200); /* the tx port's own VLAN */
  CHECK_EQ(p[16] << 8 | p[17], 0x88b5);
  CHECK(memcmp(p + 6, MAC_A, 6) == 0);
  p = f->data + f->offsets[1];
  CHECK_EQ((p[14] << 8 | p[15]) & 0xfff, 300);
  vg_pcap_file_free(f);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp);
}

TEST(l2_bvi_routes_frames_for_its_mac_and_bridges_what_it_sends) {
  vg_dp_t *dp = bridge(2, "");
  REQUIRE(dp);
  int lo = vg_loopback_create(dp, "bvi0");
  REQUIRE(lo >= 0);
  static const uint8_t bvi_mac[6] = {2, 0, 0, 0, 0, 0x77};
  CHECK_EQ(vg_interface_set_mac(dp, (uint32_t)lo, bvi_mac), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)lo, 10, 0, 1), 0);
  CHECK_STR_CONTAINS(fib_text(dp), "bd 10 02:00:00:00:00:77 port bvi0 static");
  /* To the BVI's MAC: leaves the domain into ethernet-input, rx = bvi0. */
  CHECK_EQ(vg_trace_add(dp, "pg-input", 1), 0);
  send(dp, "p0", 4, "eth.src=02:00:00:00:00:0a eth.dst=02:00:00:00:00:77");
  CHECK_EQ(tx(dp, "p1"), 0);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "bvi0"), 4);
  char text[8192];
  vg_trace_format(dp, text, sizeof text);
  CHECK_STR_CONTAINS(text, "to the BVI sw_if_index");
  char again[64]; /* ethernet-input again, on the BVI */
  snprintf(again, sizeof again, "bytes, rx sw_if_index %d\n", lo);
  CHECK_STR_CONTAINS(text, again);
  /* Sent out of the BVI (ethertype redirected to it from an L3 port): bridged. */
  int l3 = vg_pcap_interface_create(dp, "l3", NULL, 0, tmp_path("l2-l3.pcap"));
  REQUIRE(l3 >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b6, (uint32_t)lo), 0);
  char s[256];
  snprintf(s, sizeof s, "name=r if=l3 count=3 eth.type=0x88b6 eth.src=02:00:00:00:00:77 "
                        "eth.dst=02:00:00:00:00:0a");
  int st = vg_pg_stream_add(dp, s);
  REQUIRE(st >= 0);
  vg_dp_run_until_idle(dp, 0);
  CHECK_EQ(tx(dp, "p0"), 3); /* A was learned on p0: known unicast */
  CHECK_EQ(tx(dp, "p1"), 0);
  CHECK_EQ(tx(dp, "bvi0"), 3);
  /* A loopback outside any domain drops what it is sent. */
  int lo2 = vg_loopback_create(dp, "lo2");
  REQUIRE(lo2 >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b6, (uint32_t)lo2), 0);
  vg_pg_stream_delete(dp, (uint32_t)st);
  REQUIRE((st = vg_pg_stream_add(dp, s)) >= 0);
  vg_dp_run_until_idle(dp, 0);
  CHECK_EQ(stat_elem(dp, "/if/drops", "lo2"), 3);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  /* Back to L3: the static entry goes with it. */
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)lo, UINT32_MAX, 0, 0), 0);
  CHECK(!strstr(fib_text(dp), "bvi0"));
  vg_dp_destroy(dp);
}

TEST(l2_bad_input_is_refused_with_its_reason) {
  vg_dp_t *dp = bridge(2, "");
  REQUIRE(dp);
  int p0 = sw(dp, "p0");
  CHECK_EQ(vg_bridge_domain_add(dp, 10, ""), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "bridge domain 10 exists");
  CHECK_EQ(vg_bridge_domain_add(dp, 11, "mac-limit=abc"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "mac-limit=abc");
  CHECK_EQ(vg_bridge_domain_add(dp, 11, "colour=red"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "unknown option 'colour'");
  CHECK_EQ(vg_bridge_domain_add(dp, 11, "learn=2"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "learn=2");
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)p0, 99, 0, 0), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no bridge domain 99");
  CHECK_EQ(vg_bridge_domain_add(dp, 11, ""), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)p0, 11, 0, 0), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "p0 is already a port of bridge domain 10");
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)p0, 11, 0, 1), VG_E_EXISTS);
  CHECK_EQ(vg_bridge_port_set(dp, 999, 11, 0, 0), VG_E_NOTFOUND);
  CHECK_EQ(vg_bridge_domain_delete(dp, 10), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "bridge domain 10 still has 2 ports");
  CHECK_EQ(vg_bridge_domain_delete(dp, 12), VG_E_NOTFOUND);
  int x = vg_pcap_interface_create(dp, "x", NULL, 0, tmp_path("l2-x.pcap"));
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)x, 11, 0, 1), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "only a loopback can be a BVI");
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)x, 11, 256, 0), VG_E_INVAL);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)x, UINT32_MAX, 0, 0), VG_E_STATE);
  CHECK_EQ(vg_l2fib_add(dp, 11, MAC_A, (uint32_t)p0, 1), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "p0 is not a port of bridge domain 11");
  static const uint8_t mcast[6] = {1, 0, 0x5e, 0, 0, 1};
  CHECK_EQ(vg_l2fib_add(dp, 10, mcast, (uint32_t)p0, 1), VG_E_INVAL);
  CHECK_EQ(vg_l2fib_add(dp, 77, MAC_A, (uint32_t)p0, 1), VG_E_NOTFOUND);
  char buf[64];
  CHECK_EQ(vg_l2fib_format(dp, 77, buf, sizeof buf), VG_E_NOTFOUND);
  /* Ports leave, then the domain can go. */
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)p0, UINT32_MAX, 0, 0), 0);
  CHECK_EQ(vg_bridge_port_set(dp, (uint32_t)sw(dp, "p1"), UINT32_MAX, 0, 0), 0);
  CHECK_EQ(vg_bridge_domain_delete(dp, 10), 0);
  CHECK_EQ(vg_bridge_domain_format(dp, 10, buf, sizeof buf), VG_E_NOTFOUND);
  vg_dp_destroy(dp);
}

/* What the agent's resync compares: each domain's settings from the
 * domain dump, its ports (split horizon, BVI) from the interface dump. */
TEST(l2_domains_and_ports_read_back) {
  vg_dp_t *dp = bridge(2, "learn=0 uu-flood=0 mac-age=60 mac-limit=100");
  REQUIRE(dp);
  REQUIRE(vg_bridge_domain_add(dp, 20, "flood=0") == 0);
  int bvi = vg_loopback_create(dp, "bvi20");
  REQUIRE(bvi >= 0);
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)bvi, 20, 0, 1) == 0);
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)sw(dp, "p1"), UINT32_MAX, 0, 0) == 0);
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)sw(dp, "p1"), 20, 7, 0) == 0);

  CHECK_EQ(vg_bridge_domain_dump(dp, NULL, 0), 2);
  vg_bridge_domain_info_t bd[2];
  CHECK_EQ(vg_bridge_domain_dump(dp, bd, 1), 2); /* fills what fits, says how many there are */
  CHECK_EQ(bd[0].bd_id, 10);
  CHECK_EQ(vg_bridge_domain_dump(dp, bd, 2), 2);
  CHECK(!bd[0].learn && bd[0].flood && !bd[0].uu_flood);
  CHECK_EQ(bd[0].mac_age, 60);
  CHECK_EQ(bd[0].mac_limit, 100);
  CHECK_EQ(bd[0].n_ports, 1);
  CHECK(bd[1].bd_id == 20 && bd[1].learn && !bd[1].flood && bd[1].uu_flood);
  CHECK_EQ(bd[1].mac_age, 300); /* the defaults */
  CHECK_EQ(bd[1].mac_limit, 65536);
  CHECK_EQ(bd[1].n_ports, 2);

  vg_interface_info_t itf[4];
  REQUIRE(vg_interface_dump(dp, itf, 4) == 3);
  CHECK(itf[0].bd_id == 10 && itf[0].shg == 0 && !itf[0].is_bvi);
  CHECK(itf[1].bd_id == 20 && itf[1].shg == 7 && !itf[1].is_bvi);
  CHECK(itf[2].bd_id == 20 && itf[2].is_bvi && strcmp(itf[2].type, "loopback") == 0);

  /* A deleted domain is gone from the dump, and the hole is skipped. */
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)sw(dp, "p0"), UINT32_MAX, 0, 0) == 0);
  REQUIRE(vg_bridge_domain_delete(dp, 10) == 0);
  CHECK_EQ(vg_bridge_domain_dump(dp, bd, 2), 1);
  CHECK_EQ(bd[0].bd_id, 20);
  vg_dp_destroy(dp);
  /* No domain yet: the L2 state is not even made. */
  dp = vg_dp_create("buffers=1024");
  REQUIRE(dp);
  CHECK_EQ(vg_bridge_domain_dump(dp, bd, 2), 0);
  vg_dp_destroy(dp);
}

TEST(l2_fib_survives_many_entries_and_deletes) {
  /* Static entries past the first table size make it grow; deleting every
   * other one keeps the rest reachable (backward-shift deletion). */
  vg_dp_t *dp = bridge(2, "mac-limit=10");
  REQUIRE(dp);
  uint32_t p1 = (uint32_t)sw(dp, "p1"), n = 70000;
  uint8_t m[6] = {2, 0, 0, 0, 0, 0};
  for (uint32_t i = 0; i < n; i++) {
    m[3] = (uint8_t)(i >> 16), m[4] = (uint8_t)(i >> 8), m[5] = (uint8_t)i;
    if (vg_l2fib_add(dp, 10, m, p1, 1) != 0) {
      test_fail(__FILE__, __LINE__, "add %u: %s", i, vg_last_error());
      break;
    }
  }
  for (uint32_t i = 0; i < n; i += 2) {
    m[3] = (uint8_t)(i >> 16), m[4] = (uint8_t)(i >> 8), m[5] = (uint8_t)i;
    CHECK_EQ(vg_l2fib_delete(dp, 10, m), 0);
  }
  for (uint32_t i = 1; i < n; i += 2) {
    m[3] = (uint8_t)(i >> 16), m[4] = (uint8_t)(i >> 8), m[5] = (uint8_t)i;
    if (vg_l2fib_delete(dp, 10, m) != 0) {
      test_fail(__FILE__, __LINE__, "entry %u lost: %s", i, vg_last_error());
      break;
    }
  }
  CHECK_EQ(vg_l2fib_format(dp, 10, NULL, 0), 0);
  vg_dp_destroy(dp);
}
