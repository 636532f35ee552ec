/* AF_PACKET interfaces: a Linux NIC or veth end owned through one packet
 * socket with mmapped TPACKET_V3 rx and tx rings. The node
 * (nodes/af-packet-input.c) drains the rx ring; af-packet.c builds the
 * socket and rings and fills the tx ring. */
#ifndef VG_AF_PACKET_H
#define VG_AF_PACKET_H

#include <net/if.h>

#include "../engine/vg.h"

/* The af-packet-input node's errors; tx errors are counted there too, since
 * the tx function runs without a node of its own. */
#define AF_PACKET_ERRORS(_)                                   \
  _(TRUNCATED, "frame truncated by the ring (snaplen)")      \
  _(NO_BUFFER, "buffer pool exhausted")                       \
  _(TX_RING_FULL, "tx ring full")                             \
  _(TX_TOO_BIG, "frame larger than a tx ring slot")           \
  _(TX_KICK, "tx kick (sendto) failed")

enum {
#define _(sym, str) AF_PACKET_ERR_##sym,
  AF_PACKET_ERRORS(_)
#undef _
  AF_PACKET_N_ERRORS
};

typedef struct {
  int fd;
  int ifindex;
  char host_if[IFNAMSIZ];
  uint8_t *ring;          /* rx blocks, then tx frames, one mapping */
  size_t ring_size;
  /* rx: blocks the kernel fills and hands over with TP_STATUS_USER */
  uint8_t *rx;
  uint32_t rx_block_size, rx_n_blocks;
  uint32_t rx_block;      /* block being drained */
  uint32_t rx_left;       /* packets of that block not taken yet (0: not started) */
  uint32_t rx_offset;     /* offset in the block of the next packet */
  /* tx: fixed frames, each TP_STATUS_AVAILABLE or owned by the kernel */
  uint8_t *tx;
  uint32_t tx_frame_size, tx_n_frames;
  uint32_t tx_next;
  uint32_t tx_max_len;    /* largest frame a tx slot (and the host MTU) takes */
  pthread_mutex_t tx_lock; /* several workers may send out of one interface */
  uint32_t node_index;    /* af-packet-input, where errors are counted */
  /* for vg_interface_format_hw */
  uint32_t host_mtu;
  uint8_t qdisc_bypass;
  uint64_t tx_ring_full, tx_too_big;           /* frames dropped, under tx_lock */
  uint64_t kernel_packets, kernel_drops, kernel_freezes; /* PACKET_STATISTICS, summed
                                                          * (the kernel zeroes them as read) */
} vg_af_packet_dev_t;

int vg_af_packet_is(const vg_interface_t *itf);

#endif
