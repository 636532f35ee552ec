/* The dataplane as a bridge between real Linux hosts: each host is a
 * network namespace joined to an af_packet port by a veth pair (or to a TAP
 * port), and talks with the kernel's own ping. Proves learning, flooding of
 * unknown unicast only, the BVI as the domain's router, VLAN sub-interfaces
 * in separate domains that do not leak, and a TAP port moved into a
 * namespace. Needs root (skips itself otherwise). Every dataplane here
 * writes no capture file; every namespace and link is removed on the way
 * out, also after a failed check. */
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test-netns.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define BUFFERS 4096

/* A namespace of this run with no link of its own (link_make makes the
 * others); empty name: not made. */
typedef struct {
  char name[32];
} ns_t;

static int ns_make(ns_t *n, int k) {
  snprintf(n->name, sizeof n->name, "vgtest-%d-%d", (int)getpid(), k);
  if (sh("ip netns add %s", n->name)) {
    n->name[0] = 0;
    return -1;
  }
  ipv6_off(n->name, "all");
  ipv6_off(n->name, "default");
  return 0;
}

static void ns_delete(const ns_t *n) {
  if (n->name[0] && sh("ip netns del %s 2>/dev/null", n->name)) {
    /* already gone */
  }
}

/* The MAC of dev in ns as "aa:bb:cc:dd:ee:ff", as ip prints it. */
static int host_mac(const char *ns, const char *dev, char mac[18]) {
  const char *p = strstr(capture("ip -n %s -o link show %s", ns, dev), "link/ether ");
  mac[0] = 0;
  if (!p || strlen(p) < 11 + 17) return -1;
  memcpy(mac, p + 11, 17);
  mac[17] = 0;
  return 0;
}

static uint64_t tx(vg_dp_t *dp, const char *port) { return stat_elem(dp, "/if/tx-packets", port); }

/* A ping's replies can reach the host before the dataplane has counted the
 * frame it sent: waits (up to a second) for port's tx to reach want. */
static uint64_t tx_wait(vg_dp_t *dp, const char *port, uint64_t want) {
  uint64_t v, deadline = now_ms() + 1000;
  while ((v = tx(dp, port)) < want && now_ms() < deadline) usleep(2000);
  return v;
}

/* Stops the dataplane, checks every buffer came back, frees it. */
static void dp_down(vg_dp_t *dp) {
  if (!dp) return;
  vg_dp_stop(dp);
  CHECK_EQ(vg_buffer_pool_available(dp), BUFFERS);
  vg_dp_destroy(dp);
}

static const char *l2fib(vg_dp_t *dp, uint32_t bd) {
  static char text[8192];
  text[0] = 0;
  vg_l2fib_format(dp, bd, text, sizeof text);
  return text;
}

/* ---- three hosts on one bridge domain ---- */

static const char *const port3[3] = {"p0", "p1", "p2"};

