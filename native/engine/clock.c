#include "vg.h"

uint64_t vg_clock_hz(void) {
  static uint64_t hz;
  if (hz) return hz;
  uint64_t t0 = vg_time_ns(), c0 = vg_clock_ticks();
  struct timespec d = {0, 20 * 1000 * 1000};
  nanosleep(&d, NULL);
  uint64_t t1 = vg_time_ns(), c1 = vg_clock_ticks();
  hz = (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0));
  return hz;
}
