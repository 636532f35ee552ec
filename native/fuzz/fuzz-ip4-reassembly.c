/* Sequences of IPv4 fragments addressed to the box (ip4-reassembly, then
 * ip4-local and what it hands whole datagrams to): each must be held,
 * joined or counted and dropped, never crash, and every buffer must be in
 * the pool or held by reassembly after each input.
 *
 * The input is a list of fragments, each five bytes of description and,
 * for raw ones, its data:
 *   ctl: bits 0-1 the identification (1..4), bits 2-3 the protocol (UDP to
 *        the VXLAN port, ICMP, ESP, UDP to a closed port), bit 4 MF, bit 5
 *        traced, bit 6 a header with 4 bytes of options, bit 7 raw (the
 *        data follows in the input) rather than cut from a datagram
 *        template (a valid VXLAN packet or echo request) at its offset
 *   offset: 2 bytes, in 8-byte units (13 bits)
 *   length: 2 bytes of data length (at most 4000)
 * The dataplane keeps 8 contexts with a 1 ms timeout, so the limit and
 * expiry are reached between inputs. */
#include <stdio.h>
#include <stdlib.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "fuzz-common.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define LOCAL IP(10, 0, 0, 1)
#define REMOTE IP(10, 0, 0, 2)
#define MAX_DATA 4000
#define TEMPLATE 65536

static vg_dp_t *dp;
static uint32_t port;
static uint8_t port_mac[6];
static uint8_t template[4][TEMPLATE]; /* datagram data by protocol choice */
static const uint8_t protos[4] = {17, 1, 50, 17};

static void templates(void) {
  for (int p = 0; p < 4; p++)
    for (uint32_t i = 0; i < TEMPLATE; i++) template[p][i] = (uint8_t)(i * 7 + (i >> 8));
  uint8_t *udp = template[0];
  vg_put_be16(udp, 50000), vg_put_be16(udp + 2, 4789), udp[4] = udp[5] = udp[6] = udp[7] = 0;
  static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 42, 0};
  static const uint8_t eth[14] = {2, 0, 0, 0, 0, 0x0b, 2, 0, 0, 0, 0, 0x0a, 0x88, 0xb5};
  memcpy(udp + 8, vx, 8);
  memcpy(udp + 16, eth, 14);
  uint8_t *icmp = template[1];
  icmp[0] = 8, icmp[1] = icmp[2] = icmp[3] = 0;
  vg_put_be16(template[3] + 2, 9);
}

static void setup(void) {
  if (!(dp = vg_dp_create("buffers=2048 trace-max=64 reassembly-max=8 reassembly-timeout=1"))) abort();
  static const uint8_t remote_mac[6] = {2, 0, 0, 0, 0, 0x99};
  int u0 = vg_pcap_interface_create(dp, "u0", NULL, 0, "/dev/null");
  int p1 = vg_pcap_interface_create(dp, "p1", NULL, 0, "/dev/null");
  int vx = -1;
  if (u0 < 0 || p1 < 0 || vg_interface_add_ip4(dp, (uint32_t)u0, LOCAL, 24) < 0 ||
      vg_ip4_neighbor_add(dp, (uint32_t)u0, REMOTE, remote_mac, 1) < 0 ||
      (vx = vg_vxlan_tunnel_add(dp, "vxlan0", LOCAL, REMOTE, 42, 0, "")) < 0 ||
      vg_bridge_domain_add(dp, 10, "") < 0 || vg_bridge_port_set(dp, (uint32_t)vx, 10, 0, 0) < 0 ||
      vg_bridge_port_set(dp, (uint32_t)p1, 10, 0, 0) < 0) {
    fprintf(stderr, "fuzz: %s\n", vg_last_error());
    abort();
  }
  port = (uint32_t)u0;
  vg_interface_get_mac(dp, port, port_mac);
  templates();
}

/* One fragment's frame from its description and data; returns its length. */
static uint32_t frame(uint8_t *f, uint8_t ctl, uint32_t offset_units, const uint8_t *data, uint32_t len) {
  memcpy(f, port_mac, 6);
  memset(f + 6, 0x02, 6);
  f[12] = 0x08, f[13] = 0x00;
  uint8_t *ip = f + 14;
  uint32_t hl = ctl & 0x40 ? 24 : 20;
  memset(ip, 0, hl);
  ip[0] = (uint8_t)(0x40 | hl / 4);
  vg_put_be16(ip + 2, (uint16_t)(hl + len));
  vg_put_be16(ip + 4, (uint16_t)(1 + (ctl & 3)));
  vg_put_be16(ip + 6, (uint16_t)((ctl & 0x10 ? 0x2000 : 0) | offset_units));
  ip[8] = 64, ip[9] = protos[(ctl >> 2) & 3];
  vg_wr_be32(ip + 12, REMOTE);
  vg_wr_be32(ip + 16, LOCAL);
  if (hl == 24) ip[20] = ip[21] = ip[22] = 1; /* no-operation options, then end */
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, hl)));
  memcpy(ip + hl, data, len);
  return 14 + hl + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dp) setup();
  static uint8_t f[14 + 24 + MAX_DATA];
  for (uint32_t n = 0; size >= 5 && n < 80; n++) {
    uint8_t ctl = data[0];
    uint32_t units = (uint32_t)(data[1] << 8 | data[2]) & 0x1fff, len = (uint32_t)(data[3] << 8 | data[4]) % (MAX_DATA + 1);
    data += 5, size -= 5;
    const uint8_t *payload;
    if (ctl & 0x80) {
      if (len > size) len = (uint32_t)size;
      payload = data;
      data += len, size -= len;
    } else {
      uint32_t at = units * 8;
      if (at + len > TEMPLATE) len = TEMPLATE - at;
      payload = template[(ctl >> 2) & 3] + at;
    }
    fuzz_inject_on(dp, "ethernet-input", port, f, frame(f, ctl, units, payload, len), (ctl & 0x20) != 0);
  }
  vg_dp_run_until_idle(dp, 8);
  fuzz_check_pool(dp);
  return 0;
}
