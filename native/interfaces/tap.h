/* TAP interfaces: a Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI)
 * created for the dataplane, the host's view of a dataplane port. The node
 * (nodes/tap-input.c) reads what the host sends into it; tap.c writes what
 * the dataplane sends out of it. */
#ifndef VG_TAP_H
#define VG_TAP_H

#include <net/if.h>

#include "../engine/vg.h"

/* The tap-input node's errors; tx errors are counted there too. */
#define TAP_ERRORS(_)                                   \
  _(NO_BUFFER, "buffer pool exhausted")                 \
  _(READ, "read failed")                                \
  _(TX_FULL, "tx queue full (write would block)")       \
  _(WRITE, "write failed")

enum {
#define _(sym, str) TAP_ERR_##sym,
  TAP_ERRORS(_)
#undef _
  TAP_N_ERRORS
};

/* Largest frame a TAP device hands over (tun's own limit). */
#define VG_TAP_MAX_FRAME 65535u

typedef struct {
  int fd;                /* non-blocking */
  char host_if[IFNAMSIZ];
  uint32_t node_index;   /* tap-input, where errors are counted */
  uint8_t *spill;        /* [VG_TAP_MAX_FRAME]: what a read brings beyond one buffer */
} vg_tap_dev_t;

int vg_tap_is(const vg_interface_t *itf);

#endif
