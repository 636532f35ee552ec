/* pcap file reading and writing, and the pcap interface. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../engine/text.h"
#include "pcap.h"

#define MAGIC_US 0xa1b2c3d4u
#define MAGIC_NS 0xa1b23c4du
#define MAGIC_PCAPNG 0x0a0d0d0au
#define LINKTYPE_ETHERNET 1

static uint32_t rd32(const uint8_t *p, int swapped) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swapped ? __builtin_bswap32(v) : v;
}

int vg_pcap_parse(uint8_t *data, size_t size, const char *what, vg_pcap_file_t **out) {
  if (size < 24)
    return vg_error(VG_E_FORMAT, "%s: %zu bytes is too short for a pcap file header (24 bytes)",
                    what, size);
  uint32_t magic;
  memcpy(&magic, data, 4);
  int swapped;
  if (magic == MAGIC_US || magic == MAGIC_NS) swapped = 0;
  else if (__builtin_bswap32(magic) == MAGIC_US || __builtin_bswap32(magic) == MAGIC_NS) swapped = 1;
  else if (magic == MAGIC_PCAPNG)
    return vg_error(VG_E_FORMAT, "%s: pcapng is not supported: save it as pcap "
                                 "(editcap -F pcap in out)", what);
  else
    return vg_error(VG_E_FORMAT, "%s: not a pcap file (magic number 0x%08x)", what, magic);
  uint32_t link = rd32(data + 20, swapped) & 0x0fffffff;
  if (link != LINKTYPE_ETHERNET)
    return vg_error(VG_E_FORMAT, "%s: link type %u is not Ethernet (1)", what, link);
  vg_pcap_file_t *f = calloc(1, sizeof *f);
  if (!f) return vg_error(VG_E_NOMEM, "%s", what);
  uint32_t cap = 0;
  for (size_t off = 24; off < size;) {
    uint32_t rec = f->n_records + 1;
    if (size - off < 16) {
      vg_pcap_file_free(f);
      return vg_error(VG_E_FORMAT, "%s: record %u at offset %zu is truncated: its 16-byte "
                                   "header has only %zu bytes", what, rec, off, size - off);
    }
    uint32_t incl = rd32(data + off + 8, swapped);
    if (incl > VG_PCAP_MAX_FRAME) {
      vg_pcap_file_free(f);
      return vg_error(VG_E_FORMAT, "%s: record %u at offset %zu claims %u bytes, more than %u",
                      what, rec, off, incl, VG_PCAP_MAX_FRAME);
    }
    if (size - off - 16 < incl) {
      vg_pcap_file_free(f);
      return vg_error(VG_E_FORMAT, "%s: record %u at offset %zu is truncated: %u bytes "
                                   "captured, %zu present", what, rec, off, incl, size - off - 16);
    }
    if (f->n_records == cap) {
      cap = cap ? cap * 2 : 64;
      uint32_t *o = realloc(f->offsets, cap * sizeof *o), *l = o ? realloc(f->lengths, cap * sizeof *l) : NULL;
      if (o) f->offsets = o;
      if (l) f->lengths = l;
      if (!o || !l) {
        vg_pcap_file_free(f);
        return vg_error(VG_E_NOMEM, "%s: record index", what);
      }
    }
    f->offsets[f->n_records] = (uint32_t)(off + 16);
    f->lengths[f->n_records] = incl;
    f->n_records++;
    off += 16 + (size_t)incl;
    if (off > UINT32_MAX) {
      vg_pcap_file_free(f);
      return vg_error(VG_E_LIMIT, "%s: pcap files above 4 GB are not supported", what);
    }
  }
  f->data = data;
  f->size = size;
  f->swapped = swapped;
  *out = f;
  return 0;
}

int vg_pcap_load(const char *path, vg_pcap_file_t **out) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return vg_error(VG_E_IO, "%s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(fp);
    return vg_error(VG_E_IO, "%s: not a regular file", path);
  }
  uint8_t *data = malloc(st.st_size ? (size_t)st.st_size : 1);
  if (!data) {
    fclose(fp);
    return vg_error(VG_E_NOMEM, "%s: %lld bytes", path, (long long)st.st_size);
  }
  size_t got = fread(data, 1, (size_t)st.st_size, fp);
  fclose(fp);
  int rc = got == (size_t)st.st_size ? vg_pcap_parse(data, got, path, out)
                                     : vg_error(VG_E_IO, "%s: short read", path);
  if (rc) free(data);
  return rc;
}

void vg_pcap_file_free(vg_pcap_file_t *f) {
  if (!f) return;
  free(f->data);
  free(f->offsets);
  free(f->lengths);
  free(f);
}

int vg_pcap_writer_open(const char *path, vg_pcap_writer_t **out) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return vg_error(VG_E_IO, "%s: %s", path, strerror(errno));
  /* Host byte order, nanosecond timestamps, version 2.4. */
  struct {
    uint32_t magic;
    uint16_t major, minor;
    int32_t thiszone;
    uint32_t sigfigs, snaplen, linktype;
  } hdr = {MAGIC_NS, 2, 4, 0, 0, VG_PCAP_MAX_FRAME, LINKTYPE_ETHERNET};
  vg_pcap_writer_t *w = calloc(1, sizeof *w);
  if (!w || fwrite(&hdr, sizeof hdr, 1, fp) != 1) {
    fclose(fp);
    free(w);
    return vg_error(VG_E_IO, "%s: cannot write the pcap header", path);
  }
  w->f = fp;
  *out = w;
  return 0;
}

