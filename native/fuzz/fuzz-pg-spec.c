/* Any string as a generator spec: refused naming a field, or accepted and
 * generating well-formed packets through the graph. */
#include <stdlib.h>

#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *spec = malloc(size + 1);
  memcpy(spec, data, size);
  spec[size] = 0;
  vg_dp_t *dp = fuzz_dp();
  int s = vg_pg_stream_add(dp, spec);
  if (s >= 0) {
    vg_dp_run_until_idle(dp, 2);
    /* Drain what a stream with a rate or count left pending, then delete. */
    vg_pg_stream_enable(dp, (uint32_t)s, 0);
    vg_dp_run_until_idle(dp, 4);
    if (vg_pg_stream_delete(dp, (uint32_t)s) != 0) abort();
    fuzz_check_pool(dp);
  } else if (!strstr(vg_last_error(), "spec")) {
    abort(); /* every refusal names the spec and the field */
  }
  free(spec);
  return 0;
}
