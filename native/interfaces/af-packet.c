/* The af_packet interface: one AF_PACKET socket bound to the host interface
 * with mmapped TPACKET_V3 rx and tx rings (kernel >= 4.11 for V3 tx).
 *
 * Why V3 for tx too: PACKET_VERSION is per socket, so V2 tx would need a
 * second socket (and a second bind, promisc membership and ring mapping)
 * for no gain: V3 tx frames are fixed-size slots just like V2's, and every
 * kernel the supported boards run is newer than 4.11.
 *
 * The interface keeps the MAC the interface table gave it: the dataplane is
 * its own station on the wire behind the host NIC, as VPP's host-interface
 * is, so the socket is made promiscuous instead of borrowing the host MAC. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../engine/text.h"
#include "af-packet.h"

#ifndef PACKET_QDISC_BYPASS
#define PACKET_QDISC_BYPASS 20
#endif
#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* Frame data in a V3 tx slot starts after the aligned header; the kernel
 * reads it there when PACKET_TX_HAS_OFF is off (tp_hdrlen - sockaddr_ll). */
#define TX_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
/* rx blocks: V3 packs packets of any size up to a block, so a 64 KB block
 * holds 32 full-size frames or seven 9000-byte ones. */
#define RX_BLOCK_SIZE (64u << 10)
#define RX_NOMINAL_FRAME 2048u
/* A block the kernel has begun filling is handed to us after this many ms
 * even when not full; the kernel's default for a link of unknown speed is
 * 8 ms, too much latency for a gateway. */
#define RX_RETIRE_MS 1
/* Room for two VLAN tags on top of the host MTU and the Ethernet header. */
#define L2_OVERHEAD (14u + 8u)

typedef struct {
  uint64_t rx_frames, tx_frames, qdisc_bypass;
} af_packet_opts_t;

static int parse_options(const char *name, const char *options, af_packet_opts_t *o) {
  char what[96];
  snprintf(what, sizeof what, "af_packet %s options", name);
  *o = (af_packet_opts_t){.rx_frames = 2048, .tx_frames = 1024, .qdisc_bypass = 1};
  const char *cur = options ? options : "";
  vg_kv_t kv;
  int rc;
  while ((rc = vg_kv_next(&cur, &kv, what)) == 1) {
    uint64_t *dst, lo, hi;
    if (vg_kv_is(&kv, "rx-frames")) dst = &o->rx_frames, lo = 64, hi = 1u << 20;
    else if (vg_kv_is(&kv, "tx-frames")) dst = &o->tx_frames, lo = 16, hi = 1u << 20;
    else if (vg_kv_is(&kv, "qdisc-bypass")) dst = &o->qdisc_bypass, lo = 0, hi = 1;
    else
      return vg_error(VG_E_INVAL, "af_packet %s: unknown option '%.*s' (rx-frames, tx-frames, "
                      "qdisc-bypass)", name, (int)kv.key_len, kv.key);
    if (vg_parse_u64(kv.val, kv.val_len, 1, dst) != 0 || *dst < lo || *dst > hi)
      return vg_error(VG_E_INVAL, "af_packet %s: %.*s=%.*s: expected %llu..%llu", name,
                      (int)kv.key_len, kv.key, (int)kv.val_len, kv.val, (unsigned long long)lo,
                      (unsigned long long)hi);
  }
  return rc;
}

static void dev_free(vg_af_packet_dev_t *dev) {
  if (!dev) return;
  if (dev->ring) munmap(dev->ring, dev->ring_size);
  if (dev->fd >= 0) close(dev->fd);
  pthread_mutex_destroy(&dev->tx_lock);
  free(dev);
}

static int sockopt(vg_af_packet_dev_t *dev, const char *name, int opt, const void *val,
                   socklen_t len, const char *what) {
  if (setsockopt(dev->fd, SOL_PACKET, opt, val, len) == 0) return 0;
  return vg_error(VG_E_IO, "af_packet %s: %s on %s: %s", name, what, dev->host_if, strerror(errno));
}

