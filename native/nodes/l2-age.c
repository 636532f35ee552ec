/* l2-age: removes learned MACs not seen for their domain's mac-age. It is an
 * input node that never produces packets, so it runs every dispatch loop
 * even when no traffic flows (aging must happen on an idle domain too); it
 * returns at once until the next scan step is due, and each step looks at
 * a bounded slice of the FIB so forwarding never stalls behind a sweep. */
#include <stdio.h>

#include "../l2/bridge.h"

#define AGE_SLOTS_PER_STEP 4096u
#define AGE_SWEEP_NS 1000000000ull /* a full sweep starts at most once a second */

static int format_l2_age_trace(char *out, size_t size, const void *rec) {
  (void)rec;
  return snprintf(out, size, "  (no packets)");
}

static uint32_t l2_age_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  vg_l2_main_t *l2 = dp->l2;
  if (th->index != 0 || !l2) return 0; /* one thread ages; learning is shared */
  uint64_t now_ns = vg_time_ns();
  if (now_ns < l2->next_age_ns) return 0;
  vg_l2fib_age_step(l2, (uint32_t)((now_ns - l2->epoch_ns) / 1000000000u), AGE_SLOTS_PER_STEP);
  /* Next step at once until the sweep wraps, then after a pause. */
  l2->next_age_ns = l2->age_cursor ? now_ns : now_ns + AGE_SWEEP_NS;
  return 0;
}

const vg_node_reg_t vg_node_l2_age = {
    .name = "l2-age",
    .fn = l2_age_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){NULL},
    .errors = (const char *const[]){NULL},
    .format_trace = format_l2_age_trace,
};