void vg_pcap_write_buffer(vg_main_t *dp, vg_pcap_writer_t *w, uint32_t bi, uint64_t now_ns) {
  vg_buffer_t *b = vg_buffer(dp, bi);
  uint32_t len = vg_buffer_length_in_chain(b);
  if (len > VG_PCAP_MAX_FRAME) len = VG_PCAP_MAX_FRAME;
  uint32_t rec[4] = {(uint32_t)(now_ns / 1000000000u), (uint32_t)(now_ns % 1000000000u), len, len};
  if (fwrite(rec, sizeof rec, 1, w->f) != 1) w->failed = 1;
  for (uint32_t left = len;;) {
    uint32_t k = b->current_length < left ? b->current_length : left;
    if (k && fwrite(vg_buffer_current(b), k, 1, w->f) != 1) w->failed = 1;
    left -= k;
    if (!left || !(b->flags & VG_BUF_NEXT_PRESENT)) break;
    b = vg_buffer(dp, b->next_buffer);
  }
  w->n_packets++;
}

void vg_pcap_write_frame(vg_pcap_writer_t *w, const uint8_t *data, uint32_t caplen,
                         uint32_t orig_len, uint64_t ns) {
  uint32_t rec[4] = {(uint32_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u), caplen, orig_len};
  if (fwrite(rec, sizeof rec, 1, w->f) != 1 || (caplen && fwrite(data, caplen, 1, w->f) != 1))
    w->failed = 1;
  w->n_packets++;
}

int vg_pcap_writer_flush(vg_pcap_writer_t *w) {
  if (fflush(w->f) != 0 || w->failed) return vg_error(VG_E_IO, "pcap write failed");
  return 0;
}

int vg_pcap_writer_close(vg_pcap_writer_t *w) {
  if (!w) return 0;
  int rc = vg_pcap_writer_flush(w);
  if (fclose(w->f) != 0 && !rc) rc = vg_error(VG_E_IO, "pcap close failed");
  free(w);
  return rc;
}

/* ---- the pcap interface ---- */

static uint32_t pcap_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                        uint32_t n) {
  vg_pcap_dev_t *dev = itf->dev;
  uint64_t now = vg_time_ns(), bytes = 0;
  pthread_mutex_lock(&dev->tx_lock);
  for (uint32_t i = 0; i < n; i++) {
    bytes += vg_buffer_length_in_chain(vg_buffer(dp, bi[i]));
    vg_pcap_write_buffer(dp, dev->tx, bi[i], now);
  }
  pthread_mutex_unlock(&dev->tx_lock);
  vg_if_count_tx(dp, th, itf->sw_if_index, n, bytes);
  vg_buffer_free(th, bi, n);
  return n;
}

