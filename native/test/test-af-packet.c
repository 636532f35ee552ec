/* af_packet and tap interfaces against real Linux interfaces: veth pairs
 * into network namespaces made for each test, and a TAP device. Frames of
 * test ethertypes (0x88b5, 0x88b6) are redirected by ethernet-input, so no
 * routing is involved: what arrives on the far side is compared byte for
 * byte, and the counters must match exactly (IPv6 is off on every link, so
 * nothing else talks). These need root and a real kernel: they skip
 * themselves otherwise, and under qemu-user (VECGATE_TEST_EMULATED). */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test-netns.h"
#include "test-util.h"
#include "test.h"

#define TYPE_AB 0x88b5 /* redirected one way */
#define TYPE_BA 0x88b6 /* and back */

/* A packet socket on ifname inside namespace ns (NULL: ours), bound to
 * receive `proto`. Only this thread changes namespace, and only for the
 * socket() and bind(): the socket stays in the namespace it was made in. */
static int packet_socket(const char *ns, const char *ifname, uint16_t proto) {
  int self = -1, target = -1, fd = -1;
  if (ns) {
    char path[96];
    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    target = open(path, O_RDONLY | O_CLOEXEC);
    if (self < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
      test_fail(__FILE__, __LINE__, "cannot enter namespace %s: %s", ns, strerror(errno));
      goto out;
    }
  }
  fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(proto));
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(proto),
                            .sll_ifindex = (int)if_nametoindex(ifname)};
  int big = 8 << 20; /* room for a burst of jumbo frames */
  if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) != 0) {
    test_fail(__FILE__, __LINE__, "packet socket on %s: %s", ifname, strerror(errno));
    if (fd >= 0) close(fd);
    fd = -1;
  }
  if (ns && setns(self, CLONE_NEWNET) != 0) abort(); /* the rest of the run would be wrong */
out:
  if (self >= 0) close(self);
  if (target >= 0) close(target);
  return fd;
}

/* n frames of `type`, sized by `size(i)`, each numbered in its payload. */
typedef struct {
  uint32_t n;
  uint8_t *frame[64];
  uint32_t len[64];
  uint64_t bytes;
} frames_t;

static void frames_make(frames_t *f, uint16_t type, uint32_t n, const uint32_t *sizes,
                        uint32_t n_sizes) {
  f->n = n;
  f->bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len = sizes[i % n_sizes];
    f->frame[i] = malloc(len);
    f->len[i] = make_frame(f->frame[i], NULL, NULL, 0, type, len - 14);
    memcpy(f->frame[i] + 14, &i, sizeof i);
    f->bytes += len;
  }
}

static void frames_free(frames_t *f) {
  for (uint32_t i = 0; i < f->n; i++) free(f->frame[i]);
  f->n = 0;
}

static void frames_send(int fd, const frames_t *f) {
  for (uint32_t i = 0; i < f->n; i++)
    if (send(fd, f->frame[i], f->len[i], 0) != (ssize_t)f->len[i])
      test_fail(__FILE__, __LINE__, "send frame %u (%u bytes): %s", i, f->len[i], strerror(errno));
}

/* Receives until every frame of f arrived, in order and byte for byte, or
 * 2 s passed. Returns how many matched. */
