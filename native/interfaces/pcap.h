/* pcap files (the classic libpcap format that tshark and Wireshark open):
 * a whole-file reader that validates every record up front, and a writer. */
#ifndef VG_PCAP_H
#define VG_PCAP_H

#include <stdio.h>

#include "../engine/vg.h"

#define VG_PCAP_MAX_FRAME 65535

typedef struct {
  uint8_t *data;     /* the whole file */
  size_t size;
  int swapped;       /* written on a host of the other byte order */
  uint32_t n_records;
  uint32_t *offsets; /* [n_records]: offset of each record's frame bytes */
  uint32_t *lengths; /* [n_records]: captured length */
} vg_pcap_file_t;

/* Validates a pcap image in memory (takes ownership of data on success).
 * `what` names the source in errors. */
int vg_pcap_parse(uint8_t *data, size_t size, const char *what, vg_pcap_file_t **out);
int vg_pcap_load(const char *path, vg_pcap_file_t **out);
void vg_pcap_file_free(vg_pcap_file_t *f);

typedef struct {
  FILE *f;
  uint64_t n_packets;
  int failed;
} vg_pcap_writer_t;

int vg_pcap_writer_open(const char *path, vg_pcap_writer_t **out);
/* Writes the frame of the chain at bi (up to VG_PCAP_MAX_FRAME bytes). */
void vg_pcap_write_buffer(vg_main_t *dp, vg_pcap_writer_t *w, uint32_t bi, uint64_t now_ns);
/* Writes one record: caplen bytes of a frame that had orig_len. */
void vg_pcap_write_frame(vg_pcap_writer_t *w, const uint8_t *data, uint32_t caplen,
                         uint32_t orig_len, uint64_t ns);
int vg_pcap_writer_flush(vg_pcap_writer_t *w);
int vg_pcap_writer_close(vg_pcap_writer_t *w);

/* A pcap interface's device state. */
typedef struct {
  vg_pcap_file_t *rx;
  uint32_t rx_loops;  /* 0: forever */
  uint32_t rx_loop;   /* loops completed */
  uint32_t rx_next;   /* next record */
  int rx_done;
  vg_pcap_writer_t *tx;
  pthread_mutex_t tx_lock; /* workers sending at once would interleave records */
  char *rx_path, *tx_path; /* for vg_interface_format_hw */
} vg_pcap_dev_t;

int vg_pcap_is_pcap(vg_interface_t *itf);

#endif