static void three_hosts(link_t h[3]) {
  vg_dp_t *dp = NULL;
  char mac[3][18];
  for (int i = 0; i < 3; i++) {
    char cidr[32];
    snprintf(cidr, sizeof cidr, "10.5.0.%d/24", 2 + i);
    REQUIRE(link_make(&h[i], 40 + i, cidr, 1500) == 0);
    REQUIRE(host_mac(h[i].ns, h[i].peer, mac[i]) == 0);
  }
  dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int ok = vg_bridge_domain_add(dp, 1, "") == 0;
  for (int i = 0; ok && i < 3; i++) {
    int p = vg_af_packet_create(dp, port3[i], h[i].host, "");
    ok = p >= 0 && vg_bridge_port_set(dp, (uint32_t)p, 1, 0, 0) == 0;
  }
  if (!ok || vg_dp_start(dp)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    vg_dp_destroy(dp);
    return;
  }

  /* Every pair talks, ARP included (broadcasts flooded, replies bridged). */
  const char *out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.5.0.3", h[0].ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  CHECK_STR_CONTAINS(out, "ttl=64"); /* bridged: no hop */
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.5.0.4", h[0].ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.5.0.4", h[1].ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");

  /* Each host's MAC is learned on its own port. */
  const char *fib = l2fib(dp, 1);
  for (int i = 0; i < 3; i++) {
    char want[96];
    snprintf(want, sizeof want, "bd 1 %s port %s dynamic", mac[i], port3[i]);
    CHECK_STR_CONTAINS(fib, want);
  }

  /* From here on the hosts send no ARP: neighbors are fixed, and 10.5.0.99
   * is a MAC nobody has. */
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      if (i != j)
        CHECK_EQ(sh("ip -n %s neigh replace 10.5.0.%d lladdr %s dev %s nud permanent", h[i].ns,
                    2 + j, mac[j], h[i].peer), 0);
  CHECK_EQ(sh("ip -n %s neigh replace 10.5.0.99 lladdr 02:de:ad:00:00:01 dev %s nud permanent",
              h[0].ns, h[0].peer), 0);
  usleep(100 * 1000); /* anything the hosts had in flight is through */

  /* Unknown unicast is flooded to every port but the one it came in by. */
  uint64_t t0[3];
  for (int i = 0; i < 3; i++) t0[i] = tx(dp, port3[i]);
  out = capture("ip netns exec %s ping -c 1 -W 1 10.5.0.99", h[0].ns);
  CHECK_STR_CONTAINS(out, " 0 received");
  CHECK_EQ(tx_wait(dp, "p1", t0[1] + 1), t0[1] + 1);
  CHECK_EQ(tx_wait(dp, "p2", t0[2] + 1), t0[2] + 1);
  CHECK_EQ(tx(dp, "p0"), t0[0]);
  CHECK(strstr(l2fib(dp, 1), "02:de:ad:00:00:01") == NULL); /* a destination is not learned */

  /* Known unicast leaves by its port only. */
  for (int i = 0; i < 3; i++) t0[i] = tx(dp, port3[i]);
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.5.0.3", h[0].ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  CHECK_EQ(tx_wait(dp, "p1", t0[1] + 2), t0[1] + 2); /* the requests */
  CHECK_EQ(tx_wait(dp, "p0", t0[0] + 2), t0[0] + 2); /* the replies */
  CHECK_EQ(tx(dp, "p2"), t0[2]);
  CHECK(stat_error(dp, "l2-learn/MAC learned") >= 3);
  dp_down(dp);
}

TEST(bridging_learns_and_floods_only_unknown_unicast_between_three_hosts) {
  if (netns_skipped()) return;
  link_t h[3];
  memset(h, 0, sizeof h);
  three_hosts(h);
  for (int i = 0; i < 3; i++) link_delete(&h[i]);
}

/* ---- the BVI routes for the domain ---- */