static int host_if_up(vg_af_packet_dev_t *dev, const char *name, uint32_t *mtu) {
  struct ifreq ifr = {0};
  memcpy(ifr.ifr_name, dev->host_if, sizeof dev->host_if);
  if (ioctl(dev->fd, SIOCGIFMTU, &ifr) != 0)
    return vg_error(VG_E_IO, "af_packet %s: cannot read the MTU of %s: %s", name, dev->host_if,
                    strerror(errno));
  *mtu = (uint32_t)ifr.ifr_mtu;
  if (ioctl(dev->fd, SIOCGIFFLAGS, &ifr) != 0)
    return vg_error(VG_E_IO, "af_packet %s: cannot read the flags of %s: %s", name, dev->host_if,
                    strerror(errno));
  if (ifr.ifr_flags & IFF_UP) return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(dev->fd, SIOCSIFFLAGS, &ifr) != 0)
    return vg_error(VG_E_IO, "af_packet %s: cannot bring %s up: %s", name, dev->host_if,
                    strerror(errno));
  return 0;
}

/* Sizes both rings: rx in 64 KB blocks, tx in slots that hold a frame of the
 * host MTU (2 KB for 1500, whole pages for jumbo frames). */
static int setup_rings(vg_af_packet_dev_t *dev, const char *name, const af_packet_opts_t *o,
                       uint32_t host_mtu) {
  uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
  uint32_t rx_block = RX_BLOCK_SIZE > page ? RX_BLOCK_SIZE : page;
  uint32_t rx_fpb = rx_block / RX_NOMINAL_FRAME;
  dev->rx_block_size = rx_block;
  dev->rx_n_blocks = (uint32_t)((o->rx_frames + rx_fpb - 1) / rx_fpb);
  struct tpacket_req3 rx = {
      .tp_block_size = rx_block,
      .tp_block_nr = dev->rx_n_blocks,
      .tp_frame_size = RX_NOMINAL_FRAME,
      .tp_frame_nr = dev->rx_n_blocks * rx_fpb,
      .tp_retire_blk_tov = RX_RETIRE_MS,
  };
  uint32_t need = (uint32_t)TX_DATA_OFF + host_mtu + L2_OVERHEAD;
  uint32_t frame = need <= 2048 ? 2048 : (need + page - 1) / page * page;
  uint32_t tx_block = frame > page ? frame : page;
  uint32_t tx_fpb = tx_block / frame;
  uint32_t tx_blocks = (uint32_t)((o->tx_frames + tx_fpb - 1) / tx_fpb);
  dev->tx_frame_size = frame;
  dev->tx_n_frames = tx_blocks * tx_fpb;
  dev->tx_max_len = frame - (uint32_t)TX_DATA_OFF;
  if (dev->tx_max_len > host_mtu + L2_OVERHEAD) dev->tx_max_len = host_mtu + L2_OVERHEAD;
  /* V3 tx rings take no retire timer or private area. */
  struct tpacket_req3 tx = {
      .tp_block_size = tx_block,
      .tp_block_nr = tx_blocks,
      .tp_frame_size = frame,
      .tp_frame_nr = dev->tx_n_frames,
  };
  int rc = sockopt(dev, name, PACKET_RX_RING, &rx, sizeof rx, "PACKET_RX_RING");
  if (!rc) rc = sockopt(dev, name, PACKET_TX_RING, &tx, sizeof tx, "PACKET_TX_RING");
  if (rc) return rc;
  size_t rx_size = (size_t)rx_block * dev->rx_n_blocks;
  dev->ring_size = rx_size + (size_t)tx_block * tx_blocks;
  void *ring = mmap(NULL, dev->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, 0);
  if (ring == MAP_FAILED)
    return vg_error(VG_E_NOMEM, "af_packet %s: cannot map %zu bytes of rings for %s: %s", name,
                    dev->ring_size, dev->host_if, strerror(errno));
  dev->ring = ring;
  dev->rx = dev->ring;
  dev->tx = dev->ring + rx_size;
  return 0;
}

/* Socket, version, rings, then bind: nothing is received before the rings
 * exist (protocol 0 until bind), so no packet lands in a socket buffer. */
