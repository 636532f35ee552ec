/* Packet capture, like VPP's `pcap trace rx tx drop max N file F`.
 *
 * Three points of the graph call vg_pcap_maybe_capture once per frame:
 * input nodes as they hand what they received to the graph (rx),
 * interface-output as it gives a run of packets to a device (tx), and
 * error-drop (drop). While no capture is on that is one predicted branch
 * on a word no one writes. While one is on, each frame the filter takes is
 * copied, whole, into a record of its own; records are reserved slot by
 * slot with an atomic counter, so several dataplane threads capture at once
 * without a lock. The file is written when the capture is turned off, off
 * the packet path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../interfaces/pcap.h"
#include "vg.h"

typedef struct {
  uint64_t ns;
  uint32_t caplen, orig_len;
  uint8_t data[];
} capture_rec_t;

typedef struct vg_pcap_trace {
  uint32_t what, max, sw_if_index;
  char path[256];
  vg_pcap_writer_t *writer;   /* opened by on, so a bad path fails there */
  capture_rec_t **recs;       /* [max]: NULL where a record could not be allocated */
  _Atomic uint32_t n_reserved;
} pcap_trace_t;

static uint64_t realtime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A slot for one more record, or UINT32_MAX when the capture is full. */
static uint32_t reserve(pcap_trace_t *pt) {
  uint32_t n = atomic_load_explicit(&pt->n_reserved, memory_order_relaxed);
  do {
    if (n >= pt->max) return UINT32_MAX;
  } while (!atomic_compare_exchange_weak(&pt->n_reserved, &n, n + 1));
  return n;
}

/* Where the frame starts: a packet dropped past ethernet-input (which sets
 * ethertype and l2_hdr_offset) still has its Ethernet header in front of
 * current_data, unless a rewrite since moved the start before it. */
static int16_t frame_start(const vg_buffer_t *b, uint32_t what) {
  if (what == VG_PCAP_DROP && b->ethertype && b->l2_hdr_offset < b->current_data &&
      b->l2_hdr_offset >= -VG_HEADROOM)
    return b->l2_hdr_offset;
  return b->current_data;
}

static capture_rec_t *copy_frame(vg_main_t *dp, vg_buffer_t *b, uint32_t what, uint64_t ns) {
  int16_t start = frame_start(b, what);
  uint32_t len = vg_buffer_length_in_chain(b) + (uint32_t)(b->current_data - start);
  uint32_t cap = len < VG_PCAP_MAX_FRAME ? len : VG_PCAP_MAX_FRAME;
  capture_rec_t *r = malloc(sizeof *r + cap);
  if (!r) return NULL;
  r->ns = ns;
  r->caplen = cap;
  r->orig_len = len;
  uint32_t first = b->current_length + (uint32_t)(b->current_data - start);
  uint32_t done = first < cap ? first : cap;
  memcpy(r->data, vg_buffer_data(b) + start, done);
  while (done < cap && (b->flags & VG_BUF_NEXT_PRESENT)) {
    b = vg_buffer(dp, b->next_buffer);
    uint32_t k = b->current_length < cap - done ? b->current_length : cap - done;
    memcpy(r->data + done, vg_buffer_current(b), k);
    done += k;
  }
  r->caplen = done;
  return r;
}

void vg_pcap_capture(vg_main_t *dp, uint32_t what, const uint32_t *bi, uint32_t n, uint32_t dev_sw) {
  pcap_trace_t *pt = dp->pcap_trace;
  uint64_t ns = realtime_ns();
  uint32_t dir = what == VG_PCAP_TX ? VG_TX : VG_RX;
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    if (pt->sw_if_index != VG_NONE && b->sw_if_index[dir] != pt->sw_if_index && dev_sw != pt->sw_if_index)
      continue;
    uint32_t slot = reserve(pt);
    if (slot == UINT32_MAX) {
      /* Full: the frame path stops calling in. */
      atomic_store_explicit(&dp->pcap_capture, 0, memory_order_relaxed);
      return;
    }
    pt->recs[slot] = copy_frame(dp, b, what, ns);
  }
}

static void trace_free(pcap_trace_t *pt) {
  if (!pt) return;
  uint32_t n = atomic_load(&pt->n_reserved);
  for (uint32_t i = 0; i < n && i < pt->max; i++) free(pt->recs[i]);
  free(pt->recs);
  vg_pcap_writer_close(pt->writer);
  free(pt);
}

void vg_pcap_trace_free(vg_main_t *dp) {
  trace_free(dp->pcap_trace);
  dp->pcap_trace = NULL;
}

