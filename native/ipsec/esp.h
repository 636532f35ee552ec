/* What esp-encrypt and esp-decrypt share: the replay window and ESN
 * inference (RFC 4303 3.4.3 and appendix A), random IVs, and the crypto
 * engine (crypto.h) that takes their vectors. */
#ifndef VG_ESP_H
#define VG_ESP_H

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "crypto.h"
#include "ipsec.h"

#define VG_ESP_REPLAY_BITS (64 * VG_ESP_REPLAY_WORDS)

#if defined(__x86_64__)
#define VG_CPU_RELAX() __builtin_ia32_pause()
#else
#define VG_CPU_RELAX() ((void)0)
#endif

/* The full sequence number of a packet carrying seql: the high half is
 * inferred from the window (RFC 4303 A2.2). 0 when it would be below the
 * first (a packet from before the SA's start: too old). */
static inline uint64_t vg_esp_infer_seq(const vg_ipsec_sa_t *sa, uint32_t seql) {
  if (!sa->esn) return seql;
  uint32_t tl = (uint32_t)sa->top, th = (uint32_t)(sa->top >> 32), w = sa->window;
  uint32_t bottom = tl - w + 1; /* wraps in case B, as the RFC's arithmetic does */
  uint32_t sh;
  if (tl >= w - 1) sh = seql >= bottom ? th : th + 1; /* case A */
  else if (seql >= bottom) {                            /* case B: from before the wrap */
    if (th == 0) return 0;
    sh = th - 1;
  } else sh = th;
  return (uint64_t)sh << 32 | seql;
}

enum { VG_ESP_SEQ_OK, VG_ESP_SEQ_REPLAYED, VG_ESP_SEQ_TOO_OLD };

static inline int vg_esp_replay_bit(const vg_ipsec_sa_t *sa, uint64_t seq) {
  uint32_t pos = (uint32_t)(seq & (VG_ESP_REPLAY_BITS - 1));
  return sa->bitmap[pos >> 6] >> (pos & 63) & 1;
}

/* Whether seq may be accepted (before the ICV check, and again after it). */
static inline int vg_esp_replay_check(const vg_ipsec_sa_t *sa, uint64_t seq) {
  if (VG_UNLIKELY(seq == 0)) return VG_ESP_SEQ_TOO_OLD;
  if (!sa->anti_replay || seq > sa->top) return VG_ESP_SEQ_OK;
  if (sa->top - seq >= sa->window) return VG_ESP_SEQ_TOO_OLD;
  return vg_esp_replay_bit(sa, seq) ? VG_ESP_SEQ_REPLAYED : VG_ESP_SEQ_OK;
}

/* Moves the window to seq (after a good ICV) and marks it received. */
static inline void vg_esp_replay_update(vg_ipsec_sa_t *sa, uint64_t seq) {
  if (seq > sa->top) {
    if (seq - sa->top >= VG_ESP_REPLAY_BITS) {
      memset(sa->bitmap, 0, sizeof sa->bitmap);
    } else {
      for (uint64_t s = sa->top + 1; s <= seq;) {
        uint32_t pos = (uint32_t)(s & (VG_ESP_REPLAY_BITS - 1));
        if ((pos & 63) == 0 && seq - s >= 63) {
          sa->bitmap[pos >> 6] = 0;
          s += 64;
        } else {
          sa->bitmap[pos >> 6] &= ~(1ull << (pos & 63));
          s++;
        }
      }
    }
    sa->top = seq;
  }
  uint32_t pos = (uint32_t)(seq & (VG_ESP_REPLAY_BITS - 1));
  sa->bitmap[pos >> 6] |= 1ull << (pos & 63);
}

/* Threads share an SA's window only when there are several. */
static inline void vg_esp_lock(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  if (dp->n_threads > 1)
    while (atomic_flag_test_and_set_explicit(&sa->lock, memory_order_acquire)) VG_CPU_RELAX();
}
static inline void vg_esp_unlock(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  if (dp->n_threads > 1) atomic_flag_clear_explicit(&sa->lock, memory_order_release);
}

/* Claims up to n outbound sequence numbers with one atomic operation:
 * the first in *first, how many returned (fewer than n, or none, when the
 * SA reaches its last: it never wraps, RFC 4303 3.3.3). */
static inline uint32_t vg_esp_claim_seqs(vg_ipsec_sa_t *sa, uint32_t n, uint64_t *first) {
  uint64_t last = atomic_load_explicit(&sa->seq, memory_order_relaxed);
  uint64_t limit = sa->esn ? UINT64_MAX : 0xffffffffull, take;
  do {
    take = limit - last < n ? limit - last : n;
    if (VG_UNLIKELY(!take)) return 0;
  } while (!atomic_compare_exchange_weak_explicit(&sa->seq, &last, last + take, memory_order_relaxed,
                                                  memory_order_relaxed));
  *first = last + 1;
  return (uint32_t)take;
}

static inline const uint8_t *vg_esp_random_iv(vg_esp_rng_t *r) {
  if (VG_UNLIKELY(r->used + 16 > sizeof r->bytes)) {
    if (RAND_bytes(r->bytes, (int)sizeof r->bytes) != 1) return NULL;
    r->used = 0;
  }
  const uint8_t *iv = r->bytes + r->used;
  r->used += 16;
  return iv;
}

/* A big-endian word in one store (byte stores cost esp-encrypt's headers
 * a store each). */
static inline void vg_esp_wr32(uint8_t *p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
}

#endif