/* host A 10.5.0.2 -- p0 [bd 1, BVI bvi0 10.5.0.1] [r0 10.6.0.1] -- host B 10.6.0.2 */
static void bvi(link_t *a, link_t *b) {
  REQUIRE(link_make(a, 43, "10.5.0.2/24", 1500) == 0);
  REQUIRE(link_make(b, 44, "10.6.0.2/24", 1500) == 0);
  REQUIRE(sh("ip -n %s route add default via 10.5.0.1", a->ns) == 0);
  REQUIRE(sh("ip -n %s route add default via 10.6.0.1", b->ns) == 0);
  char mac_a[18];
  REQUIRE(host_mac(a->ns, a->peer, mac_a) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int p0 = vg_af_packet_create(dp, "p0", a->host, "");
  int lo = vg_loopback_create(dp, "bvi0");
  int r0 = vg_af_packet_create(dp, "r0", b->host, "");
  if (p0 < 0 || lo < 0 || r0 < 0 || vg_bridge_domain_add(dp, 1, "") ||
      vg_bridge_port_set(dp, (uint32_t)p0, 1, 0, 0) ||
      vg_bridge_port_set(dp, (uint32_t)lo, 1, 0, 1) ||
      vg_interface_add_ip4(dp, (uint32_t)lo, IP(10, 5, 0, 1), 24) ||
      vg_interface_add_ip4(dp, (uint32_t)r0, IP(10, 6, 0, 1), 24) || vg_dp_start(dp)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    vg_dp_destroy(dp);
    return;
  }
  /* The first echo may be spent on resolving B; the rest must pass. */
  const char *out = capture("ip netns exec %s ping -c 4 -i 0.2 -W 1 10.6.0.2", a->ns);
  CHECK_STR_CONTAINS(out, "ttl=63");
  CHECK(strstr(out, " 4 received") || strstr(out, " 3 received"));
  out = capture("ip netns exec %s ping -c 3 -i 0.2 -W 1 10.5.0.2", b->ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  CHECK_STR_CONTAINS(out, "ttl=63");
  /* The BVI answers for itself. */
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.5.0.1", a->ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  /* A was resolved through the BVI and learned on p0; the BVI's MAC is a
   * static entry of the domain. */
  char text[4096];
  vg_ip4_neighbor_format(dp, text, sizeof text);
  CHECK_STR_CONTAINS(text, "10.5.0.2 ");
  CHECK_STR_CONTAINS(text, " bvi0 dynamic");
  CHECK_STR_CONTAINS(text, " r0 dynamic");
  const char *fib = l2fib(dp, 1);
  char want[96];
  snprintf(want, sizeof want, "bd 1 %s port p0 dynamic", mac_a);
  CHECK_STR_CONTAINS(fib, want);
  CHECK_STR_CONTAINS(fib, "port bvi0 static");
  CHECK(stat_elem(dp, "/if/tx-packets", "bvi0") >= 6); /* routed into the domain */
  CHECK(stat_elem(dp, "/if/rx-packets", "bvi0") >= 6); /* bridged to the routed side */
  dp_down(dp);
}

TEST(bridging_bvi_routes_between_a_bridged_and_a_routed_host) {
  if (netns_skipped()) return;
  link_t a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  bvi(&a, &b);
  link_delete(&a);
  link_delete(&b);
}

/* ---- VLAN sub-interfaces in separate domains ---- */

/* A trunk veth whose far end carries VLANs 10 and 20. The VLAN hosts live
 * in their own namespaces, A and B, so both can sit in one subnet with no
 * routing ambiguity: a frame that crossed domains would reach a host that
 * answers. Each domain has one more port to its own host:
 *   A 10.30.0.2 (vlan 10) --+                       +-- d10 -- C 10.30.0.3
 *                           trunk [trunk.10 bd 10 / trunk.20 bd 20]
 *   B 10.30.0.12 (vlan 20) -+                       +-- d20 -- D 10.30.0.13
 * A's and B's interfaces are kernel VLAN devices on the trunk's far end
 * where the kernel has 802.1Q. Where it has not (CONFIG_VLAN_8021Q off, as
 * on some CI kernels: "Unknown device type"), they are TAP devices moved
 * into A and B, and a relay thread of this test does the tagging between
 * them and a packet socket on the trunk's far end: A and B are still real
 * kernel stacks, only the 802.1Q switch in front of them is ours. */
typedef struct {
  int trunk;     /* packet socket on the trunk's far end */
  int tap[2];    /* A's and B's TAP devices */
  uint16_t vlan[2];
  int stop;          /* set by the test, read by the relay thread */
  pthread_t thread;
  int running;
  uint64_t dropped; /* untagged or of another VLAN */
} relay_t;

typedef struct {
  link_t trunk, c, d;
  ns_t a, b;
  char dev_a[IFNAMSIZ], dev_b[IFNAMSIZ]; /* the hosts' interfaces */
  relay_t relay;
} vlans_t;

static int tap_open(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* A packet socket for every frame on ifname in namespace ns, reporting the
 * tag the kernel took off (PACKET_AUXDATA). */
static int trunk_socket(const char *ns, const char *ifname) {
  char path[96];
  snprintf(path, sizeof path, "/var/run/netns/%s", ns);
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int target = open(path, O_RDONLY | O_CLOEXEC), fd = -1, one = 1;
  if (self >= 0 && target >= 0 && setns(target, CLONE_NEWNET) == 0) {
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)if_nametoindex(ifname)};
    if (fd >= 0 && (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0 ||
                    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0)) {
      close(fd);
      fd = -1;
    }
    if (setns(self, CLONE_NEWNET) != 0) abort(); /* the rest of the run would be wrong */
  }
  if (self >= 0) close(self);
  if (target >= 0) close(target);
  return fd;
}

/* Trunk -> host: the tag (in the aux data, or still in the frame) picks the
 * TAP and comes off. Host -> trunk: the host's VLAN tag goes on. */
static void relay_from_trunk(relay_t *r, uint8_t *buf) {
  for (;;) {
    struct sockaddr_ll from;
    union {
      struct cmsghdr h;
      uint8_t space[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } ctl;
    struct iovec iov = {buf, 65536};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                       .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(r->trunk, &m, MSG_DONTWAIT);
    if (n <= 0) return;
    if (from.sll_pkttype == PACKET_OUTGOING) continue; /* our own */
    int vlan = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof aux);
        if (aux.tp_status & TP_STATUS_VLAN_VALID) vlan = aux.tp_vlan_tci & 0xfff;
      }
    if (vlan < 0 && n >= 18 && buf[12] == 0x81 && buf[13] == 0x00) {
      vlan = (buf[14] << 8 | buf[15]) & 0xfff;
      memmove(buf + 12, buf + 16, (size_t)n - 16);
      n -= 4;
    }
    int k = vlan == r->vlan[0] ? 0 : vlan == r->vlan[1] ? 1 : -1;
    if (k < 0 || write(r->tap[k], buf, (size_t)n) != n) r->dropped++;
  }
}

