/* VXLAN tunnels: the encapsulation bytes, decapsulation into a bridge
 * domain with learning, bad headers counted per reason, the API's
 * refusals, and deleting a tunnel while the dataplane runs. The underlay
 * port u0 (10.0.0.1/24, the remote VTEP 10.0.0.2 a static neighbor) and the
 * bridged port p1 are pcap interfaces; frames enter through generator
 * streams (data=HEX) and leave through the ports' pcap writers. */
#include <stdlib.h>
#include <unistd.h>

#include "../engine/checksum.h"
#include "test-util.h"
#include "test.h"

#define LOCAL 0x0a000001u  /* 10.0.0.1 */
#define REMOTE 0x0a000002u /* 10.0.0.2 */
static const uint8_t REMOTE_MAC[6] = {2, 0, 0, 0, 0, 0x99};
static const uint8_t HOST_A[6] = {2, 0, 0, 0, 0, 0x0a}; /* behind the remote VTEP */
static const uint8_t HOST_B[6] = {2, 0, 0, 0, 0, 0x0b}; /* on p1 */

typedef struct {
  vg_dp_t *dp;
  int u0, p1, vx;
} setup_t;

static int setup(setup_t *s) {
  s->dp = vg_dp_create("buffers=4096");
  if (!s->dp) return 0;
  s->u0 = vg_pcap_interface_create(s->dp, "u0", NULL, 0, tmp_path("vxlan-u0.pcap"));
  s->p1 = vg_pcap_interface_create(s->dp, "p1", NULL, 0, tmp_path("vxlan-p1.pcap"));
  if (s->u0 < 0 || s->p1 < 0 || vg_interface_add_ip4(s->dp, (uint32_t)s->u0, LOCAL, 24) < 0 ||
      vg_ip4_neighbor_add(s->dp, (uint32_t)s->u0, REMOTE, REMOTE_MAC, 1) < 0 ||
      (s->vx = vg_vxlan_tunnel_add(s->dp, "vxlan0", LOCAL, REMOTE, 42, 0, "")) < 0 ||
      vg_bridge_domain_add(s->dp, 10, "") < 0 ||
      vg_bridge_port_set(s->dp, (uint32_t)s->vx, 10, 0, 0) < 0 ||
      vg_bridge_port_set(s->dp, (uint32_t)s->p1, 10, 0, 0) < 0) {
    test_fail(__FILE__, __LINE__, "set-up: %s", vg_last_error());
    return 0;
  }
  return 1;
}

/* An inner frame: dst, src, IPv4 UDP from 192.168.0.1:sport to 192.168.0.2:53. */
static uint32_t inner_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t sport) {
  memset(f, 0, 74);
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  f[12] = 0x08;
  uint8_t *ip = f + 14;
  ip[0] = 0x45, ip[3] = 60, ip[8] = 64, ip[9] = 17;
  ip[12] = 192, ip[13] = 168, ip[15] = 1, ip[16] = 192, ip[17] = 168, ip[19] = 2;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  vg_put_be16(ip + 20, sport);
  vg_put_be16(ip + 22, 53);
  vg_put_be16(ip + 24, 40);
  for (int i = 0; i < 32; i++) ip[28 + i] = (uint8_t)i;
  return 74;
}

/* The VXLAN packet the remote VTEP would send to dst_mac. */
static uint32_t outer_frame(uint8_t *f, const uint8_t *dst_mac, uint32_t src, uint16_t dport,
                            uint8_t flags, uint32_t vni, const uint8_t *inner, uint32_t inner_len) {
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, REMOTE_MAC, 6);
  f[12] = 0x08, f[13] = 0;
  uint8_t *ip = f + 14;
  uint32_t total = 36 + inner_len;
  memset(ip, 0, 36);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
  vg_put_be16(ip + 2, (uint16_t)total);
  ip[12] = (uint8_t)(src >> 24), ip[13] = (uint8_t)(src >> 16), ip[14] = (uint8_t)(src >> 8), ip[15] = (uint8_t)src;
  ip[16] = 10, ip[19] = 1;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  vg_put_be16(ip + 20, 50000);
  vg_put_be16(ip + 22, dport);
  vg_put_be16(ip + 24, (uint16_t)(total - 20));
  ip[28] = flags;
  ip[32] = (uint8_t)(vni >> 16), ip[33] = (uint8_t)(vni >> 8), ip[34] = (uint8_t)vni;
  memcpy(ip + 36, inner, inner_len);
  return 14 + total;
}

