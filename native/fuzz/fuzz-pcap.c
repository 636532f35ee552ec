/* Any byte string as a pcap file: parsed or refused with a reason, and the
 * frames of an accepted file replayed into the graph. */
#include <stdlib.h>

#include "../interfaces/pcap.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  memcpy(copy, data, size);
  vg_pcap_file_t *f;
  if (vg_pcap_parse(copy, size, "fuzz", &f) != 0) {
    if (!vg_last_error()[0]) abort(); /* a refusal always says why */
    free(copy);
    return 0;
  }
  vg_dp_t *dp = fuzz_dp();
  for (uint32_t i = 0; i < f->n_records && i < 64; i++)
    fuzz_inject(dp, "ethernet-input", f->data + f->offsets[i], f->lengths[i], 0);
  fuzz_check_pool(dp);
  vg_pcap_file_free(f);
  return 0;
}
