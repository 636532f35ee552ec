/* The loopback interface. As a bridge domain's BVI, what the routed side
 * sends out of it enters the domain (l2-input, rx = the BVI), and what the
 * domain sends to it goes to ethernet-input (l2-output). A loopback that is
 * a plain port of a domain is a sink: frames bridged to it are counted as
 * sent and freed (a port to nowhere, which benchmarks use). Outside any
 * domain it drops what it is sent, counted as drops. */
#include <stdlib.h>

#include "../engine/text.h"
#include "bridge.h"

typedef struct {
  uint32_t l2_input; /* node index, resolved once */
} loopback_dev_t;

static uint32_t loopback_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                            uint32_t n) {
  loopback_dev_t *dev = itf->dev;
  uint32_t sw = itf->sw_if_index;
  if (VG_UNLIKELY(itf->bd_index == VG_NONE)) {
    vg_if_count_drop(dp, th, sw, n);
    vg_buffer_free(th, bi, n);
    return n;
  }
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, bi[i]);
    bytes += vg_buffer_length_in_chain(b);
    b->sw_if_index[VG_RX] = sw;
  }
  vg_if_count_tx(dp, th, sw, n, bytes);
  if (itf->is_bvi) vg_enqueue(th, dev->l2_input, bi, n);
  else vg_buffer_free(th, bi, n);
  return n;
}

static void loopback_destroy(vg_main_t *dp, vg_interface_t *itf) {
  (void)dp;
  free(itf->dev);
  itf->dev = NULL;
}

static void loopback_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *t) {
  if (itf->bd_index == VG_NONE) {
    vg_text_printf(t, "  loopback, in no bridge domain: frames sent to it are dropped\n");
    return;
  }
  uint32_t bd = dp->l2->bds[itf->bd_index].bd_id;
  if (itf->is_bvi)
    vg_text_printf(t, "  loopback, BVI of bridge domain %u: frames sent to it enter the domain\n", bd);
  else
    vg_text_printf(t, "  loopback, port of bridge domain %u: a sink, frames bridged to it are freed\n", bd);
}

int vg_loopback_create(vg_dp_t *dp, const char *name) {
  loopback_dev_t *dev = calloc(1, sizeof *dev);
  if (!dev) return vg_error(VG_E_NOMEM, "loopback %s", name ? name : "");
  dev->l2_input = (uint32_t)vg_node_index(dp, "l2-input");
  int rc = vg_interface_add_device(
      dp, name, &(vg_device_t){.type = "loopback", .dev = dev, .tx = loopback_tx, .destroy = loopback_destroy,
                         .format_hw = loopback_format_hw});
  if (rc < 0) free(dev);
  return rc;
}
