/* pcap files: bad files are refused with the reason; frames survive a
 * round trip through the dataplane byte for byte. */
#include <stdlib.h>
#include <unistd.h>

#include "../interfaces/pcap.h"
#include "test-util.h"
#include "test.h"

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(data, 1, n, f);
  fclose(f);
}

static void expect_pcap_error(const char *path, int code, const char *words) {
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  if (!dp) return;
  int rc = vg_pcap_interface_create(dp, "in", path, 1, NULL);
  if (rc != code) test_fail(__FILE__, __LINE__, "%s: rc %d, expected %d", path, rc, code);
  if (!strstr(vg_last_error(), words))
    test_fail(__FILE__, __LINE__, "%s: error '%s' lacks '%s'", path, vg_last_error(), words);
  CHECK_EQ(vg_interface_find(dp, "in"), VG_E_NOTFOUND); /* nothing half-made is left */
  vg_dp_destroy(dp);
}

TEST(pcap_bad_files_are_refused_with_the_reason) {
  expect_pcap_error(tmp_path("does-not-exist.pcap"), VG_E_IO, "No such file");
  const char *p = tmp_path("text.pcap");
  write_bytes(p, "this is not a capture file at all", 33);
  expect_pcap_error(p, VG_E_FORMAT, "not a pcap file (magic number");
  write_bytes(p, "\xd4\xc3\xb2\xa1\x02\x00", 6);
  expect_pcap_error(p, VG_E_FORMAT, "too short for a pcap file header");
  write_bytes(p, "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00", 28);
  expect_pcap_error(p, VG_E_FORMAT, "pcapng is not supported");
  uint8_t frame[60] = {0};
  const uint8_t *frames[2] = {frame, frame};
  uint32_t lens[2] = {60, 60};
  write_pcap(p, frames, lens, 2);
  FILE *f = fopen(p, "r+b");
  REQUIRE(f);
  REQUIRE(fseek(f, 0, SEEK_END) == 0);
  long size = ftell(f);
  fclose(f);
  REQUIRE(truncate(p, size - 10) == 0);
  expect_pcap_error(p, VG_E_FORMAT, "record 2 at offset 100 is truncated: 60 bytes captured, 50 present");
  REQUIRE(truncate(p, 24 + 16 + 60 + 7) == 0);
  expect_pcap_error(p, VG_E_FORMAT, "record 2 at offset 100 is truncated: its 16-byte header has only 7");
  write_pcap(p, frames, lens, 1);
  f = fopen(p, "r+b");
  REQUIRE(f);
  fseek(f, 20, SEEK_SET);
  uint32_t link = 105; /* 802.11 */
  fwrite(&link, 4, 1, f);
  fclose(f);
  expect_pcap_error(p, VG_E_FORMAT, "link type 105 is not Ethernet");
  expect_pcap_error("/tmp", VG_E_IO, "not a regular file");
}

TEST(pcap_big_endian_nanosecond_file_is_read) {
  /* A header and one 60-byte record written big-endian with ns timestamps. */
  uint8_t img[24 + 16 + 60] = {0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                               0, 0, 0xff, 0xff, 0, 0, 0, 1};
  uint8_t *rec = img + 24;
  rec[11] = 60;
  rec[15] = 60;
  memset(rec + 16, 0xab, 60);
  uint8_t *data = malloc(sizeof img);
  memcpy(data, img, sizeof img);
  vg_pcap_file_t *f;
  REQUIRE(vg_pcap_parse(data, sizeof img, "mem", &f) == 0);
  CHECK(f->swapped);
  CHECK_EQ(f->n_records, 1);
  CHECK_EQ(f->lengths[0], 60);
  CHECK_EQ(f->data[f->offsets[0]], 0xab);
  vg_pcap_file_free(f);
}

TEST(pcap_round_trip_including_jumbo_frames) {
  static uint8_t a[64], b[9000], c[1514];
  uint32_t la = make_frame(a, NULL, NULL, 0, 0x88b5, 50);
  uint32_t lb = make_frame(b, NULL, NULL, 0, 0x88b5, 8986);
  uint32_t lc = make_frame(c, NULL, NULL, 0, 0x0800, 1500); /* not redirected: dropped */
  const uint8_t *frames[3] = {a, b, c};
  uint32_t lens[3] = {la, lb, lc};
  const char *out = tmp_path("rt-out.pcap");
  vg_dp_t *dp = run_frames(frames, lens, 3, 0x88b5, out);
  REQUIRE(dp);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "in0"), 3);
  CHECK_EQ(stat_elem(dp, "/if/rx-bytes", "in0"), la + lb + lc);
  CHECK_EQ(stat_elem(dp, "/if/tx-packets", "out0"), 2);
  CHECK_EQ(stat_error(dp, "ethernet-input/IPv4 is not enabled on the interface"), 1);
  CHECK_EQ(vg_buffer_pool_available(dp), 2048);
  vg_dp_destroy(dp);
  vg_pcap_file_t *f;
  REQUIRE(vg_pcap_load(out, &f) == 0);
  CHECK_EQ(f->n_records, 2);
  CHECK_EQ(f->lengths[0], la);
  CHECK_EQ(f->lengths[1], lb);
  CHECK(memcmp(f->data + f->offsets[0], a, la) == 0);
  CHECK(memcmp(f->data + f->offsets[1], b, lb) == 0);
  vg_pcap_file_free(f);
}

TEST(pcap_interface_replays_its_loops) {
  uint8_t a[64];
  uint32_t la = make_frame(a, NULL, NULL, 0, 0x0800, 50);
  const uint8_t *frames[1] = {a};
  const char *in = tmp_path("loops.pcap");
  write_pcap(in, frames, &la, 1);
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  REQUIRE(dp);
  REQUIRE(vg_pcap_interface_create(dp, "in0", in, 5, NULL) >= 0);
  CHECK_EQ(vg_pcap_interface_create(dp, "in0", in, 5, NULL), VG_E_EXISTS);
  CHECK_EQ(vg_dp_run_until_idle(dp, 0), 5);
  CHECK_EQ(stat_elem(dp, "/if/rx-packets", "in0"), 5);
  CHECK_EQ(vg_interface_delete(dp, (uint32_t)vg_interface_find(dp, "in0")), 0);
  CHECK_EQ(vg_interface_find(dp, "in0"), VG_E_NOTFOUND);
  vg_dp_destroy(dp);
}
