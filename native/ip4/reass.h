/* IPv4 reassembly state for datagrams addressed to the box itself (the
 * node is nodes/ip4-reassembly.c).
 *
 * Each dataplane thread has its own table, so the packet path takes no
 * lock: the fragments of one datagram arrive on one queue, because NICs
 * and the kernel's af_packet fanout hash a fragment by its addresses only
 * (a non-first fragment has no ports). A datagram whose fragments were
 * split over two threads times out on both.
 *
 * A table is a preallocated array of contexts (calloc'd, so pages nobody
 * touched cost nothing), a hash of them by (src, dst, protocol, id, VRF)
 * with a per-dataplane random seed (an attacker cannot aim every key at
 * one bucket), a free list, and an age list oldest first: every context
 * lives for the same timeout, so creation order is expiry order and
 * expiring looks only at the head. */
#ifndef VG_IP4_REASS_H
#define VG_IP4_REASS_H

#include "../engine/vg.h"

#define VG_REASS_MAX_FRAGMENTS 64      /* per datagram */
#define VG_REASS_DEFAULT_MAX 1024      /* concurrent datagrams per thread */
#define VG_REASS_DEFAULT_TIMEOUT_MS 2000

typedef struct {
  uint32_t src, dst, fib_index;
  uint16_t id;
  uint8_t proto;
} vg_reass_key_t;

typedef struct {
  uint32_t bi;         /* the fragment's head buffer, current data at its IPv4 header */
  uint16_t start, end; /* the datagram data bytes it carries: [start, end) */
} vg_reass_frag_t;

typedef struct {
  vg_reass_key_t key;
  uint8_t n_frags;
  uint8_t has_end;     /* the last fragment (MF clear) came: end is known */
  uint32_t end;        /* data bytes of the whole datagram (header not counted) */
  uint32_t held;       /* data bytes held: complete when has_end and held == end */
  uint32_t n_buffers;  /* buffers held, chains counted whole */
  uint32_t hash_next;  /* in the bucket, or in the free list */
  uint32_t older, newer;
  uint64_t deadline_ns;
  vg_reass_frag_t frags[VG_REASS_MAX_FRAGMENTS]; /* sorted by start, never overlapping */
} vg_reass_t;

typedef struct {
  vg_reass_t *ctx;       /* [max] */
  uint32_t *buckets;     /* [mask + 1]: first context of each, or VG_NONE */
  uint32_t mask;
  uint32_t n_touched;    /* ctx[n_touched..] were never used: taken before the free list */
  uint32_t free_list;
  uint32_t oldest, newest;
  uint32_t n_active;
  uint32_t n_buffers;    /* held by every context of this table */
} __attribute__((aligned(VG_CACHE_LINE))) vg_reass_table_t;

typedef struct vg_ip4_reass_main {
  uint32_t max;          /* contexts per thread */
  uint32_t max_buffers;  /* buffers one thread may hold: a quarter of the pool, shared out */
  uint64_t seed;
  uint64_t timeout_ns;
  vg_reass_table_t *tables; /* [n_threads] */
} vg_ip4_reass_main_t;

/* Called by vg_dp_create once the threads and the pool exist. */
int vg_ip4_reass_init(vg_main_t *dp, uint32_t max, uint32_t timeout_ms);
/* Frees every held fragment (into the threads' caches) and the tables:
 * before the threads are freed. */
void vg_ip4_reass_free(vg_main_t *dp);
/* Buffers held by reassembly now, all threads (fuzz and test accounting;
 * the threads must be stopped). */
uint32_t vg_ip4_reass_buffers_held(vg_main_t *dp);

/* The context of key k, made (empty, deadline now + timeout) when there is
 * none; NULL when every context is in use. */
vg_reass_t *vg_reass_get(vg_ip4_reass_main_t *rm, vg_reass_table_t *t, const vg_reass_key_t *k,
                         uint64_t now_ns);
/* Gives a context back; its buffers are the caller's. */
void vg_reass_release(vg_ip4_reass_main_t *rm, vg_reass_table_t *t, vg_reass_t *r);

#endif
