/* What the console's show commands read: the buffer pool, the threads and
 * each interface's driver. */
#include <net/if.h>
#include <stdlib.h>
#include <unistd.h>

#include "test-util.h"
#include "test.h"

TEST(buffer_pool_info_adds_up) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  vg_buffer_pool_info_t info;
  memset(&info, 0xff, sizeof info);
  CHECK_EQ(vg_buffer_pool_info(dp, &info), 0);
  CHECK_EQ(info.total, 2048);
  CHECK_EQ(info.free + info.cached, 2048);
  CHECK_EQ(info.data_size, 2048);
  CHECK_EQ(info.buffer_size, 2304);
  CHECK(strcmp(info.backing, vg_buffer_backing(dp)) == 0);
  /* 100 taken by thread 0: the cache refills from the pool, 100 are in use */
  uint32_t bi[100];
  REQUIRE(vg_buffer_alloc(&dp->threads[0], bi, 100) == 100);
  CHECK_EQ(vg_buffer_pool_info(dp, &info), 0);
  CHECK(info.cached > 0);
  CHECK_EQ(info.free + info.cached, 2048 - 100);
  vg_buffer_free(&dp->threads[0], bi, 100);
  CHECK_EQ(vg_buffer_pool_info(dp, &info), 0);
  CHECK_EQ(info.free + info.cached, 2048);
  vg_dp_destroy(dp);
}

static void read_comm(int tid, char *out, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", tid);
  FILE *f = fopen(path, "r");
  out[0] = 0;
  if (f && fgets(out, (int)size, f)) out[strcspn(out, "\n")] = 0;
  if (f) fclose(f);
}

TEST(thread_dump_names_cores_and_thread_ids) {
  vg_dp_t *dp = vg_dp_create("buffers=2048 threads=2 cpus=0");
  REQUIRE(dp);
  vg_thread_info_t t[3];
  memset(t, 0xff, sizeof t);
  CHECK_EQ(vg_thread_dump(dp, NULL, 0), 2);
  CHECK_EQ(vg_thread_dump(dp, t, 1), 2); /* fills one, tells two */
  CHECK_EQ(t[1].index, 0xffffffffu);
  CHECK_EQ(vg_thread_dump(dp, t, 3), 2);
  CHECK(strcmp(t[0].name, "vg-dp-0") == 0 && strcmp(t[1].name, "vg-dp-1") == 0);
  CHECK_EQ(t[0].index, 0);
  CHECK_EQ(t[1].index, 1);
  CHECK_EQ(t[0].cpu, 0);
  CHECK_EQ(t[1].cpu, -1);
  CHECK_EQ(t[0].tid, 0); /* not running */
  REQUIRE(vg_dp_start(dp) == 0);
  CHECK_EQ(vg_thread_dump(dp, t, 3), 2);
  CHECK(t[0].tid > 0 && t[1].tid > 0 && t[0].tid != t[1].tid);
  CHECK(t[0].tid != getpid());
  char comm[32];
  /* qemu-user runs guest threads as host threads: /proc has them too */
  read_comm(t[0].tid, comm, sizeof comm);
  CHECK(strcmp(comm, "vg-dp-0") == 0);
  read_comm(t[1].tid, comm, sizeof comm);
  CHECK(strcmp(comm, "vg-dp-1") == 0);
  vg_dp_stop(dp);
  CHECK_EQ(vg_thread_dump(dp, t, 3), 2);
  CHECK(t[0].tid == 0 && t[1].tid == 0);
  vg_dp_destroy(dp);
}

static char *hw(vg_dp_t *dp, int sw) {
  static char text[4096];
  int64_t n = vg_interface_format_hw(dp, (uint32_t)sw, text, sizeof text);
  if (n < 0) {
    test_fail(__FILE__, __LINE__, "format_hw %d: %s", sw, vg_last_error());
    text[0] = 0;
  }
  return text;
}

