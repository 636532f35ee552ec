/* Any byte string as a received frame: ethernet-input must count and drop
 * or forward it, never crash or leak, traced or not. */
#include <stdlib.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vg_dp_t *dp = fuzz_dp();
  static int once;
  if (!once) {
    once = 1;
    /* Some types go out through a port, so both paths are exercised. */
    int out = vg_pcap_interface_create(dp, "out0", NULL, 0, "/dev/null");
    if (out < 0 || vg_ethernet_redirect(dp, 0x88b5, (uint32_t)out) < 0) abort();
  }
  fuzz_inject(dp, "ethernet-input", data, size, size && (data[0] & 1)); /* trace some */
  fuzz_check_pool(dp);
  return 0;
}