static int open_socket(vg_af_packet_dev_t *dev, const char *name, const af_packet_opts_t *o) {
  dev->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (dev->fd < 0)
    return vg_error(VG_E_IO, "af_packet %s: cannot open an AF_PACKET socket: %s", name,
                    strerror(errno));
  uint32_t mtu = 0;
  int rc = host_if_up(dev, name, &mtu);
  dev->host_mtu = mtu;
  dev->qdisc_bypass = (uint8_t)o->qdisc_bypass;
  int v3 = TPACKET_V3, one = 1, bypass = (int)o->qdisc_bypass;
  if (!rc) rc = sockopt(dev, name, PACKET_VERSION, &v3, sizeof v3, "PACKET_VERSION TPACKET_V3");
  /* A malformed tx frame is skipped instead of stopping the ring. */
  if (!rc) rc = sockopt(dev, name, PACKET_LOSS, &one, sizeof one, "PACKET_LOSS");
  if (!rc && bypass)
    rc = sockopt(dev, name, PACKET_QDISC_BYPASS, &bypass, sizeof bypass, "PACKET_QDISC_BYPASS");
  /* Our own tx would otherwise come back on rx (kernel >= 4.20; older ones
   * are covered by the PACKET_OUTGOING check in the input node). */
  if (!rc && setsockopt(dev->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 &&
      errno != ENOPROTOOPT)
    rc = vg_error(VG_E_IO, "af_packet %s: PACKET_IGNORE_OUTGOING: %s", name, strerror(errno));
  if (!rc) rc = setup_rings(dev, name, o, mtu);
  if (rc) return rc;
  struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                            .sll_protocol = htons(ETH_P_ALL),
                            .sll_ifindex = dev->ifindex};
  if (bind(dev->fd, (struct sockaddr *)&sll, sizeof sll) != 0)
    return vg_error(VG_E_IO, "af_packet %s: cannot bind to %s: %s", name, dev->host_if,
                    strerror(errno));
  struct packet_mreq mr = {.mr_ifindex = dev->ifindex, .mr_type = PACKET_MR_PROMISC};
  return sockopt(dev, name, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr, "promiscuous membership");
}

static inline struct tpacket3_hdr *tx_slot(vg_af_packet_dev_t *dev, uint32_t i) {
  return (struct tpacket3_hdr *)(dev->tx + (size_t)i * dev->tx_frame_size);
}

/* Fills a slot per packet, then one sendto() kicks the kernel for the whole
 * vector. A full ring drops the rest: the dataplane never blocks. */
static uint32_t af_packet_tx(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                             uint32_t n) {
  vg_af_packet_dev_t *dev = itf->dev;
  uint32_t sent = 0, too_big = 0, full = 0;
  uint64_t bytes = 0;
  pthread_mutex_lock(&dev->tx_lock);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t len = vg_buffer_length_in_chain(vg_buffer(dp, bi[i]));
    if (VG_UNLIKELY(len > dev->tx_max_len)) {
      too_big++;
      continue;
    }
    struct tpacket3_hdr *h = tx_slot(dev, dev->tx_next);
    uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (VG_UNLIKELY(st != TP_STATUS_AVAILABLE && st != TP_STATUS_WRONG_FORMAT)) {
      full = n - i;
      break;
    }
    vg_buffer_copy_out(dp, bi[i], (uint8_t *)h + TX_DATA_OFF, len);
    h->tp_len = h->tp_snaplen = len;
    h->tp_next_offset = 0; /* V3 tx refuses variable-size slots */
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    dev->tx_next = dev->tx_next + 1 == dev->tx_n_frames ? 0 : dev->tx_next + 1;
    sent++;
    bytes += len;
  }
  /* A failed kick leaves the frames queued: the next one sends them. */
  int kick_failed = sent && sendto(dev->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
                    errno != EAGAIN && errno != ENOBUFS;
  dev->tx_ring_full += full;
  dev->tx_too_big += too_big;
  pthread_mutex_unlock(&dev->tx_lock);
  vg_node_t *node = &dp->nodes[dev->node_index];
  if (too_big) vg_node_count_error(th, node, AF_PACKET_ERR_TX_TOO_BIG, too_big);
  if (full) vg_node_count_error(th, node, AF_PACKET_ERR_TX_RING_FULL, full);
  if (kick_failed) vg_node_count_error(th, node, AF_PACKET_ERR_TX_KICK, 1);
  if (too_big + full) vg_if_count_drop(dp, th, itf->sw_if_index, too_big + full);
  vg_if_count_tx(dp, th, itf->sw_if_index, sent, bytes);
  vg_buffer_free(th, bi, n);
  return n;
}

