/* Ping from the dataplane: requests leave through the FIB as a forwarded
 * packet would, and only replies to them are recorded, with a real
 * round-trip time. */
#include <stdlib.h>
#include <time.h>

#include "../engine/checksum.h"
#include "../interfaces/pcap.h"
#include "../ip4/ip4.h"
#include "test-util.h"
#include "test.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint8_t HOST[6] = {0x02, 0xaa, 0, 0, 0, 0x02};

/* Port A (10.1.0.1/24, host 10.1.0.2 a static neighbor) writes what it
 * sends to ping-a.pcap; port B has no address. */
static vg_dp_t *box(int *a, int *b, const char *options) {
  vg_dp_t *dp = vg_dp_create(options);
  if (!dp) return NULL;
  *a = vg_pcap_interface_create(dp, "A", NULL, 0, tmp_path("ping-a.pcap"));
  *b = vg_pcap_interface_create(dp, "B", NULL, 0, "/dev/null");
  if (*a < 0 || *b < 0 || vg_interface_add_ip4(dp, (uint32_t)*a, IP(10, 1, 0, 1), 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)*a, IP(10, 1, 0, 2), HOST, 1))
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
  return dp;
}

TEST(ping_own_address_goes_round_the_graph) {
  int a, b;
  vg_dp_t *dp = box(&a, &b, "buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_ip4_ping_replies(dp, NULL, 0), 0); /* none sent yet */
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 7, 1, 56), 0);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 7, 2, 1472), 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 2); /* stopped: sent by run_until_idle */
  CHECK_EQ(vg_ip4_ping_replies(dp, NULL, 0), 2);
  vg_ping_reply_t r[4];
  memset(r, 0, sizeof r);
  CHECK_EQ(vg_ip4_ping_replies(dp, r, 4), 2);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(r[i].src, IP(10, 1, 0, 1));
    CHECK_EQ(r[i].id, 7);
    CHECK_EQ(r[i].seq, i + 1);
    CHECK_EQ(r[i].ttl, 64);
    CHECK(r[i].rtt_ns > 0 && r[i].rtt_ns < 1000000000ull);
  }
  CHECK_EQ(r[0].bytes, 64);
  CHECK_EQ(r[1].bytes, 1480);
  CHECK_EQ(vg_ip4_ping_replies(dp, r, 4), 0); /* drained */
  CHECK_EQ(stat_error(dp, "ip4-ping/echo requests sent"), 2);
  CHECK_EQ(stat_error(dp, "ip4-local/echo requests answered"), 2);
  CHECK_EQ(stat_error(dp, "ip4-local/echo replies to our pings"), 2);
  CHECK_EQ(stat_error(dp, "ip4-local/echo replies received"), 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

/* Receives frame as from the wire on port rx and runs the graph. */
static void receive(vg_dp_t *dp, int rx, const uint8_t *frame, uint32_t len) {
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi;
  if (vg_buffer_alloc(th, &bi, 1) != 1) return;
  vg_buffer_t *b = vg_buffer(dp, bi);
  memset(b, 0, sizeof *b);
  b->sw_if_index[VG_RX] = (uint32_t)rx;
  b->sw_if_index[VG_TX] = VG_NONE;
  vg_buffer_append(th, bi, frame, len);
  vg_enqueue(th, (uint32_t)vg_node_index(dp, "ethernet-input"), &bi, 1);
  vg_dp_run_until_idle(dp, 0);
}

/* The host's answer to a request: MACs and addresses swapped, type 0. */
static uint32_t answer(const uint8_t *req, uint32_t len, uint8_t ttl, uint8_t *out) {
  memcpy(out, req, len);
  memcpy(out, req + 6, 6);
  memcpy(out + 6, req, 6);
  uint8_t *ip = out + 14, *icmp = ip + 20;
  memcpy(ip + 12, req + 14 + 16, 4);
  memcpy(ip + 16, req + 14 + 12, 4);
  ip[8] = ttl;
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  icmp[0] = 0;
  icmp[2] = icmp[3] = 0;
  vg_put_be16(icmp + 2, vg_csum_fold(vg_csum_add(0, icmp, len - 34)));
  return len;
}

static void sleep_ms(long ms) {
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
}

TEST(ping_through_a_port_records_only_replies_to_it) {
  int a, b;
  vg_dp_t *dp = box(&a, &b, "buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 2), 0, 0x4242, 9, 20), 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 1);
  vg_interface_flush(dp, (uint32_t)a);
  vg_pcap_file_t *sent = NULL;
  REQUIRE(vg_pcap_load(tmp_path("ping-a.pcap"), &sent) == 0);
  REQUIRE(sent->n_records == 1);
  const uint8_t *req = sent->data + sent->offsets[0], *ip = req + 14, *icmp = ip + 20;
  uint8_t mac_a[6];
  vg_interface_get_mac(dp, (uint32_t)a, mac_a);
  CHECK_EQ(sent->lengths[0], 14 + 20 + 8 + 20);
  CHECK(memcmp(req, HOST, 6) == 0 && memcmp(req + 6, mac_a, 6) == 0);
  CHECK_EQ(req[12] << 8 | req[13], 0x0800);
  CHECK_EQ(ip[0], 0x45);
  CHECK_EQ(ip[8], 63); /* 64, less the rewrite's hop */
  CHECK_EQ(ip[9], 1);
  CHECK_EQ(vg_rd_be32(ip + 12), IP(10, 1, 0, 1)); /* the port's address */
  CHECK_EQ(vg_rd_be32(ip + 16), IP(10, 1, 0, 2));
  CHECK_EQ(vg_csum_fold(vg_csum_add(0, ip, 20)), 0);
  CHECK_EQ(icmp[0], 8);
  CHECK_EQ(icmp[4] << 8 | icmp[5], 0x4242);
  CHECK_EQ(icmp[6] << 8 | icmp[7], 9);
  CHECK_EQ(icmp[8 + 19], 19); /* the payload pattern */
  CHECK_EQ(vg_csum_fold(vg_csum_add(0, icmp, 28)), 0);
  CHECK_EQ(vg_ip4_ping_replies(dp, NULL, 0), 0);
  sleep_ms(2);
  uint8_t frame[128];
  uint32_t len = answer(req, sent->lengths[0], 61, frame);
  receive(dp, a, frame, len);
  vg_ping_reply_t r = {0};
  CHECK_EQ(vg_ip4_ping_replies(dp, &r, 1), 1);
  CHECK_EQ(r.src, IP(10, 1, 0, 2));
  CHECK_EQ(r.id, 0x4242);
  CHECK_EQ(r.seq, 9);
  CHECK_EQ(r.bytes, 28);
  CHECK_EQ(r.ttl, 61);
  CHECK(r.rtt_ns >= 2000000); /* from the send, not the receive: we slept 2 ms between */
  /* The same reply again (a duplicate) is recorded again; one for another
   * sequence or identifier is not ours. */
  receive(dp, a, frame, len);
  CHECK_EQ(vg_ip4_ping_replies(dp, &r, 1), 1);
  frame[14 + 20 + 7] = 10; /* seq 10: never sent */
  frame[14 + 20 + 2] = frame[14 + 20 + 3] = 0;
  vg_put_be16(frame + 14 + 20 + 2, vg_csum_fold(vg_csum_add(0, frame + 34, 28)));
  receive(dp, a, frame, len);
  CHECK_EQ(vg_ip4_ping_replies(dp, &r, 1), 0);
  CHECK_EQ(stat_error(dp, "ip4-local/echo replies to our pings"), 2);
  CHECK_EQ(stat_error(dp, "ip4-local/echo replies received"), 1);
  vg_pcap_file_free(sent);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(ping_refuses_what_it_cannot_send_naming_why) {
  int a, b;
  vg_dp_t *dp = box(&a, &b, "buffers=2048");
  REQUIRE(dp);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 2), 0, 1, 1, 1473), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "size 1473: the ICMP payload is 0..1472 bytes");
  CHECK_EQ(vg_ip4_ping_send(dp, 0, 0, 0, 1, 1, 8), VG_E_INVAL);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(255, 255, 255, 255), 0, 1, 1, 8), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "255.255.255.255 is not a unicast address");
  CHECK_EQ(vg_ip4_ping_send(dp, 9, IP(10, 1, 0, 2), 0, 1, 1, 8), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no VRF 9");
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(192, 0, 2, 1), 0, 1, 1, 8), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "ping 192.0.2.1: no route in VRF 0 (unreachable)");
  REQUIRE(vg_ip4_route_add(dp, 0, IP(192, 0, 2, 0), 24, NULL, 0, VG_ROUTE_PROHIBIT) == 0);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(192, 0, 2, 1), 0, 1, 1, 8), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "the route prohibits it");
  vg_next_hop_t nh = {0, (uint32_t)b, 1};
  REQUIRE(vg_ip4_route_add(dp, 0, IP(10, 9, 0, 0), 16, &nh, 1, 0) == 0);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 9, 0, 1), 0, 1, 1, 8), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "interface B has no IPv4 address to send from");
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 9, 0, 1), IP(10, 1, 0, 1), 1, 1, 8), 0); /* a source given */
  /* 64 wait at most while nothing sends them. */
  for (int i = 1; i < 64; i++) CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 3, (uint16_t)i, 0), 0);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 3, 64, 0), VG_E_LIMIT);
  CHECK_STR_CONTAINS(vg_last_error(), "64 requests are waiting to be sent");
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 64);
  CHECK_EQ(vg_ip4_ping_replies(dp, NULL, 0), 63);
  CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 3, 64, 0), 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(thread_ping_while_running) {
  int a, b;
  vg_dp_t *dp = box(&a, &b, "buffers=2048 threads=2");
  REQUIRE(dp);
  REQUIRE(vg_dp_start(dp) == 0);
  for (uint16_t s = 1; s <= 5; s++) CHECK_EQ(vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 1), 0, 99, s, 32), 0);
  vg_ping_reply_t r[8];
  int got = 0;
  for (int i = 0; i < 1000 && got < 5; i++) {
    sleep_ms(1);
    int n = vg_ip4_ping_replies(dp, r + got, (uint32_t)(8 - got));
    CHECK(n >= 0);
    if (n > 0) got += n;
  }
  CHECK_EQ(got, 5);
  for (int i = 0; i < got; i++) CHECK(r[i].id == 99 && r[i].seq == i + 1 && r[i].bytes == 40);
  vg_dp_stop(dp);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}
