/* Any byte string as a frame received on a bridge port: a small domain
 * (a pcap port, a sub-interface port, a plain loopback and the BVI) must
 * learn, forward, flood, tag or route it without crashing or leaking. The
 * first byte picks the rx port; the first input of each source learns it. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"

static uint32_t ports[3];

static void set_up(vg_dp_t *dp) {
  int p0 = vg_pcap_interface_create(dp, "p0", NULL, 0, "/dev/null");
  int sub = p0 < 0 ? p0 : vg_sub_interface_create(dp, (uint32_t)p0, 7);
  int lo = vg_loopback_create(dp, "lo0"), bvi = vg_loopback_create(dp, "bvi0");
  if (p0 < 0 || sub < 0 || lo < 0 || bvi < 0 || vg_bridge_domain_add(dp, 1, "mac-limit=64") < 0 ||
      vg_bridge_port_set(dp, (uint32_t)p0, 1, 0, 0) < 0 ||
      vg_bridge_port_set(dp, (uint32_t)sub, 1, 1, 0) < 0 ||
      vg_bridge_port_set(dp, (uint32_t)lo, 1, 1, 0) < 0 ||
      vg_bridge_port_set(dp, (uint32_t)bvi, 1, 0, 1) < 0) {
    fprintf(stderr, "fuzz-l2: %s\n", vg_last_error());
    abort();
  }
  ports[0] = (uint32_t)p0;
  ports[1] = (uint32_t)lo;
  ports[2] = (uint32_t)bvi;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_dp_t *dp = fuzz_dp();
  static int once;
  if (!once) {
    once = 1;
    set_up(dp);
  }
  if (!size) return 0;
  /* p0 as a device receives (ethernet-input, so its sub-interface too);
   * the loopbacks via l2-input, which takes parsed frames only. */
  uint32_t port = ports[data[0] % 3];
  size_t n = size - 1 > 2000 ? 2000 : size - 1;
  if (port == ports[0]) fuzz_inject_on(dp, "ethernet-input", port, data + 1, n, data[0] & 8);
  else if (n >= 14) fuzz_inject_on(dp, "l2-input", port, data + 1, n, data[0] & 8);
  vg_dp_run_until_idle(dp, 16);
  fuzz_check_pool(dp);
  return 0;
}