static void relay_to_trunk(relay_t *r, int k, uint8_t *buf) {
  for (;;) {
    ssize_t n = read(r->tap[k], buf + 4, 65536 - 4);
    if (n < 14) return;
    memmove(buf, buf + 4, 12);
    buf[12] = 0x81;
    buf[13] = 0x00;
    buf[14] = (uint8_t)(r->vlan[k] >> 8);
    buf[15] = (uint8_t)r->vlan[k];
    if (send(r->trunk, buf, (size_t)n + 4, MSG_DONTWAIT) != n + 4) r->dropped++;
  }
}

static void *relay_main(void *arg) {
  relay_t *r = arg;
  static uint8_t buf[65536];
  while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
    struct pollfd p[3] = {{r->trunk, POLLIN, 0}, {r->tap[0], POLLIN, 0}, {r->tap[1], POLLIN, 0}};
    if (poll(p, 3, 20) <= 0) continue;
    if (p[0].revents) relay_from_trunk(r, buf);
    for (int k = 0; k < 2; k++)
      if (p[1 + k].revents) relay_to_trunk(r, k, buf);
  }
  return NULL;
}

static void relay_stop(relay_t *r) {
  if (r->running) {
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
    pthread_join(r->thread, NULL);
    r->running = 0;
  }
  for (int k = 0; k < 2; k++)
    if (r->tap[k] >= 0) close(r->tap[k]); /* removes the device */
  if (r->trunk >= 0) close(r->trunk);
  r->tap[0] = r->tap[1] = r->trunk = -1;
}

/* Puts host (namespace ns, cidr) on VLAN `vlan` of the trunk: a kernel
 * VLAN device, or else a TAP behind the relay (slot k). */
static int vlan_host(vlans_t *v, const ns_t *ns, int k, int vlan, const char *cidr, char *dev) {
  snprintf(dev, IFNAMSIZ, "vl%d", vlan);
  if (!v->relay.running &&
      sh("ip -n %s link add link %s name %s netns %s type vlan id %d 2>/dev/null", v->trunk.ns,
         v->trunk.peer, dev, ns->name, vlan) == 0)
    return sh("ip -n %s addr add %s dev %s && ip -n %s link set %s up", ns->name, cidr, dev,
              ns->name, dev);
  snprintf(dev, IFNAMSIZ, "vg%dv%d", (int)getpid(), vlan);
  v->relay.vlan[k] = (uint16_t)vlan;
  if ((v->relay.tap[k] = tap_open(dev)) < 0) return -1;
  ipv6_off(NULL, dev);
  return sh("ip link set %s netns %s && ip -n %s addr add %s dev %s && ip -n %s link set %s up",
            dev, ns->name, ns->name, cidr, dev, ns->name, dev);
}

static int vlan_hosts(vlans_t *v) {
  relay_t *r = &v->relay;
  if (vlan_host(v, &v->a, 0, 10, "10.30.0.2/24", v->dev_a)) return -1;
  if (r->tap[0] >= 0) {
    printf("    (no 802.1Q in this kernel: VLAN hosts behind the test's tagging relay)\n");
    if ((r->trunk = trunk_socket(v->trunk.ns, v->trunk.peer)) < 0) return -1;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) return -1;
    r->running = 1;
  }
  return vlan_host(v, &v->b, 1, 20, "10.30.0.12/24", v->dev_b);
}