static int check_on(vg_main_t *dp, uint32_t what, uint32_t max, const char *path, uint32_t sw) {
  if (!what || (what & ~(VG_PCAP_RX | VG_PCAP_TX | VG_PCAP_DROP)))
    return vg_error(VG_E_INVAL, "pcap trace: what=0x%x: give rx (1), tx (2), drop (4) or a sum of them", what);
  if (!max || max > VG_PCAP_MAX_PACKETS)
    return vg_error(VG_E_INVAL, "pcap trace: max %u packets is outside 1..%u", max, VG_PCAP_MAX_PACKETS);
  if (!path || !*path) return vg_error(VG_E_INVAL, "pcap trace: give a file to write");
  if (strlen(path) >= sizeof((pcap_trace_t *)0)->path)
    return vg_error(VG_E_INVAL, "pcap trace: file name of %zu bytes is too long (at most %zu)", strlen(path),
                    sizeof((pcap_trace_t *)0)->path - 1);
  if (sw != VG_NONE && !vg_interface_get(dp, sw))
    return vg_error(VG_E_NOTFOUND, "pcap trace: no interface with sw_if_index %u", sw);
  if (dp->pcap_trace)
    return vg_error(VG_E_STATE, "pcap trace: a capture to %s is already on: turn it off first",
                    dp->pcap_trace->path);
  return 0;
}

int vg_pcap_trace_on(vg_dp_t *dp, uint32_t what, uint32_t max_packets, const char *path,
                     uint32_t sw_if_index) {
  pthread_mutex_lock(&dp->api_lock);
  int rc = check_on(dp, what, max_packets, path, sw_if_index);
  pcap_trace_t *pt = NULL;
  if (!rc && (!(pt = calloc(1, sizeof *pt)) || !(pt->recs = calloc(max_packets, sizeof *pt->recs))))
    rc = vg_error(VG_E_NOMEM, "pcap trace: room for %u packets", max_packets);
  if (!rc && (rc = vg_pcap_writer_open(path, &pt->writer)) != 0) {
    char why[256];
    snprintf(why, sizeof why, "%s", vg_last_error());
    vg_error(rc, "pcap trace: %s", why);
  }
  if (rc) {
    trace_free(pt);
  } else {
    pt->what = what;
    pt->max = max_packets;
    pt->sw_if_index = sw_if_index;
    strcpy(pt->path, path);
    vg_barrier_sync(dp);
    dp->pcap_trace = pt;
    atomic_store(&dp->pcap_capture, what);
    vg_barrier_release(dp);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

int64_t vg_pcap_trace_off(vg_dp_t *dp) {
  pthread_mutex_lock(&dp->api_lock);
  pcap_trace_t *pt = dp->pcap_trace;
  if (!pt) {
    pthread_mutex_unlock(&dp->api_lock);
    return vg_error(VG_E_STATE, "pcap trace: no capture is on");
  }
  vg_barrier_sync(dp);
  atomic_store(&dp->pcap_capture, 0);
  dp->pcap_trace = NULL;
  vg_barrier_release(dp);
  /* The graph runs on while the file is written: the records are ours now. */
  uint32_t n = atomic_load(&pt->n_reserved);
  if (n > pt->max) n = pt->max;
  int64_t written = 0;
  for (uint32_t i = 0; i < n; i++) {
    capture_rec_t *r = pt->recs[i];
    if (!r) continue;
    vg_pcap_write_frame(pt->writer, r->data, r->caplen, r->orig_len, r->ns);
    written++;
  }
  int rc = vg_pcap_writer_close(pt->writer);
  int err = errno;
  pt->writer = NULL;
  if (rc) written = vg_error(rc, "pcap trace: cannot write %s: %s", pt->path, strerror(err));
  trace_free(pt);
  pthread_mutex_unlock(&dp->api_lock);
  return written;
}

int vg_pcap_trace_status(vg_dp_t *dp, vg_pcap_trace_status_t *out) {
  pthread_mutex_lock(&dp->api_lock);
  memset(out, 0, sizeof *out);
  pcap_trace_t *pt = dp->pcap_trace;
  if (pt) {
    uint32_t n = atomic_load(&pt->n_reserved);
    out->on = 1;
    out->what = pt->what;
    out->max_packets = pt->max;
    out->captured = n < pt->max ? n : pt->max;
    out->sw_if_index = pt->sw_if_index;
    memcpy(out->path, pt->path, sizeof out->path);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return 0;
}
