/* Any byte string as the UDP payload of a packet to a VXLAN tunnel's port
 * on an address of the box: ip4-local, vxlan-input and what the inner frame
 * reaches (a bridge domain through tunnel vni 42, routing through the L3
 * tunnel vni 43, and back out through vxlan-encap) must count and drop or
 * forward it, never crash or leak. The target builds a valid outer
 * Ethernet, IPv4 and UDP header around the input (after its first byte),
 * so every input reaches vxlan-input; the input's VXLAN header and inner
 * frame are the fuzzer's. The first byte picks: bit 0 the second port
 * (4790, tunnel vni 7), bit 1 a source address no tunnel has, bit 2 a
 * traced packet (the trace formatters run), bits 3-4 an IPv4 total length
 * up to 3 bytes short of the packet (Ethernet padding). */
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "fuzz-common.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static uint32_t port;
static uint8_t port_mac[6];

static void setup(vg_dp_t *dp) {
  int a = vg_pcap_interface_create(dp, "A", NULL, 0, "/dev/null");
  int b = vg_pcap_interface_create(dp, "B", NULL, 0, "/dev/null");
  static const uint8_t vtep[6] = {0x02, 0xaa, 0, 0, 0, 2}, host[6] = {0x02, 0xbb, 0, 0, 0, 2};
  if (a < 0 || b < 0 || vg_interface_add_ip4(dp, (uint32_t)a, IP(10, 1, 0, 1), 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)a, IP(10, 1, 0, 2), vtep, 1))
    abort();
  int bridged = vg_vxlan_tunnel_add(dp, "vx-l2", IP(10, 1, 0, 1), IP(10, 1, 0, 2), 42, 0, "");
  int routed = vg_vxlan_tunnel_add(dp, "vx-l3", IP(10, 1, 0, 1), IP(10, 1, 0, 2), 43, 0, "");
  int other = vg_vxlan_tunnel_add(dp, "vx-4790", IP(10, 1, 0, 1), IP(10, 1, 0, 2), 7, 0, "dport=4790");
  if (bridged < 0 || routed < 0 || other < 0 || vg_bridge_domain_add(dp, 10, "") ||
      vg_bridge_port_set(dp, (uint32_t)bridged, 10, 0, 0) || vg_bridge_port_set(dp, (uint32_t)b, 10, 0, 0) ||
      vg_bridge_port_set(dp, (uint32_t)other, 10, 0, 0) ||
      vg_interface_add_ip4(dp, (uint32_t)routed, IP(10, 9, 0, 1), 24) ||
      vg_ip4_neighbor_add(dp, (uint32_t)routed, IP(10, 9, 0, 2), host, 1))
    abort();
  port = (uint32_t)a;
  vg_interface_get_mac(dp, port, port_mac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_dp_t *dp = fuzz_dp();
  static int ready;
  if (!ready) setup(dp), ready = 1;
  if (size < 1) return 0;
  uint8_t frame[2048];
  size_t n = size - 1 < sizeof frame - 42 ? size - 1 : sizeof frame - 42;
  memcpy(frame, port_mac, 6);
  memcpy(frame + 6, (const uint8_t[]){0x02, 0xaa, 0, 0, 0, 2, 0x08, 0x00}, 8);
  uint8_t *ip = frame + 14, *udp = ip + 20;
  uint32_t short_by = (data[0] >> 3) & 3, total = (uint32_t)(28 + n);
  total = total - short_by < 28 ? 28 : total - short_by;
  memset(ip, 0, 28);
  ip[0] = 0x45, ip[8] = 64, ip[9] = 17;
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_wr_be32(ip + 12, data[0] & 2 ? IP(10, 1, 0, 3) : IP(10, 1, 0, 2));
  vg_wr_be32(ip + 16, IP(10, 1, 0, 1));
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, 20)));
  vg_put_be16(udp, 49999);
  vg_put_be16(udp + 2, data[0] & 1 ? 4790 : 4789);
  vg_put_be16(udp + 4, (uint16_t)(total - 20));
  memcpy(udp + 8, data + 1, n);
  fuzz_inject_on(dp, "ethernet-input", port, frame, 42 + n, data[0] & 4);
  vg_dp_run_until_idle(dp, 8);
  fuzz_check_pool(dp);
  return 0;
}
