/* Any byte string as a frame arriving on a routed port (tagged frames on
 * its routed sub-interface): ethernet-input, ip4-input/lookup/rewrite/
 * local/icmp-error/arp and arp-input must count and drop, answer or
 * forward it, never crash or leak. The first input byte picks how the frame
 * is aimed: at the port's MAC or broadcast, so the IPv4 and ARP paths are
 * reached rather than dropped at the MAC check. Pings with identifier
 * 0x4242 (sequence 1..4) are outstanding, so echo replies reach the ping
 * recorder (seed ping-reply), and a pcap capture of every frame received,
 * sent and dropped is on, written out and started again every 256 inputs.
 * Port B's MTU is 600, so a bigger packet routed out of it without
 * don't-fragment goes through ip4-frag (seeds frag*, one of them a chain
 * of two buffers, one with options and already a fragment). */
#include <stdlib.h>

#include "../ip4/ip4.h"
#include "fuzz-common.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static uint32_t port;
static uint8_t port_mac[6];

static void setup(vg_dp_t *dp) {
  int a = vg_pcap_interface_create(dp, "A", NULL, 0, "/dev/null");
  int b = vg_pcap_interface_create(dp, "B", NULL, 0, "/dev/null");
  int sub = a >= 0 ? vg_sub_interface_create(dp, (uint32_t)a, 10) : -1;
  static const uint8_t host[6] = {0x02, 0xaa, 0, 0, 0, 1};
  vg_next_hop_t nh[2] = {{IP(10, 2, 0, 2), VG_NONE, 1}, {IP(10, 2, 0, 3), VG_NONE, 3}};
  if (a < 0 || b < 0 || sub < 0 || vg_interface_add_ip4(dp, (uint32_t)a, IP(10, 1, 0, 1), 24) ||
      vg_interface_add_ip4(dp, (uint32_t)sub, IP(10, 10, 0, 1), 24) ||
      vg_interface_add_ip4(dp, (uint32_t)b, IP(10, 2, 0, 1), 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)b, IP(10, 2, 0, 2), host, 1) ||
      vg_ip4_route_add(dp, 0, IP(192, 168, 0, 0), 16, nh, 2, 0) ||
      vg_ip4_route_add(dp, 0, IP(192, 168, 9, 0), 24, NULL, 0, VG_ROUTE_PROHIBIT) ||
      vg_interface_set_mtu(dp, (uint32_t)b, 600) || vg_proxy_arp_add(dp, 0, IP(10, 1, 0, 100), IP(10, 1, 0, 120)))
    abort();
  port = (uint32_t)a;
  vg_interface_get_mac(dp, port, port_mac);
  for (uint16_t seq = 1; seq <= 4; seq++)
    if (vg_ip4_ping_send(dp, 0, IP(10, 1, 0, 2), 0, 0x4242, seq, 8)) abort();
  vg_dp_run_until_idle(dp, 8);
}

static void capture_cycle(vg_dp_t *dp) {
  static uint32_t n;
  if (n++ % 256) return;
  if (n > 1 && vg_pcap_trace_off(dp) < 0) abort();
  if (vg_pcap_trace_on(dp, VG_PCAP_RX | VG_PCAP_TX | VG_PCAP_DROP, 64, "/dev/null", VG_NONE)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_dp_t *dp = fuzz_dp();
  static int ready;
  if (!ready) setup(dp), ready = 1;
  if (size < 2) return 0;
  capture_cycle(dp);
  uint8_t frame[4096]; /* longer than a buffer: chains reach ip4-frag too */
  size_t n = size - 1 < sizeof frame ? size - 1 : sizeof frame;
  memcpy(frame, data + 1, n);
  if (n >= 6 && (data[0] & 1)) memcpy(frame, port_mac, 6);
  else if (n >= 6 && (data[0] & 2)) memset(frame, 0xff, 6);
  fuzz_inject_on(dp, "ethernet-input", port, frame, n, 0);
  vg_dp_run_until_idle(dp, 8); /* also applies what ARP learned */
  vg_ping_reply_t replies[8];
  vg_ip4_ping_replies(dp, replies, 8);
  fuzz_check_pool(dp);
  return 0;
}
