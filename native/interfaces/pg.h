/* Packet generator streams (interfaces/pg.c), run by the pg-input node. */
#ifndef VG_PG_H
#define VG_PG_H

#include "../engine/vg.h"

#define VG_PG_MAX_EDITS 16
#define VG_PG_MAX_FRAME 9216

typedef struct {
  uint16_t offset;
  uint8_t width; /* bytes, big-endian, 1..8 */
  uint8_t random;
  uint8_t in_ip4;  /* some of its bytes lie in the IPv4 header */
  uint64_t min, max, cur;
} vg_pg_edit_t;

struct vg_pg_stream {
  char name[64];
  uint32_t index;
  uint32_t sw_if_index;
  uint32_t thread;
  uint32_t node;          /* node index the packets enter */
  uint32_t size_min, size_max, size_cur;
  uint64_t count;         /* 0: forever */
  uint64_t rate;          /* packets/s, 0: as fast as possible */
  uint8_t *tmpl;          /* size_max bytes */
  uint32_t n_edits;
  vg_pg_edit_t edits[VG_PG_MAX_EDITS];
  int32_t ip4_offset;     /* -1: no IPv4 header to fix up */
  int32_t l4_csum_offset; /* -1: no L4 checksum to fix up (TCP, ICMP) */
  uint8_t l4_proto;
  uint8_t fixup_ip4;      /* IPv4 header changes per packet: recompute its checksum */
  uint8_t fixup_l4;
  uint8_t ip4_incremental; /* header checksum = base sum + the edited values */
  uint64_t ip4_base_sum;   /* the header's words without checksum and edited bytes */
  uint64_t rng;
  vg_buffer_t meta;       /* metadata every packet starts from */
  /* progress, read by vg_pg_stream_status */
  _Atomic int enabled;
  _Atomic int done;
  uint64_t sent, bytes, first_ns, last_ns, start_ns, start_sent;
};

/* Parses a spec into a new stream (not yet in the dataplane). */
int vg_pg_parse(const char *spec, vg_pg_stream_t **out, char *if_name, size_t if_name_size,
                char *node_name, size_t node_name_size);
void vg_pg_stream_free(vg_pg_stream_t *s);
/* Fills n buffers with the stream's next packets. */
void vg_pg_fill(vg_main_t *dp, vg_thread_t *th, vg_pg_stream_t *s, const uint32_t *bi,
                uint32_t n);

#endif