static int pcap_flush(vg_main_t *dp, vg_interface_t *itf) {
  (void)dp;
  vg_pcap_dev_t *dev = itf->dev;
  return dev->tx ? vg_pcap_writer_flush(dev->tx) : 0;
}

static void dev_free(vg_pcap_dev_t *dev) {
  vg_pcap_file_free(dev->rx);
  vg_pcap_writer_close(dev->tx);
  free(dev->rx_path);
  free(dev->tx_path);
  pthread_mutex_destroy(&dev->tx_lock);
  free(dev);
}

static void pcap_destroy(vg_main_t *dp, vg_interface_t *itf) {
  (void)dp;
  vg_pcap_dev_t *dev = itf->dev;
  if (!dev) return;
  dev_free(dev);
  itf->dev = NULL;
}

static void pcap_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *t) {
  (void)dp;
  vg_pcap_dev_t *dev = itf->dev;
  if (dev->rx) {
    vg_text_printf(t, "  rx file %s: %u records, ", dev->rx_path, dev->rx->n_records);
    if (dev->rx_loops) vg_text_printf(t, "%u of %u loops done", dev->rx_loop, dev->rx_loops);
    else vg_text_printf(t, "looping forever (%u loops done)", dev->rx_loop);
    vg_text_printf(t, ", next record %u\n", dev->rx_next + 1);
  } else {
    vg_text_printf(t, "  rx file: none\n");
  }
  if (dev->tx)
    vg_text_printf(t, "  tx file %s: %llu frames written%s\n", dev->tx_path,
                   (unsigned long long)dev->tx->n_packets, dev->tx->failed ? ", a write failed" : "");
  else
    vg_text_printf(t, "  tx file: none (frames sent are dropped)\n");
}

int vg_pcap_interface_create(vg_dp_t *dp, const char *name, const char *rx_path,
                             uint32_t rx_loops, const char *tx_path) {
  vg_pcap_dev_t *dev = calloc(1, sizeof *dev);
  if (!dev) return vg_error(VG_E_NOMEM, "pcap interface");
  pthread_mutex_init(&dev->tx_lock, NULL);
  int rc = 0;
  if (rx_path && *rx_path) {
    rc = vg_pcap_load(rx_path, &dev->rx);
    if (!rc && !(dev->rx_path = strdup(rx_path))) rc = vg_error(VG_E_NOMEM, "pcap interface");
  }
  if (!rc && tx_path && *tx_path) {
    rc = vg_pcap_writer_open(tx_path, &dev->tx);
    if (!rc && !(dev->tx_path = strdup(tx_path))) rc = vg_error(VG_E_NOMEM, "pcap interface");
  }
  if (!rc && !dev->rx && !dev->tx)
    rc = vg_error(VG_E_INVAL, "pcap interface %s: give an rx file, a tx file or both", name);
  dev->rx_loops = rx_loops;
  if (rc) {
    dev_free(dev);
    return rc;
  }
  rc = vg_interface_add_device(dp, name, &(vg_device_t){.type = "pcap", .dev = dev,
                                                       .tx = dev->tx ? pcap_tx : NULL,
                                                       .destroy = pcap_destroy, .flush = pcap_flush,
                                                       .format_hw = pcap_format_hw,
                                                       .input_node = dev->rx ? "pcap-input" : NULL});
  if (rc < 0) dev_free(dev);
  return rc;
}

int vg_pcap_rx_pending(vg_main_t *dp) {
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (itf && itf->destroy == pcap_destroy) {
      vg_pcap_dev_t *dev = itf->dev;
      if (dev->rx && dev->rx->n_records && !dev->rx_done && itf->admin_up && dev->rx_loops)
        return 1;
    }
  }
  return 0;
}

int vg_pcap_is_pcap(vg_interface_t *itf) { return itf->destroy == pcap_destroy; }
