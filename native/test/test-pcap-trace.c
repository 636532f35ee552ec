/* Packet capture (pcap trace rx tx drop): exactly the frames asked for,
 * byte for byte and whole, in a file our own reader takes back. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../interfaces/pcap.h"
#include "test-util.h"
#include "test.h"

static vg_pcap_file_t *load(const char *path) {
  vg_pcap_file_t *f = NULL;
  if (vg_pcap_load(path, &f) != 0) test_fail(__FILE__, __LINE__, "%s: %s", path, vg_last_error());
  return f;
}

static int is_type(const vg_pcap_file_t *f, uint32_t r, uint16_t type) {
  const uint8_t *p = f->data + f->offsets[r];
  return f->lengths[r] >= 14 && (p[12] << 8 | p[13]) == type;
}

static uint32_t count_type(const vg_pcap_file_t *f, uint16_t type) {
  uint32_t n = 0;
  for (uint32_t r = 0; r < f->n_records; r++) n += is_type(f, r, type);
  return n;
}

TEST(pcap_trace_refuses_bad_arguments_naming_them) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  const char *file = tmp_path("refuse.pcap");
  CHECK_EQ(vg_pcap_trace_on(dp, 0, 10, file, VG_NONE), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "what=0x0: give rx (1), tx (2), drop (4)");
  CHECK_EQ(vg_pcap_trace_on(dp, 8 | VG_PCAP_RX, 10, file, VG_NONE), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "what=0x9");
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 0, file, VG_NONE), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "max 0 packets is outside 1..1000000");
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 1000001, file, VG_NONE), VG_E_INVAL);
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, "", VG_NONE), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "give a file");
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, NULL, VG_NONE), VG_E_INVAL);
  char long_path[300];
  memset(long_path, 'x', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = 0;
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, long_path, VG_NONE), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "file name of 299 bytes is too long (at most 255)");
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, file, 7), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no interface with sw_if_index 7");
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, "/nonexistent-dir/x.pcap", VG_NONE), VG_E_IO);
  CHECK_STR_CONTAINS(vg_last_error(), "/nonexistent-dir/x.pcap: No such file or directory");
  CHECK_EQ(vg_pcap_trace_off(dp), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "no capture is on");
  vg_pcap_trace_status_t st;
  memset(&st, 0xff, sizeof st);
  CHECK_EQ(vg_pcap_trace_status(dp, &st), 0);
  CHECK_EQ(st.on, 0);
  CHECK_EQ(st.max_packets, 0);
  CHECK_EQ(st.path[0], 0);
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_TX | VG_PCAP_DROP, 10, file, VG_NONE), 0);
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, tmp_path("other.pcap"), VG_NONE), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "already on: turn it off first");
  CHECK_EQ(vg_pcap_trace_status(dp, &st), 0);
  CHECK_EQ(st.on, 1);
  CHECK_EQ(st.what, VG_PCAP_TX | VG_PCAP_DROP);
  CHECK_EQ(st.max_packets, 10);
  CHECK_EQ(st.captured, 0);
  CHECK_EQ(st.sw_if_index, VG_NONE);
  CHECK(strcmp(st.path, file) == 0);
  CHECK_EQ(vg_pcap_trace_off(dp), 0);
  vg_pcap_file_t *f = load(file); /* an empty capture is still a pcap file */
  CHECK(f && f->n_records == 0);
  vg_pcap_file_free(f);
  vg_dp_destroy(dp); /* and a capture left on is freed with the dataplane */
  dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_pcap_trace_on(dp, VG_PCAP_RX, 10, file, VG_NONE), 0);
  vg_dp_destroy(dp);
}

/* pg0 sends 10 frames of 0x88b5, redirected out of the pcap port out0, and
 * 5 of 0x1234, which ethernet-input drops. */
static vg_dp_t *sender(int *out, const char *out_file) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  if (!dp) return NULL;
  *out = vg_pcap_interface_create(dp, "out0", NULL, 0, out_file);
  if (*out < 0 || vg_ethernet_redirect(dp, 0x88b5, (uint32_t)*out) ||
      vg_pg_stream_add(dp, "name=fwd count=10 size=100 eth.type=0x88b5 enable=0") < 0 ||
      vg_pg_stream_add(dp, "name=bad count=5 size=70 eth.type=0x1234 enable=0") < 0)
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
  return dp;
}

