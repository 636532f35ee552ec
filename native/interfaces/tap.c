/* The tap interface: creates the Linux TAP device host_if and owns its
 * file descriptor. Frames the dataplane sends out appear on the host as
 * received on host_if; frames the host sends out of host_if are read by
 * tap-input. Closing the descriptor removes the device, so deleting the
 * interface leaves nothing behind on the host. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../engine/text.h"
#include "tap.h"

#define MAX_SEGMENTS (VG_TAP_MAX_FRAME / VG_BUFFER_DATA_SIZE + 2)

static void dev_free(vg_tap_dev_t *dev) {
  if (!dev) return;
  if (dev->fd >= 0) close(dev->fd);
  free(dev->spill);
  free(dev);
}

/* One write per packet: a TAP descriptor takes exactly one frame per call.
 * A chain goes out as one writev. */
static uint32_t tap_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                       uint32_t n) {
  vg_tap_dev_t *dev = itf->dev;
  uint32_t sent = 0, full = 0, failed = 0;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    struct iovec iov[MAX_SEGMENTS];
    int k = 0;
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    uint32_t len = vg_buffer_length_in_chain(b);
    for (;;) {
      iov[k++] = (struct iovec){vg_buffer_current(b), b->current_length};
      if (!(b->flags & VG_BUF_NEXT_PRESENT) || k == MAX_SEGMENTS) break;
      b = vg_buffer(dp, b->next_buffer);
    }
    ssize_t w = writev(dev->fd, iov, k);
    if (VG_LIKELY(w == (ssize_t)len)) {
      sent++;
      bytes += len;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      full++;
    } else {
      failed++;
    }
  }
  vg_node_t *node = &dp->nodes[dev->node_index];
  if (full) vg_node_count_error(th, node, TAP_ERR_TX_FULL, full);
  if (failed) vg_node_count_error(th, node, TAP_ERR_WRITE, failed);
  if (full + failed) vg_if_count_drop(dp, th, itf->sw_if_index, full + failed);
  vg_if_count_tx(dp, th, itf->sw_if_index, sent, bytes);
  vg_buffer_free(th, bi, n);
  return n;
}

static void tap_destroy(vg_main_t *dp, vg_interface_t *itf) {
  (void)dp;
  dev_free(itf->dev);
  itf->dev = NULL;
}

int vg_tap_is(const vg_interface_t *itf) { return itf->destroy == tap_destroy; }

static void tap_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *t) {
  (void)dp;
  vg_tap_dev_t *dev = itf->dev;
  vg_text_printf(t, "  host device %s (TAP), ifindex %u, fd %d\n", dev->host_if,
                 if_nametoindex(dev->host_if), dev->fd);
}

static int host_if_up(const char *name, const char *host_if) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return vg_error(VG_E_IO, "tap %s: cannot open a control socket: %s", name, strerror(errno));
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, host_if);
  int rc = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
      (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) != 0))
    rc = vg_error(VG_E_IO, "tap %s: cannot bring %s up: %s", name, host_if, strerror(errno));
  close(s);
  return rc;
}

static int open_tap(vg_tap_dev_t *dev, const char *name) {
  dev->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (dev->fd < 0)
    return vg_error(VG_E_IO, "tap %s: cannot open /dev/net/tun: %s", name, strerror(errno));
  struct ifreq ifr = {0};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strcpy(ifr.ifr_name, dev->host_if);
  if (ioctl(dev->fd, TUNSETIFF, &ifr) != 0)
    return vg_error(errno == EBUSY ? VG_E_EXISTS : VG_E_IO,
                    "tap %s: cannot create TAP device %s: %s", name, dev->host_if,
                    errno == EINVAL ? "a host interface of another kind has that name"
                                    : strerror(errno));
  return host_if_up(name, dev->host_if);
}

int vg_tap_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options) {
  if (!name || !*name) return vg_error(VG_E_INVAL, "tap: the interface needs a name");
  if (!host_if || !*host_if || strlen(host_if) >= IFNAMSIZ)
    return vg_error(VG_E_INVAL, "tap %s: host interface name must be 1..%d characters", name,
                    IFNAMSIZ - 1);
  char what[96];
  snprintf(what, sizeof what, "tap %s options", name);
  const char *cur = options ? options : "";
  vg_kv_t kv;
  int rc = vg_kv_next(&cur, &kv, what);
  if (rc < 0) return rc;
  if (rc == 1)
    return vg_error(VG_E_INVAL, "tap %s: unknown option '%.*s' (tap takes none yet)", name,
                    (int)kv.key_len, kv.key);
  vg_tap_dev_t *dev = calloc(1, sizeof *dev);
  if (dev) dev->spill = malloc(VG_TAP_MAX_FRAME);
  if (!dev || !dev->spill) {
    if (dev) free(dev);
    return vg_error(VG_E_NOMEM, "tap %s", name);
  }
  dev->fd = -1;
  strcpy(dev->host_if, host_if);
  dev->node_index = (uint32_t)vg_node_index(dp, "tap-input");
  rc = open_tap(dev, name);
  if (rc) {
    dev_free(dev);
    return rc;
  }
  rc = vg_interface_add_device(dp, name, &(vg_device_t){.type = "tap", .dev = dev, .tx = tap_tx,
                                                       .destroy = tap_destroy, .format_hw = tap_format_hw,
                                                       .input_node = "tap-input",
                                                       .host_if = dev->host_if});
  if (rc < 0) dev_free(dev);
  return rc;
}