/* Sends one frame in on port `port` count times, with a pg edit (or
 * NULL) varying it, and runs the graph. */
static void send_edited(vg_dp_t *dp, const char *port, const uint8_t *f, uint32_t len, uint32_t count,
                        const char *edit) {
  char spec[1024];
  int k = snprintf(spec, sizeof spec, "name=vx if=%s count=%u size=%u data=", port, count, len);
  for (uint32_t i = 0; i < len; i++) k += snprintf(spec + k, sizeof spec - (size_t)k, "%02x", f[i]);
  if (edit) snprintf(spec + k, sizeof spec - (size_t)k, " edit=%s", edit);
  int st = vg_pg_stream_add(dp, spec);
  if (st < 0) {
    test_fail(__FILE__, __LINE__, "stream: %s", vg_last_error());
    return;
  }
  vg_dp_run_until_idle(dp, 0);
  vg_pg_stream_delete(dp, (uint32_t)st);
}

static void send_raw(vg_dp_t *dp, const char *port, const uint8_t *f, uint32_t len, uint32_t count) {
  send_edited(dp, port, f, len, count, NULL);
}

static uint64_t stat_if(vg_dp_t *dp, const char *entry, const char *name) { return stat_elem(dp, entry, name); }

TEST(vxlan_encap_writes_outer_headers_and_a_stable_flow_port) {
  setup_t s;
  REQUIRE(setup(&s));
  uint8_t in[128], out[256], u0_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  uint32_t n = inner_frame(in, HOST_A, HOST_B, 1000);
  send_raw(s.dp, "p1", in, n, 2); /* A unknown: flooded, so into the tunnel */
  vg_interface_flush(s.dp, (uint32_t)s.u0);
  uint32_t len = read_pcap_frame(tmp_path("vxlan-u0.pcap"), 0, out, sizeof out);
  REQUIRE(len == 14 + 36 + n);
  static const uint8_t eth[14] = {2, 0, 0, 0, 0, 0x99, 2, 0xfe, 0, 0, 0, 0, 8, 0};
  CHECK(memcmp(out, eth, 14) == 0);
  const uint8_t *ip = out + 14, *udp = ip + 20, *vx = udp + 8;
  CHECK_EQ(ip[0], 0x45);
  CHECK_EQ(ip[2] << 8 | ip[3], 36 + n);
  CHECK_EQ(ip[6], 0); /* DF clear */
  CHECK_EQ(ip[8], 63); /* 64, less the box's own forwarding step */
  CHECK_EQ(ip[9], 17);
  CHECK_EQ(vg_csum_fold(vg_csum_add(0, ip, 20)), 0);
  static const uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 0, 2};
  CHECK(memcmp(ip + 12, addrs, 8) == 0);
  uint16_t sport = (uint16_t)(udp[0] << 8 | udp[1]);
  CHECK(sport >= 49152);
  CHECK_EQ(udp[2] << 8 | udp[3], 4789);
  CHECK_EQ(udp[4] << 8 | udp[5], 16 + n);
  CHECK_EQ(udp[6] << 8 | udp[7], 0);
  static const uint8_t vxh[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
  CHECK(memcmp(vx, vxh, 8) == 0);
  CHECK(memcmp(vx + 8, in, n) == 0);
  /* The same flow, the same port; other flows spread over others. */
  uint8_t second[256];
  CHECK_EQ(read_pcap_frame(tmp_path("vxlan-u0.pcap"), 1, second, sizeof second), len);
  CHECK_EQ(second[34] << 8 | second[35], sport);
  int other = 0;
  for (uint16_t p = 1001; p < 1017; p++) {
    n = inner_frame(in, HOST_A, HOST_B, p);
    send_raw(s.dp, "p1", in, n, 1);
  }
  vg_interface_flush(s.dp, (uint32_t)s.u0);
  for (uint32_t k = 2; k < 18; k++) {
    CHECK_EQ(read_pcap_frame(tmp_path("vxlan-u0.pcap"), k, out, sizeof out), len);
    uint16_t sp = (uint16_t)(out[34] << 8 | out[35]);
    CHECK(sp >= 49152);
    /* Each packet's identification differs; the checksum kept from the
     * tunnel's template sum stays right for every one. */
    CHECK_EQ(vg_csum_fold(vg_csum_add(0, out + 14, 20)), 0);
    CHECK((out[18] << 8 | out[19]) != (second[18] << 8 | second[19]));
    other += sp != sport;
  }
  CHECK(other > 0);
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "vxlan0"), 18);
  CHECK_EQ(stat_if(s.dp, "/if/tx-bytes", "vxlan0"), 18 * n);
  CHECK_EQ(stat_error(s.dp, "vxlan-encap/frames encapsulated"), 18);
  /* show trace explains the encapsulation. */
  CHECK_EQ(vg_trace_add(s.dp, "pg-input", 1), 0);
  send_raw(s.dp, "p1", in, n, 1);
  static char trace[16384];
  CHECK(vg_trace_format(s.dp, trace, sizeof trace) > 0);
  CHECK_STR_CONTAINS(trace, "vxlan-encap");
  CHECK_STR_CONTAINS(trace, "vni 42 10.0.0.1:");
  vg_dp_destroy(s.dp);
}

