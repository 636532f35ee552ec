/* The OpenSSL ESP engine (every architecture: OpenSSL picks AES-NI/VAES,
 * ARMv8 crypto or POWER8 crypto itself). Each SA holds, per dataplane
 * thread, a keyed cipher context and (CBC) HMAC digest states: EVP
 * contexts are not shared by threads. Packets are done one at a time. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "esp.h"

/* HMAC (CBC SAs) is done from digest states that have absorbed key ^ ipad
 * and key ^ opad, copied per packet: measured faster than re-initialising
 * a keyed EVP_MAC_CTX (450 against 630 ns for HMAC-SHA-256 over 80 bytes). */
typedef struct {
  EVP_CIPHER_CTX *cipher;
  EVP_MD_CTX *inner, *outer, *work; /* NULL for GCM */
} ossl_ctx_t;

static const char *const cipher_names[] = {
    [VG_IPSEC_CRYPTO_AES_128_CBC] = "AES-128-CBC", [VG_IPSEC_CRYPTO_AES_192_CBC] = "AES-192-CBC",
    [VG_IPSEC_CRYPTO_AES_256_CBC] = "AES-256-CBC", [VG_IPSEC_CRYPTO_AES_128_GCM] = "AES-128-GCM",
    [VG_IPSEC_CRYPTO_AES_256_GCM] = "AES-256-GCM",
};
static const char *const digest_names[] = {
    [VG_IPSEC_INTEG_NONE] = NULL, [VG_IPSEC_INTEG_HMAC_SHA1_96] = "SHA1",
    [VG_IPSEC_INTEG_HMAC_SHA_256_128] = "SHA2-256", [VG_IPSEC_INTEG_HMAC_SHA_384_192] = "SHA2-384",
    [VG_IPSEC_INTEG_HMAC_SHA_512_256] = "SHA2-512",
};

static int ossl_init(vg_main_t *dp, vg_ipsec_main_t *im) { return 0; }
static void ossl_free(vg_main_t *dp, vg_ipsec_main_t *im) {}

static void ossl_sa_free(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  ossl_ctx_t *x = sa->crypto;
  for (uint32_t t = 0; x && t < dp->n_threads; t++) {
    EVP_CIPHER_CTX_free(x[t].cipher);
    EVP_MD_CTX_free(x[t].inner);
    EVP_MD_CTX_free(x[t].outer);
    EVP_MD_CTX_free(x[t].work);
  }
  free(x);
  sa->crypto = NULL;
}

/* HMAC's two keyed digest states (RFC 2104): the key, no longer than a
 * block for every algorithm here, padded and xored with ipad or opad. */
static int hmac_init(ossl_ctx_t *x, const EVP_MD *md, const uint8_t *key, uint32_t key_len) {
  uint8_t ipad[128], opad[128];
  int block = EVP_MD_get_block_size(md);
  if (block <= 0 || block > 128 || key_len > (uint32_t)block) return 0;
  for (int i = 0; i < block; i++) {
    uint8_t k = (uint32_t)i < key_len ? key[i] : 0;
    ipad[i] = k ^ 0x36, opad[i] = k ^ 0x5c;
  }
  int ok = (x->inner = EVP_MD_CTX_new()) && (x->outer = EVP_MD_CTX_new()) && (x->work = EVP_MD_CTX_new()) &&
           EVP_DigestInit_ex2(x->inner, md, NULL) && EVP_DigestUpdate(x->inner, ipad, (size_t)block) &&
           EVP_DigestInit_ex2(x->outer, md, NULL) && EVP_DigestUpdate(x->outer, opad, (size_t)block);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  return ok;
}

/* One keyed cipher context (and HMAC states) per thread: keys set here, once. */
static int ossl_sa_init(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  const vg_ipsec_sa_config_t *c = &sa->config;
  const char *cname = cipher_names[c->crypto_alg], *dname = digest_names[c->integ_alg];
  int rc = 0;
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, cname, NULL);
  EVP_MD *md = dname ? EVP_MD_fetch(NULL, dname, NULL) : NULL;
  ossl_ctx_t *xs = sa->crypto = calloc(dp->n_threads, sizeof *xs);
  if (!xs) rc = vg_error(VG_E_NOMEM, "ipsec sa %u: crypto contexts", sa->sa_id);
  else if (!cipher || (dname && !md))
    rc = vg_error(VG_E_UNSUPPORTED, "ipsec sa %u: libcrypto has no %s", sa->sa_id, !cipher ? cname : dname);
  int enc = !sa->inbound; /* a GCM key's salt is past the cipher's key length: not read */
  for (uint32_t t = 0; rc == 0 && t < dp->n_threads; t++) {
    ossl_ctx_t *x = &xs[t];
    x->cipher = EVP_CIPHER_CTX_new();
    if (!x->cipher || !EVP_CipherInit_ex2(x->cipher, cipher, c->crypto_key, NULL, enc, NULL) ||
        (!sa->is_gcm && !EVP_CIPHER_CTX_set_padding(x->cipher, 0)))
      rc = vg_error(VG_E_UNSUPPORTED, "ipsec sa %u: cannot key %s", sa->sa_id, cname);
    else if (md && !hmac_init(x, md, c->integ_key, c->integ_key_len))
      rc = vg_error(VG_E_UNSUPPORTED, "ipsec sa %u: cannot key HMAC-%s", sa->sa_id, dname);
  }
  EVP_CIPHER_free(cipher);
  EVP_MD_free(md);
  return rc;
}

