/* tap-input: reads the frames the host sends into each TAP device, one
 * read per frame (that is what a TAP descriptor gives), up to a frame of
 * packets per interface per call, into ethernet-input. Each read lands in
 * a buffer directly; only the part of a jumbo frame beyond the first
 * buffer is copied, from the device's spill area into a chain. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../interfaces/tap.h"

enum { NEXT_ETHERNET };

typedef struct {
  uint32_t sw_if_index;
  uint32_t length;
} tap_trace_t;

static int format_tap_trace(char *out, size_t size, const void *rec) {
  const tap_trace_t *t = rec;
  return snprintf(out, size, "  tap rx sw_if_index %u, %u bytes", t->sw_if_index, t->length);
}

static uint32_t drain(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_interface_t *itf) {
  vg_tap_dev_t *dev = itf->dev;
  uint32_t bi[VG_FRAME_SIZE], n = 0, no_buffer = 0, read_failed = 0;
  uint64_t bytes = 0;
  while (n < VG_FRAME_SIZE) {
    if (VG_UNLIKELY(vg_buffer_alloc(th, &bi[n], 1) != 1)) {
      /* Take the frame off the device anyway, so the host's queue moves. */
      if (read(dev->fd, dev->spill, VG_TAP_MAX_FRAME) > 0) no_buffer++;
      break;
    }
    vg_buffer_t *b = vg_buffer(dp, bi[n]);
    struct iovec iov[2] = {{vg_buffer_data(b), VG_BUFFER_DATA_SIZE},
                           {dev->spill, VG_TAP_MAX_FRAME - VG_BUFFER_DATA_SIZE}};
    ssize_t r = readv(dev->fd, iov, 2);
    if (r <= 0) {
      vg_buffer_free(th, &bi[n], 1);
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) read_failed++;
      break;
    }
    memset(b, 0, sizeof *b); /* only now: an idle poll costs no more than the read */
    b->sw_if_index[VG_RX] = itf->sw_if_index;
    b->sw_if_index[VG_TX] = VG_NONE;
    b->current_length = (uint16_t)(r < VG_BUFFER_DATA_SIZE ? r : VG_BUFFER_DATA_SIZE);
    if (VG_UNLIKELY(r > VG_BUFFER_DATA_SIZE) &&
        vg_buffer_append(th, bi[n], dev->spill, (uint32_t)(r - VG_BUFFER_DATA_SIZE)) != 0) {
      vg_buffer_free(th, &bi[n], 1);
      no_buffer++;
      continue;
    }
    bytes += (uint64_t)r;
    vg_trace_maybe_start(th, node, b);
    if (VG_UNLIKELY(vg_traced(b))) {
      tap_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
      *t = (tap_trace_t){itf->sw_if_index, (uint32_t)r};
    }
    n++;
  }
  if (no_buffer) vg_node_count_error(th, node, TAP_ERR_NO_BUFFER, no_buffer);
  if (read_failed) vg_node_count_error(th, node, TAP_ERR_READ, read_failed);
  if (no_buffer) vg_if_count_drop(dp, th, itf->sw_if_index, no_buffer);
  vg_input_enqueue(dp, th, node->next[NEXT_ETHERNET], bi, n);
  vg_if_count_rx(dp, th, itf->sw_if_index, n, bytes);
  return n;
}

static uint32_t tap_input_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  (void)f;
  uint32_t total = 0;
  if (th->index != 0) return 0; /* each device has one reader: the first thread */
  for (uint32_t i = 0; i < dp->n_interfaces; i++) {
    vg_interface_t *itf = dp->interfaces[i];
    if (itf && itf->admin_up && vg_tap_is(itf)) total += drain(dp, th, node, itf);
  }
  return total;
}

const vg_node_reg_t vg_node_tap_input = {
    .name = "tap-input",
    .fn = tap_input_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){"ethernet-input", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        TAP_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_tap_trace,
};