TEST(vxlan_decap_bridges_inner_frames_and_learns_the_remote_mac_behind_the_tunnel) {
  setup_t s;
  REQUIRE(setup(&s));
  uint8_t in[128], f[256], u0_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  uint32_t n = inner_frame(in, bcast, HOST_A, 1000);
  uint32_t len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 42, in, n);
  CHECK_EQ(vg_trace_add(s.dp, "pg-input", 1), 0);
  send_raw(s.dp, "u0", f, len, 3);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/frames decapsulated"), 3);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan0"), 3);
  CHECK_EQ(stat_if(s.dp, "/if/rx-bytes", "vxlan0"), 3 * n);
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "p1"), 3); /* flooded out of p1 */
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "vxlan0"), 0); /* never back into the tunnel */
  static char text[16384];
  CHECK(vg_l2fib_format(s.dp, 10, text, sizeof text) >= 0);
  CHECK_STR_CONTAINS(text, "02:00:00:00:00:0a port vxlan0 dynamic");
  CHECK(vg_trace_format(s.dp, text, sizeof text) > 0);
  CHECK_STR_CONTAINS(text, "vxlan-input");
  CHECK_STR_CONTAINS(text, "vxlan 10.0.0.2 -> 10.0.0.1 flags 0x08 vni 42: tunnel sw_if_index");
  vg_interface_flush(s.dp, (uint32_t)s.p1);
  uint8_t out[256];
  CHECK_EQ(read_pcap_frame(tmp_path("vxlan-p1.pcap"), 0, out, sizeof out), n);
  CHECK(memcmp(out, in, n) == 0);
  /* B answers A: known now, so unicast into the tunnel only. */
  n = inner_frame(in, HOST_A, HOST_B, 53);
  send_raw(s.dp, "p1", in, n, 1);
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "vxlan0"), 1);
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "u0"), 1);
  vg_dp_destroy(s.dp);
}

