#include <stdlib.h>

#include "test-util.h"
#include "test.h"

uint64_t stat_elem(vg_dp_t *dp, const char *entry, const char *elem_name) {
  uint64_t size;
  const uint8_t *seg = vg_stats_segment(dp, &size);
  const vg_stats_header_t *h = (const void *)seg;
  const vg_stats_entry_t *dir = (const void *)(seg + h->dir_offset);
  for (uint32_t i = 0; i < h->n_entries; i++) {
    if (strcmp(dir[i].name, entry) != 0) continue;
    const vg_stats_entry_t *names = &dir[dir[i].names_entry];
    for (uint32_t e = 0; e < dir[i].n_elems; e++) {
      if (strcmp((const char *)seg + names->offset + (uint64_t)e * VG_STATS_NAME_MAX, elem_name))
        continue;
      uint64_t sum = 0;
      for (uint64_t t = 0; t < h->n_threads; t++)
        sum += ((const uint64_t *)(seg + dir[i].offset))[t * dir[i].stride + e];
      return sum;
    }
    test_fail(__FILE__, __LINE__, "no element %s in %s", elem_name, entry);
    return UINT64_MAX;
  }
  test_fail(__FILE__, __LINE__, "no stats entry %s", entry);
  return UINT64_MAX;
}

uint64_t stat_error(vg_dp_t *dp, const char *node_slash_reason) {
  return stat_elem(dp, "/err/counters", node_slash_reason);
}

void write_pcap(const char *path, const uint8_t *const *frames, const uint32_t *lens, uint32_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    test_fail(__FILE__, __LINE__, "cannot write %s", path);
    return;
  }
  struct {
    uint32_t magic;
    uint16_t major, minor;
    int32_t zone;
    uint32_t sigfigs, snaplen, link;
  } hdr = {0xa1b2c3d4u, 2, 4, 0, 0, 65535, 1};
  fwrite(&hdr, sizeof hdr, 1, f);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t rec[4] = {1700000000u + i, 0, lens[i], lens[i]};
    fwrite(rec, sizeof rec, 1, f);
    fwrite(frames[i], 1, lens[i], f);
  }
  fclose(f);
}

const char *tmp_path(const char *name) {
  static char buf[8][512];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 512, "%s/%s", test_tmpdir(), name);
  return p;
}

uint32_t make_frame(uint8_t *out, const uint16_t *tpids, const uint16_t *vlans, int n_tags,
                    uint16_t type, uint32_t payload) {
  static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  memcpy(out, macs, 12);
  uint32_t off = 12;
  for (int i = 0; i < n_tags; i++) {
    out[off] = (uint8_t)(tpids[i] >> 8);
    out[off + 1] = (uint8_t)tpids[i];
    out[off + 2] = (uint8_t)(vlans[i] >> 8);
    out[off + 3] = (uint8_t)vlans[i];
    off += 4;
  }
  out[off] = (uint8_t)(type >> 8);
  out[off + 1] = (uint8_t)type;
  off += 2;
  for (uint32_t i = 0; i < payload; i++) out[off++] = (uint8_t)i;
  return off;
}

vg_dp_t *run_frames(const uint8_t *const *frames, const uint32_t *lens, uint32_t n,
                    uint16_t tx_type, const char *out_path) {
  const char *in = tmp_path("run-frames-in.pcap");
  write_pcap(in, frames, lens, n);
  vg_dp_t *dp = vg_dp_create("buffers=2048");
  if (!dp) {
    test_fail(__FILE__, __LINE__, "create: %s", vg_last_error());
    return NULL;
  }
  if (vg_pcap_interface_create(dp, "in0", in, 1, NULL) < 0)
    test_fail(__FILE__, __LINE__, "pcap in: %s", vg_last_error());
  if (tx_type) {
    int out = vg_pcap_interface_create(dp, "out0", NULL, 0, out_path);
    if (out < 0 || vg_ethernet_redirect(dp, tx_type, (uint32_t)out) < 0)
      test_fail(__FILE__, __LINE__, "pcap out: %s", vg_last_error());
  }
  if (vg_dp_run_until_idle(dp, 100000) < 0) test_fail(__FILE__, __LINE__, "run: %s", vg_last_error());
  if (tx_type) vg_interface_flush(dp, (uint32_t)vg_interface_find(dp, "out0"));
  return dp;
}

uint32_t rx_buffer(vg_dp_t *dp, uint32_t rx, const uint8_t *data, uint32_t len) {
  vg_thread_t *th = &dp->threads[0];
  uint32_t bi;
  if (vg_buffer_alloc(th, &bi, 1) != 1) return VG_BUFFER_INVALID;
  vg_buffer_t *b = vg_buffer(dp, bi);
  memset(b, 0, sizeof *b);
  b->sw_if_index[VG_RX] = rx;
  b->sw_if_index[VG_TX] = VG_NONE;
  if (vg_buffer_append(th, bi, data, len)) {
    vg_buffer_free(th, &bi, 1);
    return VG_BUFFER_INVALID;
  }
  return bi;
}

uint32_t read_pcap_frame(const char *path, uint32_t k, uint8_t *out, uint32_t max) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  uint32_t len = 0, rec[4];
  fseek(f, 24, SEEK_SET);
  for (uint32_t i = 0; fread(rec, sizeof rec, 1, f) == 1; i++) {
    if (i == k) {
      len = rec[2] < max ? rec[2] : max;
      if (fread(out, 1, len, f) != len) len = 0;
      break;
    }
    fseek(f, rec[2], SEEK_CUR);
  }
  fclose(f);
  return len;
}