static void vlans(vlans_t *v) {
  REQUIRE(link_make(&v->trunk, 45, "10.31.0.2/24", 1500) == 0);
  REQUIRE(sh("ip -n %s addr flush dev %s", v->trunk.ns, v->trunk.peer) == 0); /* no untagged host */
  REQUIRE(link_make(&v->c, 46, "10.30.0.3/24", 1500) == 0);
  REQUIRE(link_make(&v->d, 47, "10.30.0.13/24", 1500) == 0);
  REQUIRE(ns_make(&v->a, 48) == 0 && ns_make(&v->b, 49) == 0);
  REQUIRE(vlan_hosts(v) == 0);
  char mac_a[18], mac_b[18], mac_c[18], mac_d[18];
  REQUIRE(host_mac(v->a.name, v->dev_a, mac_a) == 0);
  REQUIRE(host_mac(v->b.name, v->dev_b, mac_b) == 0);
  REQUIRE(host_mac(v->c.ns, v->c.peer, mac_c) == 0);
  REQUIRE(host_mac(v->d.ns, v->d.peer, mac_d) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int t = vg_af_packet_create(dp, "trunk", v->trunk.host, "");
  int s10 = t < 0 ? t : vg_sub_interface_create(dp, (uint32_t)t, 10);
  int s20 = t < 0 ? t : vg_sub_interface_create(dp, (uint32_t)t, 20);
  int d10 = vg_af_packet_create(dp, "d10", v->c.host, "");
  int d20 = vg_af_packet_create(dp, "d20", v->d.host, "");
  if (s10 < 0 || s20 < 0 || d10 < 0 || d20 < 0 || vg_bridge_domain_add(dp, 10, "") ||
      vg_bridge_domain_add(dp, 20, "") || vg_bridge_port_set(dp, (uint32_t)s10, 10, 0, 0) ||
      vg_bridge_port_set(dp, (uint32_t)d10, 10, 0, 0) ||
      vg_bridge_port_set(dp, (uint32_t)s20, 20, 0, 0) ||
      vg_bridge_port_set(dp, (uint32_t)d20, 20, 0, 0) || vg_dp_start(dp)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    vg_dp_destroy(dp);
    return;
  }

  /* Within each VLAN, hosts talk. */
  const char *out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.30.0.3", v->a.name);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.30.0.13", v->b.name);
  CHECK_STR_CONTAINS(out, " 0% packet loss");

  /* Each host is learned on its own port of its own domain only. (Kernel
   * VLAN devices take their parent's MAC: then A and B have one MAC, in
   * two domains, as two entries.) */
  char want[96];
  const char *fib = l2fib(dp, 10);
  snprintf(want, sizeof want, "bd 10 %s port trunk.10 dynamic", mac_a);
  CHECK_STR_CONTAINS(fib, want);
  snprintf(want, sizeof want, "bd 10 %s port d10 dynamic", mac_c);
  CHECK_STR_CONTAINS(fib, want);
  CHECK(strstr(fib, mac_d) == NULL);
  CHECK(strstr(fib, "trunk.20") == NULL);
  fib = l2fib(dp, 20);
  snprintf(want, sizeof want, "bd 20 %s port trunk.20 dynamic", mac_b);
  CHECK_STR_CONTAINS(fib, want);
  snprintf(want, sizeof want, "bd 20 %s port d20 dynamic", mac_d);
  CHECK_STR_CONTAINS(fib, want);
  CHECK(strstr(fib, mac_c) == NULL);
  CHECK(strstr(fib, "trunk.10") == NULL);

  /* Across VLANs nothing passes: A's ARP for D floods domain 10 (d10) and
   * nothing of domain 20; the same the other way. Each host's unanswered
   * ARP is flushed after, so its retries do not muddle the next count. */
  uint64_t d10_0 = tx(dp, "d10"), d20_0 = tx(dp, "d20"), t10_0 = tx(dp, "trunk.10"),
           t20_0 = tx(dp, "trunk.20");
  out = capture("ip netns exec %s ping -c 1 -W 1 10.30.0.13", v->a.name);
  CHECK_STR_CONTAINS(out, " 0 received");
  CHECK(tx_wait(dp, "d10", d10_0 + 1) > d10_0); /* the ARP went somewhere: domain 10 */
  CHECK_EQ(tx(dp, "d20"), d20_0);
  CHECK_EQ(tx(dp, "trunk.20"), t20_0);
  CHECK_EQ(sh("ip -n %s neigh flush dev %s", v->a.name, v->dev_a), 0);
  usleep(100 * 1000);

  d10_0 = tx(dp, "d10"), t10_0 = tx(dp, "trunk.10"), d20_0 = tx(dp, "d20");
  out = capture("ip netns exec %s ping -c 1 -W 1 10.30.0.3", v->b.name);
  CHECK_STR_CONTAINS(out, " 0 received");
  CHECK(tx_wait(dp, "d20", d20_0 + 1) > d20_0);
  CHECK_EQ(tx(dp, "d10"), d10_0);
  CHECK_EQ(tx(dp, "trunk.10"), t10_0);
  CHECK_EQ(sh("ip -n %s neigh flush dev %s", v->b.name, v->dev_b), 0);
  /* Tagged frames reached the sub-interfaces, not the untagged parent. */
  CHECK(stat_elem(dp, "/if/rx-packets", "trunk.10") >= 2);
  CHECK(stat_elem(dp, "/if/rx-packets", "trunk.20") >= 2);
  dp_down(dp);
}