TEST(vxlan_decap_counts_each_tunnel_of_a_mixed_frame) {
  setup_t s;
  REQUIRE(setup(&s));
  int vx1 = vg_vxlan_tunnel_add(s.dp, "vxlan1", LOCAL, REMOTE, 43, 0, "");
  REQUIRE(vx1 >= 0);
  REQUIRE(vg_bridge_port_set(s.dp, (uint32_t)vx1, 10, 0, 0) == 0);
  uint8_t in[128], f[256], u0_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  uint32_t n = inner_frame(in, HOST_B, HOST_A, 1000);
  uint32_t len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 42, in, n);
  /* One frame of 9: VNI 42, 43, 44 (no tunnel), 42, 43, 44 ... by the
   * low byte of the VNI (frame offset 14 + 20 + 8 + 6). */
  send_edited(s.dp, "u0", f, len, 9, "48:1:42-44");
  CHECK_EQ(stat_error(s.dp, "vxlan-input/frames decapsulated"), 6);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/no tunnel for (src, dst, vni)"), 3);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan0"), 3);
  CHECK_EQ(stat_if(s.dp, "/if/rx-bytes", "vxlan0"), 3 * n);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan1"), 3);
  CHECK_EQ(stat_if(s.dp, "/if/rx-bytes", "vxlan1"), 3 * n);
  /* Down, a tunnel takes nothing, even after its packets led the frame. */
  REQUIRE(vg_interface_set_admin(s.dp, (uint32_t)vx1, 0) == 0);
  send_edited(s.dp, "u0", f, len, 4, "48:1:42-43");
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan0"), 5);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan1"), 3);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/tunnel interface is admin down"), 2);
  vg_dp_destroy(s.dp);
}

TEST(vxlan_bad_headers_are_dropped_each_under_its_reason) {
  setup_t s;
  REQUIRE(setup(&s));
  uint8_t in[128], f[256], u0_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  uint32_t n = inner_frame(in, HOST_B, HOST_A, 1000), len;
  len = outer_frame(f, u0_mac, REMOTE, 4789, 0x00, 42, in, n);
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/bad flags: I flag clear (no valid VNI)"), 1);
  len = outer_frame(f, u0_mac, REMOTE, 4789, 0x0c, 42, in, n);
  send_raw(s.dp, "u0", f, len, 2);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/bad flags: reserved flag bits set"), 2);
  len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 43, in, n);
  send_raw(s.dp, "u0", f, len, 3);
  len = outer_frame(f, u0_mac, 0x0a000003u, 4789, 0x08, 42, in, n);
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/no tunnel for (src, dst, vni)"), 4);
  len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 42, in, 10); /* no room for an inner header */
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/too short for VXLAN and inner ethernet"), 1);
  /* Another UDP port is not VXLAN: port unreachable as before. */
  len = outer_frame(f, u0_mac, REMOTE, 4790, 0x08, 42, in, n);
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_error(s.dp, "ip4-local/UDP to a closed port"), 1);
  CHECK_EQ(stat_error(s.dp, "vxlan-input/frames decapsulated"), 0);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan0"), 0);
  /* A tunnel on another port takes that port. */
  int vx2 = vg_vxlan_tunnel_add(s.dp, NULL, LOCAL, REMOTE, 42, 0, "dport=4790");
  CHECK_EQ(vx2, VG_E_EXISTS); /* same src, dst, vni */
  vx2 = vg_vxlan_tunnel_add(s.dp, NULL, LOCAL, REMOTE, 7, 0, "dport=4790");
  REQUIRE(vx2 >= 0);
  len = outer_frame(f, u0_mac, REMOTE, 4790, 0x08, 7, in, n);
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan_tunnel0"), 1);
  CHECK_EQ(stat_error(s.dp, "ethernet-input/unknown ethertype") +
               stat_error(s.dp, "ethernet-input/IPv4 is not enabled on the interface"),
           1); /* an L3 tunnel without an address */
  vg_dp_destroy(s.dp);
}

