/* The dataplane as a router between real Linux hosts: each host is a
 * network namespace joined to an af_packet port by a veth pair, and talks
 * with the kernel's own ping. Needs root (skips itself otherwise). */
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../ip4/ip4.h"
#include "test-netns.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

typedef struct {
  link_t a, b;
  vg_dp_t *dp;
  int pa, pb;
} routed_t;

/* Host A 10.1.0.2/24 and host B 10.2.0.2/24, each with vecgate (10.1.0.1,
 * 10.2.0.1) as its default gateway. */
static int routed_up(routed_t *t) {
  memset(t, 0, sizeof *t);
  if (link_make(&t->a, 20, "10.1.0.2/24", 1500) || link_make(&t->b, 21, "10.2.0.2/24", 1500) ||
      sh("ip -n %s route add default via 10.1.0.1", t->a.ns) ||
      sh("ip -n %s route add default via 10.2.0.1", t->b.ns))
    return -1;
  t->dp = vg_dp_create("buffers=4096");
  if (!t->dp) return -1;
  t->pa = vg_af_packet_create(t->dp, "A", t->a.host, "");
  t->pb = vg_af_packet_create(t->dp, "B", t->b.host, "");
  if (t->pa < 0 || t->pb < 0 || vg_interface_add_ip4(t->dp, (uint32_t)t->pa, IP(10, 1, 0, 1), 24) ||
      vg_interface_add_ip4(t->dp, (uint32_t)t->pb, IP(10, 2, 0, 1), 24) || vg_dp_start(t->dp)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return -1;
  }
  return 0;
}

static void routed_down(routed_t *t) {
  if (t->dp) {
    vg_dp_stop(t->dp);
    CHECK_EQ(vg_buffer_pool_available(t->dp), 4096);
    vg_dp_destroy(t->dp);
  }
  link_delete(&t->a);
  link_delete(&t->b);
}

TEST(forwarding_routes_between_linux_hosts) {
  if (netns_skipped()) return;
  routed_t t;
  if (routed_up(&t) == 0) {
    /* The first echo may be spent on resolving ARP; the rest must pass. */
    const char *out = capture("ip netns exec %s ping -c 4 -i 0.2 -W 1 10.2.0.2", t.a.ns);
    CHECK_STR_CONTAINS(out, "ttl=63"); /* B's 64, one hop: vecgate */
    CHECK(strstr(out, " 4 received") || strstr(out, " 3 received"));
    out = capture("ip netns exec %s ping -c 3 -i 0.2 -W 1 10.1.0.2", t.b.ns);
    CHECK_STR_CONTAINS(out, "3 received");
    CHECK_STR_CONTAINS(out, "ttl=63");
    /* vecgate resolved both hosts itself. */
    char text[4096];
    vg_ip4_neighbor_format(t.dp, text, sizeof text);
    CHECK_STR_CONTAINS(text, "10.1.0.2 ");
    CHECK_STR_CONTAINS(text, "10.2.0.2 ");
    CHECK_STR_CONTAINS(text, " A dynamic");
    CHECK_STR_CONTAINS(text, " B dynamic");
    /* It answers ping itself, on both of its addresses. */
    out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.2.0.1", t.a.ns);
    CHECK_STR_CONTAINS(out, "2 received");
    /* TTL 1 expires at vecgate; an unrouted destination is unreachable. */
    out = capture("ip netns exec %s ping -c 1 -t 1 -W 1 10.2.0.2", t.a.ns);
    CHECK_STR_CONTAINS(out, "From 10.1.0.1");
    CHECK_STR_CONTAINS(out, "Time to live exceeded");
    out = capture("ip netns exec %s ping -c 1 -W 1 10.99.0.1", t.a.ns);
    CHECK_STR_CONTAINS(out, "From 10.1.0.1");
    CHECK_STR_CONTAINS(out, "Destination Net Unreachable");
    CHECK(stat_error(t.dp, "ip4-rewrite/TTL expired in transit") >= 1);
    CHECK(stat_error(t.dp, "ip4-lookup/no route to the destination") >= 1);
    CHECK(stat_error(t.dp, "arp-input/ARP requests answered") >= 1); /* B learned us from our request */
  }
  routed_down(&t);
}
