/* Cycle counters for per-node clocks: rdtsc, cntvct_el0 or the timebase.
 * They are cheap enough to read twice per node call; ticks are converted to
 * seconds with the rate calibrated at start (stats header clock_hz). */
#ifndef VG_CLOCK_H
#define VG_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t vg_clock_ticks(void) {
#if defined(__x86_64__)
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
  uint64_t v;
  __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#elif defined(__powerpc64__)
  uint64_t v;
  __asm__ volatile("mftb %0" : "=r"(v));
  return v;
#else
#error "no cycle counter for this architecture"
#endif
}

static inline uint64_t vg_time_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Ticks per second, measured once over a short interval. */
uint64_t vg_clock_hz(void);

#endif
