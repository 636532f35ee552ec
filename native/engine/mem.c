/* 2 MB backed memory without reserved hugepages.
 *
 * Packet buffers are touched at random by index; with 4 KB pages every few
 * packets miss the TLB. We ask for hugetlbfs pages first (when the box has
 * them reserved), else map 2 MB aligned anonymous memory, advise transparent
 * huge pages and fault it in at once so the kernel backs it with 2 MB pages
 * up front rather than in the middle of a traffic burst.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "vg.h"

#define HUGE_2M (2ull << 20)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static uint64_t round_2m(uint64_t size) { return (size + HUGE_2M - 1) & ~(HUGE_2M - 1); }

void *vg_mem_alloc_huge(uint64_t size, int try_hugetlb, const char **backing) {
  size = round_2m(size);
  if (try_hugetlb) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
    if (p != MAP_FAILED) {
      *backing = "hugetlb";
      return p;
    }
  }
  /* Over-map by 2 MB and trim so the region starts on a 2 MB boundary. */
  uint8_t *raw = mmap(NULL, size + HUGE_2M, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  uint8_t *end = p + size, *raw_end = raw + size + HUGE_2M;
  if (raw_end > end) munmap(end, (size_t)(raw_end - end));
  *backing = "4k";
  if (madvise(p, size, MADV_HUGEPAGE) == 0) *backing = "thp";
  if (madvise(p, size, MADV_POPULATE_WRITE) != 0) memset(p, 0, size);
  return p;
}

void vg_mem_free_huge(void *p, uint64_t size) {
  if (p) munmap(p, round_2m(size));
}