TEST(vxlan_api_refusals_and_dump) {
  setup_t s;
  REQUIRE(setup(&s));
  vg_dp_t *dp = s.dp;
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, REMOTE, 1u << 24, 0, ""), VG_E_INVAL);
  CHECK_STR_CONTAINS(vg_last_error(), "VNI 16777216");
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", 0x0a000009u, REMOTE, 5, 0, ""), VG_E_STATE);
  CHECK_STR_CONTAINS(vg_last_error(), "src 10.0.0.9 is not an address of this box in VRF 0");
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, REMOTE, 5, 3, ""), VG_E_STATE);
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, REMOTE, 42, 0, ""), VG_E_EXISTS);
  CHECK_STR_CONTAINS(vg_last_error(), "vxlan0");
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, LOCAL, 5, 0, ""), VG_E_INVAL);
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, 0xe0000001u, 5, 0, ""), VG_E_UNSUPPORTED);
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, REMOTE, 5, 0, "dport=0"), VG_E_INVAL);
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "t", LOCAL, REMOTE, 5, 0, "mtu=1"), VG_E_INVAL);
  CHECK_EQ(vg_vxlan_tunnel_add(dp, "u0", LOCAL, REMOTE, 5, 0, ""), VG_E_EXISTS);
  CHECK_EQ(vg_vxlan_tunnel_delete(dp, (uint32_t)s.u0), VG_E_INVAL);
  CHECK_EQ(vg_vxlan_tunnel_delete(dp, 999), VG_E_NOTFOUND);
  CHECK_EQ(vg_vxlan_tunnel_delete(dp, (uint32_t)s.vx), VG_E_STATE); /* a bridge port */
  int t2 = vg_vxlan_tunnel_add(dp, NULL, LOCAL, 0x0a000005u, 16777215, 0, "dport=8472");
  REQUIRE(t2 >= 0);
  vg_vxlan_tunnel_info_t info[4];
  CHECK_EQ(vg_vxlan_tunnel_dump(dp, NULL, 0), 2);
  REQUIRE(vg_vxlan_tunnel_dump(dp, info, 4) == 2);
  CHECK_EQ(info[0].sw_if_index, s.vx);
  CHECK_EQ(info[0].vni, 42);
  CHECK_EQ(info[0].dport, 4789);
  CHECK_EQ(info[1].sw_if_index, t2);
  CHECK_EQ(info[1].dst, 0x0a000005u);
  CHECK_EQ(info[1].vni, 16777215);
  CHECK_EQ(info[1].dport, 8472);
  vg_interface_info_t itf[8];
  int ni = vg_interface_dump(dp, itf, 8);
  for (int i = 0; i < ni; i++)
    if (itf[i].sw_if_index == (uint32_t)t2) CHECK(strcmp(itf[i].type, "vxlan") == 0 && strcmp(itf[i].name, "vxlan_tunnel0") == 0);
  char hw[256];
  CHECK(vg_interface_format_hw(dp, (uint32_t)t2, hw, sizeof hw) > 0);
  CHECK_STR_CONTAINS(hw, "vxlan tunnel src 10.0.0.1 dst 10.0.0.5 vni 16777215 dport 8472 encap-vrf 0");
  CHECK_EQ(vg_vxlan_tunnel_delete(dp, (uint32_t)t2), 0);
  CHECK_EQ(vg_vxlan_tunnel_dump(dp, NULL, 0), 1);
  vg_dp_destroy(dp);
}

