/* What esp-encrypt and esp-decrypt share: the replay window and ESN
 * inference (RFC 4303 3.4.3 and appendix A), random IVs, and the crypto
 * steps over one packet with the SA's per-thread EVP contexts. */
#ifndef VG_ESP_H
#define VG_ESP_H

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

/* The next outbound sequence number, or 0 when the SA is exhausted: it
 * never wraps (RFC 4303 3.3.3). */
static inline uint64_t vg_esp_next_seq(vg_ipsec_sa_t *sa) {
  uint64_t last = atomic_load_explicit(&sa->seq, memory_order_relaxed);
  uint64_t limit = sa->esn ? UINT64_MAX : 0xffffffffull;
  do {
    if (VG_UNLIKELY(last >= limit)) return 0;
  } while (!atomic_compare_exchange_weak_explicit(&sa->seq, &last, last + 1, memory_order_relaxed,
                                                  memory_order_relaxed));
  return last + 1;
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

static inline void vg_esp_wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* GCM over data[0..len) in place, the nonce salt || iv, the AAD SPI and
 * sequence number (with ESN its high half between, RFC 4106 5). enc: the
 * tag is written to tag; else checked against it. Returns 1 when good. */
static inline int vg_esp_gcm(EVP_CIPHER_CTX *c, const vg_ipsec_sa_t *sa, const uint8_t *esp,
                             uint64_t seq, const uint8_t *iv, uint8_t *data, uint32_t len,
                             uint8_t *tag, int enc) {
  uint8_t nonce[12], aad[12];
  int n;
  memcpy(nonce, &sa->salt, 4);
  memcpy(nonce + 4, iv, 8);
  memcpy(aad, esp, 4);
  uint32_t aad_len = 8;
  if (sa->esn) vg_esp_wr32(aad + 4, (uint32_t)(seq >> 32)), memcpy(aad + 8, esp + 4, 4), aad_len = 12;
  else memcpy(aad + 4, esp + 4, 4);
  if (!EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, -1) ||
      !EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len))
    return 0;
  if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag)) return 0;
  if (!EVP_CipherUpdate(c, data, &n, data, (int)len) || !EVP_CipherFinal_ex(c, data + n, &n)) return 0;
  return !enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

/* The HMAC of esp[0..len), then with ESN the high half of the sequence
 * number (RFC 4303 2.2.1: in the ICV, not on the wire), from the SA's
 * keyed inner and outer digest states. */
static inline int vg_esp_hmac(vg_esp_crypto_t *x, const vg_ipsec_sa_t *sa, const uint8_t *esp, uint32_t len,
                              uint64_t seq, uint8_t out[64]) {
  unsigned n;
  uint8_t hi[4];
  vg_esp_wr32(hi, (uint32_t)(seq >> 32));
  return EVP_MD_CTX_copy_ex(x->work, x->inner) && EVP_DigestUpdate(x->work, esp, len) &&
         (!sa->esn || EVP_DigestUpdate(x->work, hi, 4)) && EVP_DigestFinal_ex(x->work, out, &n) &&
         EVP_MD_CTX_copy_ex(x->work, x->outer) && EVP_DigestUpdate(x->work, out, n) &&
         EVP_DigestFinal_ex(x->work, out, &n);
}

/* CBC over data[0..len) in place (whole blocks, no padding by OpenSSL). */
static inline int vg_esp_cbc(EVP_CIPHER_CTX *c, const uint8_t *iv, uint8_t *data, uint32_t len) {
  int n;
  return EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) && EVP_CipherUpdate(c, data, &n, data, (int)len);
}

#endif