static uint32_t frames_expect(int fd, const frames_t *f, const char *where) {
  static uint8_t buf[65536];
  uint32_t got = 0;
  uint64_t deadline = now_ms() + 2000;
  while (got < f->n) {
    int64_t left = (int64_t)(deadline - now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (r < 0) continue;
    if ((uint32_t)r != f->len[got] || memcmp(buf, f->frame[got], (size_t)r) != 0) {
      test_fail(__FILE__, __LINE__, "%s: frame %u arrived as %zd bytes, %s (expected %u)", where,
                got, r, (uint32_t)r == f->len[got] ? "contents differ" : "wrong length",
                f->len[got]);
      return got;
    }
    got++;
  }
  if (got < f->n) test_fail(__FILE__, __LINE__, "%s: %u of %u frames arrived", where, got, f->n);
  return got;
}

/* Counters move on the dataplane thread: poll them for up to 2 s. */
static uint64_t stat_wait(vg_dp_t *dp, const char *entry, const char *elem, uint64_t want) {
  uint64_t deadline = now_ms() + 2000, v;
  while ((v = stat_elem(dp, entry, elem)) < want && now_ms() < deadline) usleep(2000);
  return v;
}

/* Stops the dataplane and checks that every buffer came home. */
static void stop_and_count_buffers(vg_dp_t *dp, uint32_t n_buffers) {
  vg_dp_stop(dp);
  CHECK_EQ(vg_buffer_pool_available(dp), n_buffers);
}

TEST(af_packet_and_tap_refuse_bad_input_naming_it) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_af_packet_create(dp, "x", "vgnosuch0", ""), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "host interface vgnosuch0 does not exist");
  CHECK_EQ(vg_af_packet_create(dp, "x", "lo", "colour=blue"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "unknown option 'colour'");
  CHECK_EQ(vg_af_packet_create(dp, "x", "lo", "rx-frames=lots"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "rx-frames=lots");
  CHECK_EQ(vg_af_packet_create(dp, "x", "lo", "qdisc-bypass=2"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "qdisc-bypass=2: expected 0..1");
  CHECK_EQ(vg_af_packet_create(dp, "x", "lo", "tx-frames"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "'tx-frames' is not key=value");
  CHECK_EQ(vg_af_packet_create(dp, "x", "a-name-too-long-for-linux", ""), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "host interface name must be 1..15 characters");
  CHECK_EQ(vg_tap_create(dp, "t", "vgtapx", "mode=3"), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "tap t: unknown option 'mode'");
  if (!getenv("VECGATE_TEST_EMULATED") && geteuid() == 0) {
    /* lo exists and is no TAP device: creating one by that name fails */
    CHECK(vg_tap_create(dp, "t", "lo", "") < 0);
    CHECK_STR_CONTAINS(vg_last_error(), "cannot create TAP device lo");
    /* an af_packet interface name that is taken */
    int lo = vg_af_packet_create(dp, "lo0", "lo", "rx-frames=64 tx-frames=16");
    CHECK(lo >= 0);
    CHECK_EQ(vg_af_packet_create(dp, "lo0", "lo", ""), VG_E_EXISTS);
    vg_interface_info_t info[2];
    CHECK_EQ(vg_interface_dump(dp, info, 2), 1);
    CHECK(strcmp(info[0].type, "af_packet") == 0 && strcmp(info[0].host_if, "lo") == 0);
    if (lo >= 0) CHECK_EQ(vg_interface_delete(dp, (uint32_t)lo), 0);
  }
  CHECK_EQ(vg_interface_find(dp, "x"), VG_E_NOTFOUND);
  CHECK_EQ(vg_interface_find(dp, "t"), VG_E_NOTFOUND);
  vg_dp_destroy(dp);
}

/* ns1 --veth-- [host-a  dataplane  host-b] --veth-- ns2, both peers on
 * 192.168.231.0/24. host-a's link takes jumbo frames, host-b's does not. */
static void both_ways(link_t *l1, link_t *l2) {
  REQUIRE(link_make(l1, 1, "192.168.231.1/24", 9000) == 0);
  REQUIRE(link_make(l2, 2, "192.168.231.2/24", 1500) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int a = vg_af_packet_create(dp, "host-a", l1->host, "");
  int b = vg_af_packet_create(dp, "host-b", l2->host, "qdisc-bypass=0 rx-frames=256 tx-frames=64");
  int s1 = packet_socket(l1->ns, l1->peer, TYPE_BA), s2 = packet_socket(l2->ns, l2->peer, TYPE_AB);
  frames_t ab = {0}, ba = {0}, jumbo = {0};
  static const uint32_t sizes[] = {60, 64, 128, 1514, 333, 1000};
  static const uint32_t big[] = {9014, 4000};
  if (a < 0 || b < 0 || s1 < 0 || s2 < 0) {
    test_fail(__FILE__, __LINE__, "setup: %s", vg_last_error());
    goto out;
  }
  CHECK_EQ(vg_ethernet_redirect(dp, TYPE_AB, (uint32_t)b), 0);
  CHECK_EQ(vg_ethernet_redirect(dp, TYPE_BA, (uint32_t)a), 0);
  CHECK_EQ(vg_trace_add(dp, "af-packet-input", 1), 0);
  REQUIRE(vg_dp_start(dp) == 0);
  frames_make(&ab, TYPE_AB, 60, sizes, 6);
  frames_make(&ba, TYPE_BA, 50, sizes, 6);
  frames_make(&jumbo, TYPE_AB, 3, big, 2);
  frames_send(s1, &ab);
  frames_expect(s2, &ab, "ns1 -> ns2");
  frames_send(s2, &ba);
  frames_expect(s1, &ba, "ns2 -> ns1");
  /* host-b's slots hold 1500-byte MTU frames: jumbo frames are dropped there */
  frames_send(s1, &jumbo);
  CHECK_EQ(stat_wait(dp, "/if/drops", "host-b", 3), 3);
  CHECK_EQ(stat_error(dp, "af-packet-input/frame larger than a tx ring slot"), 3);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "host-b"), 60);
  CHECK_EQ(stat_elem(dp, "/if/tx-bytes", "host-b"), ab.bytes);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "host-a"), 50);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "host-a"), 63);
  CHECK_EQ(stat_elem(dp, "/if/rx-bytes", "host-a"), ab.bytes + jumbo.bytes);
  /* our own tx never comes back as rx (PACKET_IGNORE_OUTGOING) */
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "host-b"), 50);
  static char trace[4096];
  vg_trace_format(dp, trace, sizeof trace);
  CHECK_STR_CONTAINS(trace, "af-packet-input");
  CHECK_STR_CONTAINS(trace, "af_packet rx sw_if_index 0, 60 bytes");
  /* The kernel takes a VLAN tag off into the ring header; it is put back,
   * so ethernet-input sees the tag and redirects by the inner type. */
  vg_trace_clear(dp);
  CHECK_EQ(vg_trace_add(dp, "af-packet-input", 1), 0);
  uint8_t tagged[100];
  uint32_t tagged_len = make_frame(tagged, (const uint16_t[]){0x8100}, (const uint16_t[]){7}, 1,
                                   TYPE_AB, 82);
  CHECK_EQ(send(s1, tagged, tagged_len, 0), tagged_len);
  CHECK_EQ(stat_wait(dp, "/if/tx-packets", "host-b", 61), 61);
  CHECK_EQ(stat_elem(dp, "/if/tx-bytes", "host-b"), ab.bytes + tagged_len);
  stop_and_count_buffers(dp, 4096);
  vg_trace_format(dp, trace, sizeof trace);
  CHECK_STR_CONTAINS(trace, "100 bytes, vlan tci 0x0007 restored");
  CHECK_STR_CONTAINS(trace, "0x88b5: 02:00:00:00:00:01 -> 02:00:00:00:00:02 vlan 7");
