#include <stdio.h>
#include <stdlib.h>

#include "../ip4/reass.h"
#include "fuzz-common.h"

#define FUZZ_BUFFERS 2048

vg_dp_t *fuzz_dp(void) {
  static vg_dp_t *dp;
  if (!dp && !(dp = vg_dp_create("buffers=2048 trace-max=64"))) {
    fprintf(stderr, "fuzz: %s\n", vg_last_error());
    abort();
  }
  /* Frames arrive on a real port, as from a device. */
  if (vg_interface_find(dp, "fuzz0") < 0 && vg_pcap_interface_create(dp, "fuzz0", NULL, 0, "/dev/null") < 0)
    abort();
  return dp;
}

void fuzz_inject_on(vg_dp_t *dp, const char *node, uint32_t rx, const uint8_t *data, size_t size, int trace) {
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi;
  if (!vg_buffer_alloc(th, &bi, 1)) abort();
  vg_buffer_t *b = vg_buffer(dp, bi);
  memset(b, 0, sizeof *b);
  b->sw_if_index[VG_RX] = rx;
  b->sw_if_index[VG_TX] = VG_NONE;
  if (size > 65535) size = 65535;
  if (vg_buffer_append(th, bi, data, (uint32_t)size) != 0) abort();
  uint32_t node_index = (uint32_t)vg_node_index(dp, node);
  if (trace) {
    if (vg_trace_format(dp, NULL, 0) > 100000) vg_trace_clear(dp);
    th->trace_node = node_index;
    th->trace_remaining = 1;
    vg_trace_maybe_start(th, &dp->nodes[node_index], b);
    th->trace_remaining = 0;
  }
  vg_enqueue(th, node_index, &bi, 1);
  vg_dispatch_once(dp, th);
}

void fuzz_inject(vg_dp_t *dp, const char *node, const uint8_t *data, size_t size, int trace) {
  fuzz_inject_on(dp, node, (uint32_t)vg_interface_find(dp, "fuzz0"), data, size, trace);
}

void fuzz_check_pool(vg_dp_t *dp) {
  /* Fragments waiting in reassembly are held, not lost. */
  uint32_t n = vg_buffer_pool_available(dp) + vg_ip4_reass_buffers_held(dp);
  if (n != FUZZ_BUFFERS) {
    fprintf(stderr, "fuzz: %u buffers leaked\n", FUZZ_BUFFERS - n);
    abort();
  }
}