static void af_packet_destroy(vg_main_t *dp, vg_interface_t *itf) {
  (void)dp;
  dev_free(itf->dev);
  itf->dev = NULL;
}

int vg_af_packet_is(const vg_interface_t *itf) { return itf->destroy == af_packet_destroy; }

static void af_packet_format_hw(vg_main_t *dp, vg_interface_t *itf, vg_text_t *t) {
  (void)dp;
  vg_af_packet_dev_t *dev = itf->dev;
  struct tpacket_stats_v3 st = {0};
  socklen_t len = sizeof st;
  int have_stats = getsockopt(dev->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0;
  if (have_stats) {
    dev->kernel_packets += st.tp_packets;
    dev->kernel_drops += st.tp_drops;
    dev->kernel_freezes += st.tp_freeze_q_cnt;
  }
  vg_text_printf(t, "  host interface %s, ifindex %d, mtu %u\n", dev->host_if, dev->ifindex, dev->host_mtu);
  vg_text_printf(t, "  rx ring: %u blocks of %u KB, blocks retired after %u ms, read from block %u\n",
                 dev->rx_n_blocks, dev->rx_block_size >> 10, RX_RETIRE_MS, dev->rx_block);
  vg_text_printf(t, "  tx ring: %u frames of %u bytes (frames up to %u bytes), qdisc bypass %s\n",
                 dev->tx_n_frames, dev->tx_frame_size, dev->tx_max_len, dev->qdisc_bypass ? "on" : "off");
  if (have_stats)
    vg_text_printf(t, "  kernel rx: %llu packets, %llu dropped (rx ring full), %llu queue freezes\n",
                   (unsigned long long)dev->kernel_packets, (unsigned long long)dev->kernel_drops,
                   (unsigned long long)dev->kernel_freezes);
  else
    vg_text_printf(t, "  kernel rx: statistics unavailable (%s)\n", strerror(errno));
  vg_text_printf(t, "  tx drops: %llu (tx ring full), %llu (too big for a slot)\n",
                 (unsigned long long)dev->tx_ring_full, (unsigned long long)dev->tx_too_big);
}

int vg_af_packet_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options) {
  if (!name || !*name) return vg_error(VG_E_INVAL, "af_packet: the interface needs a name");
  if (!host_if || !*host_if || strlen(host_if) >= IFNAMSIZ)
    return vg_error(VG_E_INVAL, "af_packet %s: host interface name must be 1..%d characters",
                    name, IFNAMSIZ - 1);
  af_packet_opts_t o;
  int rc = parse_options(name, options, &o);
  if (rc) return rc;
  int ifindex = (int)if_nametoindex(host_if);
  if (!ifindex)
    return vg_error(VG_E_NOTFOUND, "af_packet %s: host interface %s does not exist", name,
                    host_if);
  vg_af_packet_dev_t *dev = calloc(1, sizeof *dev);
  if (!dev) return vg_error(VG_E_NOMEM, "af_packet %s", name);
  dev->fd = -1;
  pthread_mutex_init(&dev->tx_lock, NULL);
  dev->ifindex = ifindex;
  strcpy(dev->host_if, host_if);
  dev->node_index = (uint32_t)vg_node_index(dp, "af-packet-input");
  rc = open_socket(dev, name, &o);
  if (rc) {
    dev_free(dev);
    return rc;
  }
  rc = vg_interface_add_device(dp, name, &(vg_device_t){.type = "af_packet", .dev = dev, .tx = af_packet_tx,
                                                       .destroy = af_packet_destroy,
                                                       .format_hw = af_packet_format_hw,
                                                       .input_node = "af-packet-input",
                                                       .host_if = dev->host_if});
  if (rc < 0) dev_free(dev);
  return rc;
}