out:
  frames_free(&ab);
  frames_free(&ba);
  frames_free(&jumbo);
  if (s1 >= 0) close(s1);
  if (s2 >= 0) close(s2);
  vg_dp_destroy(dp);
}

TEST(af_packet_carries_frames_both_ways_between_namespaces) {
  if (netns_skipped()) return;
  link_t l1, l2;
  memset(&l1, 0, sizeof l1);
  memset(&l2, 0, sizeof l2);
  both_ways(&l1, &l2);
  link_delete(&l1);
  link_delete(&l2);
}

/* 9000-byte MTU on both links: frames of up to five buffers arrive as
 * chains and leave as one frame. */
static void jumbo(link_t *l1, link_t *l2) {
  REQUIRE(link_make(l1, 1, "192.168.231.1/24", 9000) == 0);
  REQUIRE(link_make(l2, 2, "192.168.231.2/24", 9000) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int a = vg_af_packet_create(dp, "host-a", l1->host, "");
  int b = vg_af_packet_create(dp, "host-b", l2->host, "");
  int s1 = packet_socket(l1->ns, l1->peer, TYPE_BA), s2 = packet_socket(l2->ns, l2->peer, TYPE_AB);
  frames_t ab = {0}, ba = {0};
  static const uint32_t sizes[] = {9014, 2048, 2049, 4097, 60, 8000};
  if (a < 0 || b < 0 || s1 < 0 || s2 < 0) {
    test_fail(__FILE__, __LINE__, "setup: %s", vg_last_error());
    goto out;
  }
  vg_ethernet_redirect(dp, TYPE_AB, (uint32_t)b);
  vg_ethernet_redirect(dp, TYPE_BA, (uint32_t)a);
  REQUIRE(vg_dp_start(dp) == 0);
  frames_make(&ab, TYPE_AB, 30, sizes, 6);
  frames_make(&ba, TYPE_BA, 30, sizes, 6);
  frames_send(s1, &ab);
  frames_send(s2, &ba);
  frames_expect(s2, &ab, "ns1 -> ns2");
  frames_expect(s1, &ba, "ns2 -> ns1");
  CHECK_EQ(stat_wait(dp, "/if/tx-packets", "host-b", 30), 30);
  CHECK_EQ(stat_wait(dp, "/if/tx-packets", "host-a", 30), 30);
  CHECK_EQ(stat_elem(dp, "/if/rx-bytes", "host-a"), ab.bytes);
  CHECK_EQ(stat_elem(dp, "/if/tx-bytes", "host-a"), ba.bytes);
  CHECK_EQ(stat_elem(dp, "/if/drops", "host-a") + stat_elem(dp, "/if/drops", "host-b"), 0);
  stop_and_count_buffers(dp, 4096);
out:
  frames_free(&ab);
  frames_free(&ba);
  if (s1 >= 0) close(s1);
  if (s2 >= 0) close(s2);
  vg_dp_destroy(dp);
}

TEST(af_packet_jumbo_frames_become_chains_and_leave_whole) {
  if (netns_skipped()) return;
  link_t l1, l2;
  memset(&l1, 0, sizeof l1);
  memset(&l2, 0, sizeof l2);
  jumbo(&l1, &l2);
  link_delete(&l1);
  link_delete(&l2);
}

/* ns1 --veth-- [host-a  dataplane  tap0] --TAP-- this namespace: the host
 * sees on its TAP device what the dataplane sends to tap0, and the reverse. */
static void tap_both_ways(link_t *l1, const char *tap) {
  REQUIRE(link_make(l1, 1, "192.168.232.2/24", 9000) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096");
  REQUIRE(dp);
  int a = vg_af_packet_create(dp, "host-a", l1->host, "");
  int t = vg_tap_create(dp, "tap0", tap, "");
  int s1 = -1, st = -1;
  frames_t ab = {0}, ba = {0};
  static const uint32_t sizes[] = {60, 1514, 9014, 3000, 128};
  if (a < 0 || t < 0) {
    test_fail(__FILE__, __LINE__, "setup: %s", vg_last_error());
    goto out;
  }
  CHECK(if_nametoindex(tap) != 0);
  ipv6_off(NULL, tap);
  CHECK_EQ(sh("ip addr add 192.168.232.1/24 dev %s && ip link set %s mtu 9000", tap, tap), 0);
  s1 = packet_socket(l1->ns, l1->peer, TYPE_BA);
  st = packet_socket(NULL, tap, TYPE_AB);
  if (s1 < 0 || st < 0) goto out;
  vg_ethernet_redirect(dp, TYPE_AB, (uint32_t)t);
  vg_ethernet_redirect(dp, TYPE_BA, (uint32_t)a);
  CHECK_EQ(vg_trace_add(dp, "tap-input", 1), 0);
  REQUIRE(vg_dp_start(dp) == 0);
  frames_make(&ab, TYPE_AB, 20, sizes, 5);
  frames_make(&ba, TYPE_BA, 20, sizes, 5);
  frames_send(s1, &ab);
  frames_expect(st, &ab, "ns1 -> tap");
  frames_send(st, &ba);
  frames_expect(s1, &ba, "tap -> ns1");
  CHECK_EQ(stat_wait(dp, "/if/tx-packets", "tap0", 20), 20);
  CHECK_EQ(stat_elem(dp, "/if/tx-bytes", "tap0"), ab.bytes);
  CHECK_EQ(stat_wait(dp, "/if/tx-packets", "host-a", 20), 20);
  /* the host may say more (ARP, ...) on its TAP than our frames */
  CHECK(stat_elem(dp, "/if/rx-packets", "tap0") >= 20);
  stop_and_count_buffers(dp, 4096);
  static char trace[4096];
  vg_trace_format(dp, trace, sizeof trace);
  CHECK_STR_CONTAINS(trace, "tap-input");
  CHECK_STR_CONTAINS(trace, "tap rx sw_if_index 1");
  /* deleting the interface removes the host's device */
  CHECK_EQ(vg_interface_delete(dp, (uint32_t)t), 0);
  CHECK_EQ(if_nametoindex(tap), 0);
out:
  frames_free(&ab);
  frames_free(&ba);
  if (s1 >= 0) close(s1);
  if (st >= 0) close(st);
  vg_dp_destroy(dp);
}

TEST(tap_connects_the_host_and_the_dataplane_both_ways) {
  if (netns_skipped()) return;
  link_t l1;
  memset(&l1, 0, sizeof l1);
  char tap[IFNAMSIZ];
  snprintf(tap, sizeof tap, "vgtap%d", (int)getpid());
  tap_both_ways(&l1, tap);
  link_delete(&l1);
  if (if_nametoindex(tap) && sh("ip link del %s", tap)) {
    /* gone with the dataplane */
  }
}

/* Counts frames of the socket's ethertype until `want` arrived or 3 s passed. */
static uint32_t frames_count(int fd, uint32_t want) {
  static uint8_t buf[65536];
  uint32_t got = 0;
  uint64_t deadline = now_ms() + 3000;
  while (got < want) {
    int64_t left = (int64_t)(deadline - now_ms());
    struct pollfd p = {fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0) break;
    if (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) got++;
  }
  return got;
}

/* Two workers send out of one af_packet interface at once (its tx ring is
 * shared under a lock) while the API thread adds and deletes another af_packet
 * interface. Counters are read after the stop: TSan sees every access. */
static void two_workers(link_t *l1) {
  REQUIRE(link_make(l1, 1, "192.168.233.1/24", 1500) == 0);
  vg_dp_t *dp = vg_dp_create("buffers=4096 threads=2");
  REQUIRE(dp);
  int a = vg_af_packet_create(dp, "host-a", l1->host, "");
  int s1 = packet_socket(l1->ns, l1->peer, TYPE_AB);
  if (a < 0 || s1 < 0) {
    test_fail(__FILE__, __LINE__, "setup: %s", vg_last_error());
    goto out;
  }
  CHECK_EQ(vg_ethernet_redirect(dp, TYPE_AB, (uint32_t)a), 0);
  static const char *const streams[] = {
      "name=w0 worker=0 count=500 rate=20k size=100-1400 eth.type=0x88b5",
      "name=w1 worker=1 count=500 rate=20k size=60-1514 eth.type=0x88b5",
  };
  for (int i = 0; i < 2; i++) CHECK(vg_pg_stream_add(dp, streams[i]) >= 0);
  REQUIRE(vg_dp_start(dp) == 0);
  for (int i = 0; i < 5; i++) {
    int lo = vg_af_packet_create(dp, "lo0", "lo", "rx-frames=64 tx-frames=16");
    CHECK(lo >= 0);
    if (lo >= 0) CHECK_EQ(vg_interface_delete(dp, (uint32_t)lo), 0);
  }
  CHECK_EQ(frames_count(s1, 1000), 1000);
  stop_and_count_buffers(dp, 4096);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "host-a"), 1000);
  CHECK_EQ(stat_elem(dp, "/if/drops", "host-a"), 0);
out:
  if (s1 >= 0) close(s1);
  vg_dp_destroy(dp);
}

TEST(thread_af_packet_tx_from_two_workers_shares_one_ring) {
  if (netns_skipped()) return;
  link_t l1;
  memset(&l1, 0, sizeof l1);
  two_workers(&l1);
  link_delete(&l1);
}