static void send_all(vg_dp_t *dp) {
  vg_pg_stream_enable(dp, 0, 1);
  vg_pg_stream_enable(dp, 1, 1);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 15);
}

TEST(pcap_trace_captures_rx_tx_and_drop_exactly) {
  int out;
  vg_dp_t *dp = sender(&out, tmp_path("cap-out0.pcap"));
  REQUIRE(dp);
  const char *file = tmp_path("cap-all.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_RX | VG_PCAP_TX | VG_PCAP_DROP, 1000, file, VG_NONE) == 0);
  send_all(dp);
  vg_pcap_trace_status_t st;
  vg_pcap_trace_status(dp, &st);
  CHECK_EQ(st.captured, 30); /* 15 received, 10 sent, 5 dropped */
  CHECK_EQ(vg_pcap_trace_off(dp), 30);
  vg_pcap_file_t *f = load(file);
  REQUIRE(f);
  CHECK_EQ(f->n_records, 30);
  CHECK_EQ(count_type(f, 0x88b5), 20);
  CHECK_EQ(count_type(f, 0x1234), 10);
  for (uint32_t r = 0; r < f->n_records; r++)
    CHECK_EQ(f->lengths[r], is_type(f, r, 0x88b5) ? 100 : 70);
  vg_pcap_file_free(f);
  /* What the capture saw leave is what out0 wrote, byte for byte. */
  vg_interface_flush(dp, (uint32_t)out);
  vg_pcap_file_t *sent = load(tmp_path("cap-out0.pcap"));
  REQUIRE(sent && sent->n_records == 10);

  /* Only tx, only out0: the ten frames, as out0 wrote them. */
  file = tmp_path("cap-tx.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_TX, 1000, file, (uint32_t)out) == 0);
  send_all(dp);
  CHECK_EQ(vg_pcap_trace_off(dp), 10);
  f = load(file);
  REQUIRE(f && f->n_records == 10);
  for (uint32_t r = 0; r < 10; r++)
    CHECK(f->lengths[r] == sent->lengths[r] &&
          memcmp(f->data + f->offsets[r], sent->data + sent->offsets[r], f->lengths[r]) == 0);
  vg_pcap_file_free(f);
  vg_pcap_file_free(sent);

  /* Only drops; rx on out0 (which receives nothing) takes none. */
  file = tmp_path("cap-drop.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_DROP, 1000, file, VG_NONE) == 0);
  send_all(dp);
  CHECK_EQ(vg_pcap_trace_off(dp), 5);
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_RX, 1000, file, (uint32_t)out) == 0);
  send_all(dp);
  CHECK_EQ(vg_pcap_trace_off(dp), 0);

  /* max: the first 7 of 30 frames, then capture stops by itself. */
  file = tmp_path("cap-max.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_RX | VG_PCAP_TX | VG_PCAP_DROP, 7, file, VG_NONE) == 0);
  send_all(dp);
  vg_pcap_trace_status(dp, &st);
  CHECK_EQ(st.on, 1);
  CHECK_EQ(st.captured, 7);
  CHECK_EQ(dp->pcap_capture, 0); /* the frame path no longer calls in */
  CHECK_EQ(vg_pcap_trace_off(dp), 7);
  f = load(file);
  CHECK(f && f->n_records == 7);
  vg_pcap_file_free(f);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(pcap_trace_writes_chained_frames_whole) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  int out = vg_pcap_interface_create(dp, "jumbo-out", NULL, 0, tmp_path("jumbo-out.pcap"));
  REQUIRE(out >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, (uint32_t)out), 0);
  REQUIRE(vg_pg_stream_add(dp, "name=j count=3 size=5000 eth.type=0x88b5") >= 0);
  const char *file = tmp_path("cap-jumbo.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_RX | VG_PCAP_TX, 100, file, VG_NONE) == 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 3);
  CHECK_EQ(vg_pcap_trace_off(dp), 6);
  vg_interface_flush(dp, (uint32_t)out);
  vg_pcap_file_t *f = load(file), *sent = load(tmp_path("jumbo-out.pcap"));
  REQUIRE(f && sent && f->n_records == 6 && sent->n_records == 3);
  for (uint32_t r = 0; r < 6; r++) {
    CHECK_EQ(f->lengths[r], 5000);
    /* the pattern runs past the first buffer (2048 bytes) unbroken */
    CHECK(memcmp(f->data + f->offsets[r], sent->data + sent->offsets[0], 5000) == 0 ||
          memcmp(f->data + f->offsets[r], sent->data + sent->offsets[r % 3], 5000) == 0);
  }
  vg_pcap_file_free(f);
  vg_pcap_file_free(sent);
  vg_dp_destroy(dp);
}

/* A packet dropped past ethernet-input (here by ip4-input, TTL 0) is
 * captured from its Ethernet header, as it arrived. */
TEST(pcap_trace_drop_keeps_the_ethernet_header) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  int s = vg_pg_stream_add(dp, "name=t count=4 size=90 ip4.ttl=0 eth.dst=02:fe:00:00:00:00 enable=0");
  REQUIRE(s >= 0);
  int pg0 = vg_interface_find(dp, "pg0");
  REQUIRE(pg0 == 0);
  REQUIRE(vg_interface_add_ip4(dp, (uint32_t)pg0, 0x0a000001, 24) == 0); /* 10.0.0.1/24 */
  const char *file = tmp_path("cap-ttl0.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_DROP, 100, file, (uint32_t)pg0) == 0);
  vg_pg_stream_enable(dp, (uint32_t)s, 1);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 4);
  CHECK_EQ(stat_error(dp, "ip4-input/TTL 0"), 4);
  CHECK_EQ(vg_pcap_trace_off(dp), 4);
  vg_pcap_file_t *f = load(file);
  REQUIRE(f && f->n_records == 4);
  static const uint8_t dst[6] = {0x02, 0xfe, 0, 0, 0, 0};
  for (uint32_t r = 0; r < 4; r++) {
    const uint8_t *p = f->data + f->offsets[r];
    CHECK_EQ(f->lengths[r], 90);
    CHECK(memcmp(p, dst, 6) == 0);
    CHECK(is_type(f, r, 0x0800));
    CHECK_EQ(p[14], 0x45);
    CHECK_EQ(p[14 + 8], 0); /* the TTL that got it dropped */
  }
  vg_pcap_file_free(f);
  vg_dp_destroy(dp);
}

static void sleep_ms(long ms) {
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
}

/* Both threads capture into one file at once; taken while they run. */
TEST(thread_pcap_trace_while_forwarding) {
  vg_dp_t *dp = vg_dp_create("buffers=4096 threads=2");
  REQUIRE(dp);
  int out = vg_pcap_interface_create(dp, "out0", NULL, 0, "/dev/null");
  REQUIRE(out >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, (uint32_t)out), 0);
  REQUIRE(vg_pg_stream_add(dp, "name=w0 worker=0 rate=10k size=80 eth.type=0x88b5") >= 0);
  REQUIRE(vg_pg_stream_add(dp, "name=w1 worker=1 rate=10k size=90 eth.type=0x88b5") >= 0);
  REQUIRE(vg_dp_start(dp) == 0);
  /* Both sending before the capture starts; 2000 frames then take 50 ms. */
  vg_pg_status_t w0 = {0}, w1 = {0};
  for (int i = 0; i < 2000 && (!w0.packets_sent || !w1.packets_sent); i++) {
    sleep_ms(1);
    vg_pg_stream_status(dp, 0, &w0);
    vg_pg_stream_status(dp, 1, &w1);
  }
  const char *file = tmp_path("cap-threads.pcap");
  REQUIRE(vg_pcap_trace_on(dp, VG_PCAP_RX | VG_PCAP_TX, 2000, file, VG_NONE) == 0);
  vg_pcap_trace_status_t st = {0};
  for (int i = 0; i < 2000 && st.captured < 2000; i++) {
    sleep_ms(1);
    vg_pcap_trace_status(dp, &st);
  }
  CHECK_EQ(st.captured, 2000);
  CHECK_EQ(vg_pcap_trace_off(dp), 2000);
  vg_dp_stop(dp);
  vg_pcap_file_t *f = load(file);
  REQUIRE(f && f->n_records == 2000);
  uint32_t n80 = 0, n90 = 0;
  for (uint32_t r = 0; r < f->n_records; r++) n80 += f->lengths[r] == 80, n90 += f->lengths[r] == 90;
  CHECK_EQ(n80 + n90, 2000);
  CHECK(n80 > 0 && n90 > 0); /* both threads' frames are there */
  vg_pcap_file_free(f);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp);
}
