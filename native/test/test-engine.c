/* Buffer pool, options, graph and stats segment. */
#include <stdlib.h>
#include <unistd.h>

#include "../interfaces/pcap.h"
#include "vecgate-probe.h"
#include "test-util.h"
#include "test.h"

TEST(options_rejected_with_the_key_named) {
  CHECK(vg_dp_create("buffers=lots") == NULL);
  CHECK_STR_CONTAINS(vg_last_error(), "buffers=lots");
  CHECK(vg_dp_create("colour=blue") == NULL);
  CHECK_STR_CONTAINS(vg_last_error(), "unknown key 'colour'");
  CHECK(vg_dp_create("threads=0") == NULL);
  CHECK_STR_CONTAINS(vg_last_error(), "threads=0");
  CHECK(vg_dp_create("buffers") == NULL);
  CHECK_STR_CONTAINS(vg_last_error(), "not key=value");
}

TEST(buffer_pool_is_2mb_backed_and_balanced) {
  vg_dp_t *dp = vg_dp_create("buffers=4096 hugetlb=0");
  REQUIRE(dp);
  /* THP is available on Linux boxes with it enabled in madvise mode or always. */
  CHECK(strcmp(vg_buffer_backing(dp), "thp") == 0 || strcmp(vg_buffer_backing(dp), "4k") == 0);
  CHECK_EQ((uintptr_t)dp->buffer_mem & ((2u << 20) - 1), 0);
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi[300];
  CHECK_EQ(vg_buffer_alloc(th, bi, 300), 300);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096 - 300);
  for (int i = 0; i < 300; i++) {
    CHECK((bi[i] * 64) % VG_BUFFER_STRIDE == 0);
    memset(vg_buffer(dp, bi[i]), 0, sizeof(vg_buffer_t));
  }
  vg_buffer_free(th, bi, 300);
  CHECK_EQ(vg_buffer_pool_available(dp), 4096);
  vg_dp_destroy(dp);
}

/* kB of AnonHugePages in the mapping that contains addr (/proc/self/smaps). */
static long anon_huge_kb(const void *addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[512];
  int inside = 0;
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
      continue;
    }
    if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) break;
  }
  fclose(f);
  return kb;
}

TEST(buffer_pool_really_sits_on_2mb_pages) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char mode[128] = "";
  if (f) {
    if (!fgets(mode, sizeof mode, f)) mode[0] = 0;
    fclose(f);
  }
  vg_dp_t *dp = vg_dp_create("buffers=8192 hugetlb=0");
  REQUIRE(dp);
  if (strstr(mode, "[never]") || !mode[0]) {
    CHECK_STR_CONTAINS(vg_buffer_backing(dp), "4k");
  } else {
    CHECK_STR_CONTAINS(vg_buffer_backing(dp), "thp");
    /* 8192 buffers = 18 MB: the kernel gave most of it 2 MB pages. Under
     * qemu-user the guest's pages are the emulator's, placed at an offset
     * that breaks 2 MB alignment: nothing to measure there. */
    if (getenv("VECGATE_TEST_EMULATED")) printf("    (emulated: 2 MB page use not measured)\n");
    else CHECK(anon_huge_kb(dp->buffer_mem) >= 8 * 1024);
  }
  vg_dp_destroy(dp);
}

/* With hugetlbfs pages reserved, the pool takes them. Reserving pages needs
 * root; the test restores the reservation it found. */
TEST(buffer_pool_takes_reserved_hugepages) {
  const char *knob = "/proc/sys/vm/nr_hugepages";
  FILE *f = fopen(knob, "r");
  long before = -1;
  if (!f || fscanf(f, "%ld", &before) != 1 || geteuid() != 0) {
    if (f) fclose(f);
    printf("    (skipped: needs root and %s)\n", knob);
    return;
  }
  fclose(f);
  f = fopen(knob, "w");
  if (!f) return;
  fprintf(f, "%ld\n", before + 8);
  fclose(f);
  vg_dp_t *dp = vg_dp_create("buffers=4096 hugetlb=1");
  f = fopen(knob, "w");
  if (f) {
    fprintf(f, "%ld\n", before);
    fclose(f);
  }
  REQUIRE(dp);
  /* 4096 buffers = 9 MB = 5 pages of 2 MB; the kernel may have found fewer
   * free 2 MB blocks than asked, in which case THP is the right fallback. */
  CHECK(strcmp(vg_buffer_backing(dp), "hugetlb") == 0 || strcmp(vg_buffer_backing(dp), "thp") == 0);
  printf("    (backing with %ld+8 reserved pages: %s)\n", before, vg_buffer_backing(dp));
  vg_dp_destroy(dp);
}