/* GCM over data[0..len) in place, the nonce salt || iv, the AAD SPI and
 * sequence number (with ESN its high half between, RFC 4106 5). enc: the
 * tag is written to tag; else checked against it. Returns 1 when good. */
static int gcm(EVP_CIPHER_CTX *c, const vg_ipsec_sa_t *sa, const uint8_t *esp, uint64_t seq, uint8_t *data,
               uint32_t len, uint8_t *tag, int enc) {
  uint8_t nonce[12], aad[12];
  int n;
  memcpy(nonce, &sa->salt, 4);
  memcpy(nonce + 4, esp + VG_ESP_HDR, 8);
  memcpy(aad, esp, 4);
  uint32_t aad_len = 8;
  if (sa->esn) vg_esp_wr32(aad + 4, (uint32_t)(seq >> 32)), memcpy(aad + 8, esp + 4, 4), aad_len = 12;
  else memcpy(aad + 4, esp + 4, 4);
  if (!EVP_CipherInit_ex(c, NULL, NULL, NULL, nonce, -1) || !EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len))
    return 0;
  if (!enc && !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag)) return 0;
  if (!EVP_CipherUpdate(c, data, &n, data, (int)len) || !EVP_CipherFinal_ex(c, data + n, &n)) return 0;
  return !enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

/* The HMAC of esp[0..len), then with ESN the high half of the sequence
 * number (RFC 4303 2.2.1: in the ICV, not on the wire), from the SA's
 * keyed inner and outer digest states. */
static int hmac(ossl_ctx_t *x, const vg_ipsec_sa_t *sa, const uint8_t *esp, uint32_t len, uint64_t seq,
                uint8_t out[64]) {
  unsigned n;
  uint8_t hi[4];
  vg_esp_wr32(hi, (uint32_t)(seq >> 32));
  return EVP_MD_CTX_copy_ex(x->work, x->inner) && EVP_DigestUpdate(x->work, esp, len) &&
         (!sa->esn || EVP_DigestUpdate(x->work, hi, 4)) && EVP_DigestFinal_ex(x->work, out, &n) &&
         EVP_MD_CTX_copy_ex(x->work, x->outer) && EVP_DigestUpdate(x->work, out, n) &&
         EVP_DigestFinal_ex(x->work, out, &n);
}

/* CBC over data[0..len) in place (whole blocks, no padding by OpenSSL). */
static int cbc(EVP_CIPHER_CTX *c, const uint8_t *iv, uint8_t *data, uint32_t len) {
  int n;
  return EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) && EVP_CipherUpdate(c, data, &n, data, (int)len);
}

static void ossl_encrypt(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    vg_esp_op_t *op = &ops[i];
    const vg_ipsec_sa_t *sa = op->sa;
    ossl_ctx_t *x = &((ossl_ctx_t *)sa->crypto)[th->index];
    uint8_t *icv = op->data + op->len;
    int ok;
    if (sa->is_gcm) {
      ok = gcm(x->cipher, sa, op->esp, op->seq, op->data, op->len, icv, 1);
    } else {
      ok = cbc(x->cipher, op->esp + VG_ESP_HDR, op->data, op->len) &&
           hmac(x, sa, op->esp, (uint32_t)(icv - op->esp), op->seq, op->mac);
      if (ok) memcpy(icv, op->mac, sa->icv_len);
    }
    op->status = ok ? VG_ESP_OP_OK : VG_ESP_OP_FAILED;
  }
}

/* CBC: the ICV is checked before anything is decrypted. */
static void ossl_decrypt(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    vg_esp_op_t *op = &ops[i];
    const vg_ipsec_sa_t *sa = op->sa;
    ossl_ctx_t *x = &((ossl_ctx_t *)sa->crypto)[th->index];
    uint8_t *icv = op->data + op->len;
    if (sa->is_gcm) {
      /* Decryption and tag check are one pass; a bad tag leaves garbage
       * that is dropped anyway. */
      op->status = gcm(x->cipher, sa, op->esp, op->seq, op->data, op->len, icv, 0) ? VG_ESP_OP_OK
                                                                                 : VG_ESP_OP_BAD_ICV;
    } else if (!hmac(x, sa, op->esp, (uint32_t)(icv - op->esp), op->seq, op->mac)) {
      op->status = VG_ESP_OP_FAILED;
    } else if (CRYPTO_memcmp(op->mac, icv, sa->icv_len) != 0) {
      op->status = VG_ESP_OP_BAD_ICV;
    } else {
      op->status = cbc(x->cipher, op->esp + VG_ESP_HDR, op->data, op->len) ? VG_ESP_OP_OK : VG_ESP_OP_FAILED;
    }
  }
}

const vg_esp_engine_t vg_esp_engine_openssl = {
    .name = "openssl",
    .init = ossl_init,
    .free = ossl_free,
    .sa_init = ossl_sa_init,
    .sa_free = ossl_sa_free,
    .encrypt = ossl_encrypt,
    .decrypt = ossl_decrypt,
};
