/* ethernet-input: every malformed frame is counted under its own reason and
 * dropped; tags are parsed; redirected ethertypes leave through their port. */
#include "../interfaces/pcap.h"
#include "test-util.h"
#include "test.h"

TEST(ethernet_bad_frames_counted_by_reason) {
  static uint8_t f[8][128];
  uint32_t len[8];
  uint16_t q[3] = {0x8100, 0x8100, 0x8100}, v[3] = {1, 2, 3};
  len[0] = 10;                                      /* runt */
  memset(f[0], 0xee, 10);
  len[1] = 0;                                       /* empty record */
  len[2] = make_frame(f[2], q, v, 1, 0x0800, 0) - 3; /* ends inside the tag */
  len[3] = make_frame(f[3], q, v, 3, 0x0800, 20);    /* three tags */
  len[4] = make_frame(f[4], NULL, NULL, 0, 0x0040, 46); /* 802.3 length */
  len[5] = make_frame(f[5], NULL, NULL, 0, 0x1234, 46); /* unknown */
  len[6] = make_frame(f[6], NULL, NULL, 0, 0x0806, 28);
  len[7] = make_frame(f[7], NULL, NULL, 0, 0x86dd, 40);
  const uint8_t *frames[8];
  for (int i = 0; i < 8; i++) frames[i] = f[i];
  vg_dp_t *dp = run_frames(frames, len, 8, 0, NULL);
  REQUIRE(dp);
  CHECK_EQ(stat_error(dp, "ethernet-input/frame shorter than an ethernet header"), 2);
  CHECK_EQ(stat_error(dp, "ethernet-input/frame ends inside a VLAN tag"), 1);
  CHECK_EQ(stat_error(dp, "ethernet-input/more than two VLAN tags"), 1);
  CHECK_EQ(stat_error(dp, "ethernet-input/802.3 length field instead of an ethertype"), 1);
  CHECK_EQ(stat_error(dp, "ethernet-input/unknown ethertype"), 1);
  CHECK_EQ(stat_error(dp, "ethernet-input/ARP on an interface without IPv4"), 1);
  CHECK_EQ(stat_error(dp, "ethernet-input/no IPv6 handler"), 1);
  CHECK_EQ(stat_elem(dp, "/nodes/packets", "error-drop"), 8);
  CHECK_EQ(stat_elem(dp, "/if/drops", "in0"), 8);
  CHECK_EQ(stat_elem(dp, "/if/rx-errors", "in0"), 5); /* runts, cut tag, three tags, 802.3 */
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(ethernet_vlan_tags_and_redirect_by_inner_type) {
  static uint8_t f[4][128];
  uint32_t len[4];
  uint16_t q1[1] = {0x8100}, qq[2] = {0x88a8, 0x8100}, v1[1] = {100}, v2[2] = {300, 7};
  len[0] = make_frame(f[0], NULL, NULL, 0, 0x88b5, 46);
  len[1] = make_frame(f[1], q1, v1, 1, 0x88b5, 42);
  len[2] = make_frame(f[2], qq, v2, 2, 0x88b5, 38);
  len[3] = make_frame(f[3], q1, v1, 1, 0x0800, 42);
  const uint8_t *frames[4] = {f[0], f[1], f[2], f[3]};
  const char *out = tmp_path("vlan-out.pcap");
  vg_dp_t *dp = run_frames(frames, len, 4, 0x88b5, out);
  REQUIRE(dp);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "out0"), 3);
  CHECK_EQ(stat_error(dp, "ethernet-input/IPv4 is not enabled on the interface"), 1);
  /* Removing the redirect sends the type to drop again. */
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, UINT32_MAX), 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, UINT32_MAX), VG_E_NOTFOUND);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x88b5, 999), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "sw_if_index 999");
  vg_dp_destroy(dp);
  vg_pcap_file_t *pf;
  REQUIRE(vg_pcap_load(out, &pf) == 0);
  CHECK_EQ(pf->n_records, 3);
  for (uint32_t i = 0; i < 3 && i < pf->n_records; i++) {
    CHECK_EQ(pf->lengths[i], len[i]); /* forwarded whole, tags kept */
    CHECK(memcmp(pf->data + pf->offsets[i], f[i], len[i]) == 0);
  }
  vg_pcap_file_free(pf);
}

TEST(ethernet_redirect_to_admin_down_port_drops) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  int out = vg_pcap_interface_create(dp, "out0", NULL, 0, tmp_path("down.pcap"));
  REQUIRE(out >= 0);
  CHECK_EQ(vg_ethernet_redirect(dp, 0x0800, (uint32_t)out), 0);
  CHECK_EQ(vg_interface_set_admin(dp, (uint32_t)out, 0), 0);
  REQUIRE(vg_pg_stream_add(dp, "name=s count=10") >= 0);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 10);
  CHECK_EQ(stat_error(dp, "interface-output/interface is admin down"), 10);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "out0"), 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}