TEST(interface_format_hw_tells_each_drivers_state) {
  uint8_t frame[64];
  const uint8_t *frames[1] = {frame};
  uint32_t lens[1] = {make_frame(frame, NULL, NULL, 0, 0x88b5, 50)};
  const char *in = tmp_path("hw-in.pcap"), *out = tmp_path("hw-out.pcap");
  write_pcap(in, frames, lens, 1);
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  int p = vg_pcap_interface_create(dp, "p0", in, 3, out);
  int q = vg_pcap_interface_create(dp, "p1", NULL, 0, out);
  REQUIRE(p >= 0 && q >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, (uint32_t)q), 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 3);
  char *t = hw(dp, p);
  CHECK_STR_CONTAINS(t, "  rx file ");
  CHECK_STR_CONTAINS(t, "hw-in.pcap: 1 records, 3 of 3 loops done");
  CHECK_STR_CONTAINS(t, "hw-out.pcap: 0 frames written");
  CHECK_STR_CONTAINS(hw(dp, q), "rx file: none\n  tx file ");
  CHECK_STR_CONTAINS(hw(dp, q), "hw-out.pcap: 3 frames written\n");
  int s = vg_pg_stream_add(dp, "name=gen count=5 rate=10 size=70-80 enable=0");
  REQUIRE(s >= 0);
  int pg = vg_interface_find(dp, "pg0");
  CHECK_STR_CONTAINS(hw(dp, pg), "  stream 0 gen: disabled, 0 of 5 packets sent, 10 packets/s, 70..80 bytes, "
                                 "worker 0, into ethernet-input\n");
  int sub = vg_sub_interface_create(dp, (uint32_t)p, 42);
  REQUIRE(sub >= 0);
  CHECK_STR_CONTAINS(hw(dp, sub), "802.1Q sub-interface of p0 (sw_if_index 0), vlan 42");
  int lo = vg_loopback_create(dp, "loop0"), lo2 = vg_loopback_create(dp, "loop1");
  REQUIRE(lo >= 0 && lo2 >= 0);
  CHECK_STR_CONTAINS(hw(dp, lo), "in no bridge domain");
  REQUIRE(vg_bridge_domain_add(dp, 7, "") == 0);
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)lo, 7, 0, 1) == 0);
  REQUIRE(vg_bridge_port_set(dp, (uint32_t)lo2, 7, 0, 0) == 0);
  CHECK_STR_CONTAINS(hw(dp, lo), "BVI of bridge domain 7");
  CHECK_STR_CONTAINS(hw(dp, lo2), "port of bridge domain 7");
  CHECK_EQ(vg_interface_format_hw(dp, 99, NULL, 0), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no interface with sw_if_index 99");
  /* Too small a buffer: truncated, terminated, and the whole length told. */
  int64_t need = vg_interface_format_hw(dp, (uint32_t)p, NULL, 0);
  char small[8];
  CHECK_EQ(vg_interface_format_hw(dp, (uint32_t)p, small, sizeof small), need);
  CHECK_EQ(strlen(small), 7);
  if (!getenv("VECGATE_TEST_EMULATED") && geteuid() == 0) {
    int af = vg_af_packet_create(dp, "lo-af", "lo", "rx-frames=256 tx-frames=64 qdisc-bypass=0");
    REQUIRE(af >= 0);
    t = hw(dp, af);
    char want[64];
    snprintf(want, sizeof want, "  host interface lo, ifindex %u, mtu ", if_nametoindex("lo"));
    CHECK_STR_CONTAINS(t, want);
    CHECK_STR_CONTAINS(t, "  rx ring: 8 blocks of 64 KB");
    CHECK_STR_CONTAINS(t, "  tx ring: 64 frames of ");
    CHECK_STR_CONTAINS(t, "qdisc bypass off\n");
    CHECK_STR_CONTAINS(t, "  kernel rx: ");
    CHECK_STR_CONTAINS(t, "dropped (rx ring full)");
    CHECK_STR_CONTAINS(t, "  tx drops: 0 (tx ring full), 0 (too big for a slot)\n");
    char name[IFNAMSIZ];
    snprintf(name, sizeof name, "vghw%d", (int)getpid() % 100000);
    int tap = vg_tap_create(dp, "tap0", name, "");
    REQUIRE(tap >= 0);
    snprintf(want, sizeof want, "  host device %s (TAP), ifindex %u, fd ", name, if_nametoindex(name));
    CHECK_STR_CONTAINS(hw(dp, tap), want);
  }
  vg_dp_destroy(dp);
}
