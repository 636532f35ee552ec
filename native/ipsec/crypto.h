/* ESP crypto engines: what esp-encrypt and esp-decrypt ask of a crypto
 * library, so the nodes carry no library-specific code. An engine keys an
 * SA once when it is added (the key schedule shared read-only by the
 * threads, or per-thread contexts where the library needs them) and then
 * takes a whole vector of packets at a time, which lets a multi-buffer
 * library work on several packets at once. Two engines: OpenSSL EVP
 * (every architecture) and Intel's intel-ipsec-mb (x86-64, when the build
 * found it: VG_HAVE_IPSEC_MB), preferred where it is built in. */
#ifndef VG_IPSEC_CRYPTO_H
#define VG_IPSEC_CRYPTO_H

#include "ipsec.h"

enum { VG_ESP_OP_OK, VG_ESP_OP_BAD_ICV, VG_ESP_OP_FAILED };

/* One packet's crypto. esp: the ESP header (SPI, sequence number) and the
 * IV after it; data: len bytes right after the IV, en/decrypted in place;
 * the ICV follows data (written on encrypt, checked on decrypt in constant
 * time). seq: the full sequence number (ESN: its high half goes in the
 * ICV, RFC 4303 2.2.1, or the GCM AAD, RFC 4106 5). */
typedef struct {
  vg_ipsec_sa_t *sa;
  uint8_t *esp, *data;
  uint32_t len;
  uint32_t status;            /* out: VG_ESP_OP_* */
  uint64_t seq;
  uint8_t icv[VG_ESP_MAX_ICV]; /* engine scratch: the received ICV */
  uint8_t mac[64];             /* engine scratch: the computed one */
} vg_esp_op_t;

typedef struct vg_esp_engine {
  const char *name;
  /* Per-dataplane state (per-thread library state); vg_error when it fails. */
  int (*init)(vg_main_t *dp, vg_ipsec_main_t *im);
  void (*free)(vg_main_t *dp, vg_ipsec_main_t *im);
  /* Keys sa->crypto from sa->config under the api lock; vg_error when it fails. */
  int (*sa_init)(vg_main_t *dp, vg_ipsec_sa_t *sa);
  void (*sa_free)(vg_main_t *dp, vg_ipsec_sa_t *sa);
  /* Every op of a vector, on thread th; each op's status is set. */
  void (*encrypt)(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n);
  void (*decrypt)(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n);
} vg_esp_engine_t;

extern const vg_esp_engine_t vg_esp_engine_openssl;
#ifdef VG_HAVE_IPSEC_MB
extern const vg_esp_engine_t vg_esp_engine_ipsec_mb;
#endif

/* The engine a new dataplane's ipsec uses: ipsec-mb where built in, else
 * OpenSSL; VECGATE_ESP_ENGINE=openssl|ipsec-mb in the environment picks. */
const vg_esp_engine_t *vg_esp_engine_default(void);
/* The engine by name, or NULL when this build has no such engine. */
const vg_esp_engine_t *vg_esp_engine_find(const char *name);
/* Chooses dp's engine; only while it has no SAs (tests, benchmarks). */
int vg_ipsec_set_engine(vg_main_t *dp, const char *name);

static inline void vg_esp_encrypt_ops(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) {
  if (n) dp->ipsec->engine->encrypt(dp, th, ops, n);
}
static inline void vg_esp_decrypt_ops(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) {
  if (n) dp->ipsec->engine->decrypt(dp, th, ops, n);
}

#endif
