/* The dataplane thread under concurrent configuration: the barrier must let
 * every API call change tables while traffic flows, losing no buffer. Run
 * under ThreadSanitizer by `make test-tsan`. */
#include <stdlib.h>
#include <time.h>

#include "test-util.h"
#include "test.h"

static void sleep_ms(long ms) {
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
}

TEST(thread_config_while_forwarding) {
  vg_dp_t *dp = vg_dp_create("buffers=4096 threads=2");
  REQUIRE(dp);
  int s0 = vg_pg_stream_add(dp, "name=w0 worker=0 rate=2M eth.type=0x88b5");
  int s1 = vg_pg_stream_add(dp, "name=w1 worker=1 rate=2M");
  REQUIRE(s0 >= 0 && s1 >= 0);
  REQUIRE(vg_dp_start(dp) == 0);
  CHECK_EQ(vg_dp_start(dp), VG_E_STATE);
  CHECK_EQ(vg_dp_run_until_idle(dp, 1), VG_E_STATE);
  for (int i = 0; i < 40; i++) {
    char name[32], spec[96];
    snprintf(name, sizeof name, "out%d", i);
    /* /dev/null: a hang here must not fill the disk with capture. */
    int out = vg_pcap_interface_create(dp, name, NULL, 0, "/dev/null");
    CHECK(out >= 0);
    CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, (uint32_t)out), 0);
    snprintf(spec, sizeof spec, "name=x%d count=500 worker=%d", i, i % 2);
    int x = vg_pg_stream_add(dp, spec);
    CHECK(x >= 0);
    if (i % 5 == 0) CHECK_EQ(vg_trace_add(dp, "pg-input", 3), 0);
    if (i % 7 == 0) CHECK_EQ(vg_stats_clear(dp, "all"), 0);
    sleep_ms(2);
    CHECK_EQ(vg_interface_delete(dp, (uint32_t)out), 0);
    CHECK_EQ(vg_pg_stream_delete(dp, (uint32_t)x), 0);
    if (i % 10 == 0) CHECK_EQ(vg_trace_clear(dp), 0);
  }
  sleep_ms(20);
  CHECK_EQ(vg_dp_stop(dp), 0);
  CHECK(stat_elem(dp, "/nodes/packets", "pg-input") > 0);
  vg_pg_status_t a, b;
  vg_pg_stream_status(dp, (uint32_t)s0, &a);
  vg_pg_stream_status(dp, (uint32_t)s1, &b);
  CHECK(a.packets_sent > 0 && b.packets_sent > 0);
  /* Every buffer came back: none was lost across barrier stops. */
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp);
}

TEST(thread_start_stop_repeatedly) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  REQUIRE(vg_pg_stream_add(dp, "name=s rate=100k") >= 0);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(vg_dp_start(dp), 0);
    CHECK(vg_dp_is_running(dp));
    sleep_ms(5);
    CHECK_EQ(vg_dp_stop(dp), 0);
    CHECK(!vg_dp_is_running(dp));
  }
  CHECK(stat_elem(dp, "/if/rx-packets", "pg0") > 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp); /* also with the thread running: destroy stops it */
}

TEST(thread_pinned_to_the_cores_asked) {
  CHECK(vg_dp_create("cpus=zero") == NULL);
  CHECK_STR_CONTAINS(vg_last_error(), "cpus=zero is not a list of core numbers");
  vg_dp_t *dp = vg_dp_create("buffers=2048 cpus=0");
  REQUIRE(dp);
  REQUIRE(vg_dp_start(dp) == 0);
  sleep_ms(5);
  cpu_set_t set;
  CPU_ZERO(&set);
  CHECK_EQ(pthread_getaffinity_np(dp->threads[0].tid, sizeof set, &set), 0);
  CHECK(CPU_ISSET(0, &set));
  CHECK_EQ(CPU_COUNT(&set), 1);
  vg_dp_stop(dp);
  vg_dp_destroy(dp);
}
