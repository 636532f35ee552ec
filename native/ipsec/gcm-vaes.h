/* AES-GCM for short payloads with VAES and VPCLMULQDQ (gcm-vaes.c): what
 * the intel-ipsec-mb engine runs for ESP payloads up to
 * VG_GCM_VAES_MAX_LEN bytes where the CPU has the instructions. */
#ifndef VG_GCM_VAES_H
#define VG_GCM_VAES_H

#include <stdint.h>

#define VG_GCM_VAES_MAX_LEN 256                       /* payload bytes: 16 blocks */
#define VG_GCM_VAES_POWERS (VG_GCM_VAES_MAX_LEN / 16 + 2) /* H^1 .. H^18: the data, AAD and length blocks */

typedef struct {
  _Alignas(64) uint8_t rk[15][16];           /* AES round keys */
  uint8_t hpow[VG_GCM_VAES_POWERS + 4][16];  /* H^n .. H^1 byte-reflected, then four zero blocks */
  uint32_t rounds;                           /* 10 AES-128, 14 AES-256 */
} vg_gcm_vaes_key_t;

/* Whether this CPU runs it (AVX-512 F, BW, VL, DQ, VAES, VPCLMULQDQ). */
int vg_gcm_vaes_usable(void);
/* Keys k from the expanded encryption round keys (rounds + 1 of them). */
void vg_gcm_vaes_init(vg_gcm_vaes_key_t *k, const uint8_t *round_keys, uint32_t rounds);
/* GCM with the nonce salt || iv (RFC 4106) over data[0..len) in place, len
 * at most VG_GCM_VAES_MAX_LEN, AAD of at most 16 bytes; the tag (16 bytes)
 * into tag: the ICV when encrypting, to compare when decrypting. */
void vg_gcm_vaes_crypt(const vg_gcm_vaes_key_t *k, uint32_t salt, const uint8_t iv[8], const uint8_t *aad,
                       uint32_t aad_len, uint8_t *data, uint32_t len, uint8_t tag[16], int enc);

#endif
