/* Ping from the dataplane: vg_ip4_ping_send queues a request, the ip4-ping
 * input node (thread 0) builds it and sends it into ip4-lookup, ip4-local
 * hands each echo reply to vg_ping_reply_in, which keeps the ones that
 * answer our requests for vg_ip4_ping_replies. */
#ifndef VG_PING_H
#define VG_PING_H

#include "ip4.h"

#define VG_PING_QUEUE 64    /* requests waiting for ip4-ping (a power of 2) */
#define VG_PING_SENT 256    /* requests remembered for matching replies */
#define VG_PING_REPLIES 1024 /* replies waiting to be read */
#define VG_PING_MAX_SIZE 1472 /* ICMP payload: a 1500-byte packet */

typedef struct {
  uint32_t fib_index, dst, src, size;
  uint16_t id, seq;
} vg_ping_req_t;

typedef struct vg_ping_main {
  /* The API (under its lock: one producer) adds at tail; ip4-ping on
   * thread 0 (the one consumer) takes from head. */
  vg_ping_req_t queue[VG_PING_QUEUE];
  _Atomic uint32_t q_head, q_tail;
  uint16_t ip_id;          /* ip4-ping's only */
  /* Requests sent and replies received: ip4-ping, ip4-local on any thread
   * and the API meet here, under lock (replies are a slow path). */
  pthread_mutex_t lock;
  struct {
    uint16_t id, seq;
    uint8_t in_use;
    uint64_t sent_ns;
  } sent[VG_PING_SENT];
  uint32_t sent_next;
  vg_ping_reply_t replies[VG_PING_REPLIES];
  uint32_t r_head, r_count;
} vg_ping_main_t;

/* ip4-ping: remembers a request as it leaves. */
void vg_ping_sent(vg_ping_main_t *pm, uint16_t id, uint16_t seq, uint64_t now_ns);
/* ip4-local: an echo reply (checksum checked, total bytes of IPv4 packet);
 * returns 1 when it answers one of our requests and was recorded. */
int vg_ping_reply_in(vg_main_t *dp, const uint8_t *ip, uint32_t hl, uint32_t total);

#endif