TEST(bridging_vlans_sub_interfaces_in_two_domains_do_not_leak) {
  if (netns_skipped()) return;
  vlans_t v;
  memset(&v, 0, sizeof v);
  v.relay.trunk = v.relay.tap[0] = v.relay.tap[1] = -1;
  vlans(&v);
  relay_stop(&v.relay);
  ns_delete(&v.a); /* VLAN devices go with their namespaces */
  ns_delete(&v.b);
  link_delete(&v.trunk);
  link_delete(&v.c);
  link_delete(&v.d);
}

/* ---- a TAP port, its host side moved into a namespace ---- */

/* Namespace H plays the host's stack behind a TAP port:
 *   H 10.7.0.2 --TAP-- [tap0 10.7.0.1] [b0 10.8.0.1] --veth-- B 10.8.0.2
 * The TAP device is made in this namespace by vg_tap_create, then moved
 * into H: the dataplane's descriptor stays attached to the device, and no
 * address or route of this namespace is ever touched. */
static void tap_host(ns_t *h, link_t *b, const char *tap) {
  REQUIRE(ns_make(h, 50) == 0);
  REQUIRE(link_make(b, 51, "10.8.0.2/24", 1500) == 0);
  REQUIRE(sh("ip -n %s route add default via 10.8.0.1", b->ns) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int t = vg_tap_create(dp, "tap0", tap, "");
  int p = vg_af_packet_create(dp, "b0", b->host, "");
  if (t < 0 || p < 0 || vg_interface_add_ip4(dp, (uint32_t)t, IP(10, 7, 0, 1), 24) ||
      vg_interface_add_ip4(dp, (uint32_t)p, IP(10, 8, 0, 1), 24)) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    vg_dp_destroy(dp);
    return;
  }
  ipv6_off(NULL, tap); /* nothing of its own before the move */
  if (sh("ip link set %s netns %s", tap, h->name) ||
      sh("ip -n %s addr add 10.7.0.2/24 dev %s && ip -n %s link set %s up && "
         "ip -n %s route add default via 10.7.0.1",
         h->name, tap, h->name, tap, h->name) ||
      vg_dp_start(dp)) {
    test_fail(__FILE__, __LINE__, "moving %s into %s: %s", tap, h->name, vg_last_error());
    vg_dp_destroy(dp);
    return;
  }
  ipv6_off(h->name, tap);
  const char *out = capture("ip netns exec %s ping -c 4 -i 0.2 -W 1 10.8.0.2", h->name);
  CHECK_STR_CONTAINS(out, "ttl=63");
  CHECK(strstr(out, " 4 received") || strstr(out, " 3 received"));
  out = capture("ip netns exec %s ping -c 2 -i 0.2 -W 1 10.7.0.2", b->ns);
  CHECK_STR_CONTAINS(out, " 0% packet loss");
  CHECK_STR_CONTAINS(out, "ttl=63");
  CHECK(tx(dp, "tap0") >= 5);
  CHECK(stat_elem(dp, "/if/rx-packets", "tap0") >= 5);
  dp_down(dp);
  /* Closing the descriptor removed the device, wherever it was. */
  CHECK(sh("ip -n %s link show %s >/dev/null 2>&1", h->name, tap) != 0);
}

TEST(bridging_tap_host_namespace_reaches_a_routed_host_through_a_tap_port) {
  if (netns_skipped()) return;
  ns_t h;
  link_t b;
  char tap[IFNAMSIZ];
  memset(&h, 0, sizeof h);
  memset(&b, 0, sizeof b);
  snprintf(tap, sizeof tap, "vgtap%d", (int)getpid());
  tap_host(&h, &b, tap);
  /* If the test stopped with the device still here (dataplane not made),
   * it is gone with the dataplane; this only guards a half-moved one. */
  if (sh("ip link del %s 2>/dev/null", tap)) {
    /* not here: the normal case */
  }
  ns_delete(&h);
  link_delete(&b);
}
