/* L2 bridging: bridge domains and the L2 FIB shared by the l2-* nodes.
 *
 * The FIB is one open-addressing hash table for every domain, keyed by
 * (domain index, MAC). A lookup is a multiply, a shift and a linear probe
 * over 16-byte slots (four to a cache line), so a hit usually costs one
 * cache line. Dataplane threads read it without locks: an entry is two
 * 64-bit words stored atomically, value before key when it is created.
 * Writers (learning, aging, the API) serialise on write_lock; a reader that
 * races a delete may miss an entry and flood that one frame, which L2 allows.
 */
#ifndef VG_L2_BRIDGE_H
#define VG_L2_BRIDGE_H

#include <string.h>

#include "../engine/vg.h"

#define VG_L2_MAX_BD 4096

typedef struct {
  uint32_t bd_id;
  uint8_t in_use, learn, flood, uu_flood;
  uint32_t mac_age;   /* seconds, 0 = never */
  uint32_t mac_limit; /* learned (dynamic) entries */
  uint32_t n_learned;
  uint32_t *ports;    /* sw_if_index of each member, the BVI included */
  uint32_t n_ports, cap_ports;
} vg_bd_t;

/* key: (bd_index + 1) << 48 | MAC (0 = empty slot).
 * val: sw_if_index | last seen second << 32 | static << 63. */
typedef struct {
  uint64_t key, val;
} vg_l2fib_entry_t;

#define VG_L2FIB_STATIC (1ull << 63)
#define VG_L2FIB_SEEN_SHIFT 32
#define VG_L2FIB_MIN_SLOTS (1u << 17) /* 2 MB: one huge page */
#define VG_L2FIB_MAX_SLOTS (1u << 24)

typedef struct vg_l2_main {
  vg_bd_t bds[VG_L2_MAX_BD];
  uint32_t n_bds;            /* highest index in use + 1 */
  vg_l2fib_entry_t *fib;
  uint32_t fib_slots;        /* power of two */
  uint32_t fib_shift;        /* 64 - log2(fib_slots) */
  uint32_t n_entries;
  pthread_mutex_t write_lock;
  uint64_t epoch_ns;         /* time zero of the "seen" seconds */
  uint32_t age_cursor;       /* next slot the age scan looks at */
  uint64_t next_age_ns;
  uint32_t l2_input_node;    /* where a BVI's transmitted frames enter */
} vg_l2_main_t;

/* Per-packet state in b->opaque while a frame is inside a domain. */
typedef struct {
  uint32_t bd_index;
  uint8_t shg; /* split-horizon group of the rx port */
  uint8_t pad[11];
} vg_l2_opaque_t;
_Static_assert(sizeof(vg_l2_opaque_t) <= sizeof(((vg_buffer_t *)0)->opaque), "fits opaque");

static inline vg_l2_opaque_t *vg_l2_opaque(vg_buffer_t *b) { return (vg_l2_opaque_t *)b->opaque; }

/* The MAC's 6 bytes as the low bytes of a word (the keys assume a
 * little-endian host, as fib_format does). Two loads joined in registers:
 * copying 6 bytes into a zeroed word and reading it back whole stalls on
 * store forwarding, which was half of l2-learn's and l2-fwd's time. */
static inline uint64_t vg_l2_mac(const uint8_t *p) {
  uint32_t lo;
  uint16_t hi;
  memcpy(&lo, p, 4);
  memcpy(&hi, p + 4, 2);
  return (uint64_t)hi << 32 | lo;
}

static inline uint64_t vg_l2fib_key(uint32_t bd_index, uint64_t mac) {
  return (uint64_t)(bd_index + 1) << 48 | mac;
}

static inline uint32_t vg_l2fib_hash(const vg_l2_main_t *l2, uint64_t key) {
  return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> l2->fib_shift);
}

static inline vg_l2fib_entry_t *vg_l2fib_slot(const vg_l2_main_t *l2, uint64_t key) {
  return &l2->fib[vg_l2fib_hash(l2, key)];
}

/* The entry for key, or NULL. Probes until an empty slot. */
static inline vg_l2fib_entry_t *vg_l2fib_lookup(const vg_l2_main_t *l2, uint64_t key) {
  uint32_t mask = l2->fib_slots - 1, i = vg_l2fib_hash(l2, key);
  for (;; i = (i + 1) & mask) {
    uint64_t k = __atomic_load_n(&l2->fib[i].key, __ATOMIC_ACQUIRE);
    if (VG_LIKELY(k == key)) return &l2->fib[i];
    if (!k) return NULL;
  }
}

static inline uint64_t vg_l2fib_val(const vg_l2fib_entry_t *e) {
  return __atomic_load_n(&e->val, __ATOMIC_RELAXED);
}

static inline uint32_t vg_l2_now(const vg_l2_main_t *l2) {
  return (uint32_t)((vg_time_ns() - l2->epoch_ns) / 1000000000u);
}

/* Learning from a dataplane thread. Returns 0, or 1 when the domain is at
 * its mac-limit, 2 when the table is full. */
int vg_l2fib_learn(vg_l2_main_t *l2, uint32_t bd_index, uint64_t mac, uint32_t sw_if_index,
                   uint32_t now);
/* One bounded step of the age scan (thread 0, from the l2-age node). */
void vg_l2fib_age_step(vg_l2_main_t *l2, uint32_t now, uint32_t max_slots);

#endif