TEST(buffer_chain_append_copy_and_free) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  vg_thread_t *th = &dp->threads[0];
  uint32_t head;
  REQUIRE(vg_buffer_alloc(th, &head, 1) == 1);
  memset(vg_buffer(dp, head), 0, sizeof(vg_buffer_t));
  static uint8_t big[9000], back[9000];
  for (uint32_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
  CHECK_EQ(vg_buffer_append(th, head, big, sizeof big), 0);
  vg_buffer_t *b = vg_buffer(dp, head);
  CHECK(b->flags & VG_BUF_NEXT_PRESENT);
  CHECK_EQ(vg_buffer_length_in_chain(b), 9000);
  CHECK_EQ(vg_buffer_copy_out(dp, head, back, sizeof back), 9000);
  CHECK(memcmp(big, back, sizeof big) == 0);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048 - 5); /* 9000 bytes = 5 buffers of 2048 */
  vg_buffer_free(th, &head, 1);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(graph_lists_nodes_and_their_next_nodes) {
  vg_dp_t *dp = vg_dp_create(NULL);
  REQUIRE(dp);
  char buf[4096];
  CHECK(vg_graph_format(dp, buf, sizeof buf) > 0);
  CHECK_STR_CONTAINS(buf, "ethernet-input error-drop,interface-output,l2-input,ip4-input,arp-input\n");
  CHECK_STR_CONTAINS(buf, "pcap-input ethernet-input\n");
  CHECK(vg_node_find(dp, "ethernet-input") >= 0);
  CHECK_EQ(vg_node_find(dp, "no-such-node"), VG_E_NOTFOUND);
  CHECK_STR_CONTAINS(vg_last_error(), "no-such-node");
  vg_dp_destroy(dp);
}

TEST(stats_segment_directory_and_runtime_counters) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  uint64_t size;
  const vg_stats_header_t *h = vg_stats_segment(dp, &size);
  CHECK_EQ(h->magic, VG_STATS_MAGIC);
  CHECK_EQ(h->size, size);
  CHECK(h->clock_hz > 1000000);
  uint64_t epoch = h->epoch;
  REQUIRE(vg_pg_stream_add(dp, "name=s size=64 count=1000") >= 0);
  CHECK(h->epoch > epoch); /* the pg interface changed the directory */
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 1000);
  CHECK_EQ(stat_elem(dp, "/nodes/packets", "pg-input"), 1000);
  CHECK_EQ(stat_elem(dp, "/nodes/packets", "ethernet-input"), 1000);
  CHECK_EQ(stat_elem(dp, "/nodes/packets", "error-drop"), 1000);
  CHECK(stat_elem(dp, "/nodes/vectors", "ethernet-input") >= 4); /* 1000 in vectors of <= 256 */
  CHECK(stat_elem(dp, "/nodes/clocks", "ethernet-input") > 0);
  CHECK_EQ(stat_error(dp, "ethernet-input/IPv4 is not enabled on the interface"), 1000);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "pg0"), 1000);
  CHECK_EQ(stat_elem(dp, "/if/rx-bytes", "pg0"), 64000);
  CHECK_EQ(stat_elem(dp, "/if/drops", "pg0"), 1000);
  CHECK_EQ(vg_stats_clear(dp, "runtime"), 0);
  CHECK_EQ(stat_elem(dp, "/nodes/packets", "ethernet-input"), 0);
  CHECK_EQ(stat_error(dp, "ethernet-input/IPv4 is not enabled on the interface"), 1000);
  CHECK_EQ(vg_stats_clear(dp, "all"), 0);
  CHECK_EQ(stat_error(dp, "ethernet-input/IPv4 is not enabled on the interface"), 0);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "pg0"), 0);
  CHECK_EQ(vg_stats_clear(dp, "everything"), VG_E_INVAL);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
}

TEST(probe_accepts_this_variant_on_this_cpu) {
  char missing[512];
  /* The harness runs each variant only on a CPU (or qemu model) that has it. */
  CHECK_EQ(vg_probe_variant_missing(vg_variant_name(), missing, sizeof missing), 0);
  const char *expect_missing = getenv("VECGATE_TEST_EXPECT_MISSING");
  if (expect_missing && *expect_missing) {
    CHECK(vg_probe_variant_missing(expect_missing, missing, sizeof missing) > 0);
  }
  CHECK_EQ(vg_probe_variant_missing("sparc-v9", missing, sizeof missing), -1);
  CHECK_STR_CONTAINS(missing, "not one of this");
}
