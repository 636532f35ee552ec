/* Packet trace: the path of exactly the requested packets, in words. */
#include <stdlib.h>

#include "test-util.h"
#include "test.h"

TEST(trace_shows_each_packets_path) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_trace_add(dp, "ethernet-input", 2), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "not an input node");
  CHECK_EQ(vg_trace_add(dp, "nope", 2), VG_E_NOTFOUND);
  REQUIRE(vg_trace_add(dp, "pg-input", 2) == 0);
  REQUIRE(vg_pg_stream_add(dp, "name=tr count=100 vlan=42 eth.src=02:00:00:00:00:0a") >= 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 100);
  int64_t need = vg_trace_format(dp, NULL, 0);
  REQUIRE(need > 0);
  char *text = malloc((size_t)need + 1);
  CHECK_EQ(vg_trace_format(dp, text, (uint64_t)need + 1), need);
  CHECK_STR_CONTAINS(text, "Packet 1\n\n00:00:0"); /* time since the dataplane started */
  CHECK_STR_CONTAINS(text, "Packet 2\n");
  CHECK(!strstr(text, "Packet 3"));
  CHECK_STR_CONTAINS(text, ": pg-input\n  stream tr, 64 bytes");
  CHECK_STR_CONTAINS(text, ": ethernet-input\n  0x0800: 02:00:00:00:00:0a -> 02:00:00:00:00:02 vlan 42");
  CHECK_STR_CONTAINS(text, ": error-drop\n  ethernet-input: no sub-interface for the VLAN");
  free(text);
  /* A small buffer gets a truncated, terminated text and the full length. */
  char small[16];
  CHECK_EQ(vg_trace_format(dp, small, sizeof small), need);
  CHECK_EQ(strlen(small), 15);
  CHECK_EQ(vg_trace_clear(dp), 0);
  char empty[64];
  vg_trace_format(dp, empty, sizeof empty);
  CHECK_STR_CONTAINS(empty, "No packets in trace buffer");
  vg_dp_destroy(dp);
}