TEST(thread_vxlan_tunnel_deleted_and_added_again_while_forwarding) {
  setup_t s;
  REQUIRE(setup(&s));
  uint8_t in[128], f[256], u0_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  /* Traffic both ways, forever: into the tunnel from p1, out of it from u0. */
  uint32_t n = inner_frame(in, HOST_A, HOST_B, 1000);
  char spec[1024];
  int k = snprintf(spec, sizeof spec, "name=enc if=p1 rate=200k size=%u data=", n);
  for (uint32_t i = 0; i < n; i++) k += snprintf(spec + k, sizeof spec - (size_t)k, "%02x", in[i]);
  REQUIRE(vg_pg_stream_add(s.dp, spec) >= 0);
  uint32_t len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 42, in, n);
  k = snprintf(spec, sizeof spec, "name=dec if=u0 rate=200k size=%u data=", len);
  for (uint32_t i = 0; i < len; i++) k += snprintf(spec + k, sizeof spec - (size_t)k, "%02x", f[i]);
  REQUIRE(vg_pg_stream_add(s.dp, spec) >= 0);
  REQUIRE(vg_dp_start(s.dp) == 0);
  for (int round = 0; round < 5; round++) {
    usleep(20000);
    CHECK_EQ(vg_bridge_port_set(s.dp, (uint32_t)s.vx, UINT32_MAX, 0, 0), 0);
    CHECK_EQ(vg_vxlan_tunnel_delete(s.dp, (uint32_t)s.vx), 0);
    usleep(20000);
    s.vx = vg_vxlan_tunnel_add(s.dp, "vxlan0", LOCAL, REMOTE, 42, 0, "");
    REQUIRE(s.vx >= 0);
    CHECK_EQ(vg_bridge_port_set(s.dp, (uint32_t)s.vx, 10, 0, 0), 0);
  }
  usleep(20000);
  CHECK_EQ(vg_dp_stop(s.dp), 0);
  CHECK(stat_error(s.dp, "vxlan-input/frames decapsulated") > 0);
  CHECK(stat_error(s.dp, "ip4-local/UDP to a closed port") > 0); /* while no tunnel was there */
  CHECK(stat_error(s.dp, "vxlan-encap/frames encapsulated") > 0);
  CHECK_EQ(vg_vxlan_tunnel_dump(s.dp, NULL, 0), 1);
  vg_dp_destroy(s.dp);
}

TEST(vxlan_l3_tunnel_routes_an_echo_request_back_through_the_tunnel) {
  setup_t s;
  REQUIRE(setup(&s));
  int l3 = vg_vxlan_tunnel_add(s.dp, "vxlan-l3", LOCAL, REMOTE, 43, 0, "");
  REQUIRE(l3 >= 0);
  REQUIRE(vg_interface_add_ip4(s.dp, (uint32_t)l3, 0x0a090001u, 24) == 0);
  REQUIRE(vg_ip4_neighbor_add(s.dp, (uint32_t)l3, 0x0a090002u, HOST_A, 1) == 0);
  uint8_t in[128], f[256], u0_mac[6], l3_mac[6];
  vg_interface_get_mac(s.dp, (uint32_t)s.u0, u0_mac);
  vg_interface_get_mac(s.dp, (uint32_t)l3, l3_mac);
  /* An echo request from 10.9.0.2 to the tunnel's 10.9.0.1. */
  uint32_t n = inner_frame(in, l3_mac, HOST_A, 0);
  uint8_t *ip = in + 14;
  ip[9] = 1, ip[14] = 0, ip[15] = 0, ip[12] = 10, ip[13] = 9, ip[15] = 2, ip[16] = 10, ip[17] = 9, ip[18] = 0, ip[19] = 1;
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  memset(ip + 20, 0, 8);
  ip[20] = 8;
  vg_put_be16(ip + 22, vg_csum_fold(vg_csum_add(0, ip + 20, 40)));
  uint32_t len = outer_frame(f, u0_mac, REMOTE, 4789, 0x08, 43, in, n);
  send_raw(s.dp, "u0", f, len, 1);
  CHECK_EQ(stat_error(s.dp, "ip4-local/echo requests answered"), 1);
  CHECK_EQ(stat_if(s.dp, "/if/rx-packets", "vxlan-l3"), 1);
  CHECK_EQ(stat_if(s.dp, "/if/tx-packets", "vxlan-l3"), 1);
  vg_interface_flush(s.dp, (uint32_t)s.u0);
  uint8_t out[256];
  REQUIRE(read_pcap_frame(tmp_path("vxlan-u0.pcap"), 0, out, sizeof out) == 14 + 36 + n);
  CHECK_EQ(out[14 + 34], 43); /* VNI low byte */
  CHECK(memcmp(out + 50, HOST_A, 6) == 0); /* the reply, to the host behind the tunnel */
  CHECK_EQ(out[50 + 14 + 20], 0); /* echo reply */
  vg_dp_destroy(s.dp);
}
