/* The intel-ipsec-mb ESP engine (x86-64; built when the Makefile found
 * the library: VG_HAVE_IPSEC_MB). OpenSSL's EVP layer costs more per call
 * than a small packet's crypto (parameter lookups on every IV set and tag
 * get); this library takes precomputed keys and, through its job API,
 * works on several packets at once in SIMD lanes. One IMB_MGR per
 * dataplane thread (SSE, AVX2 or AVX-512 code picked for the CPU it runs
 * on) and one for the API thread, which keys SAs. Per SA, shared
 * read-only by the threads: GCM key data (AES round keys and GHASH
 * powers), or the CBC round keys and the HMAC inner and outer digest
 * states after the key ^ ipad and key ^ opad block. GCM goes through the
 * direct API a packet at a time (the job and burst APIs run GCM one job at
 * a time too, and cost a 64-byte packet more than the direct call), or,
 * for payloads up to 256 bytes where the CPU has VAES, gcm-vaes.c;
 * CBC+HMAC as chained jobs, the whole vector submitted and then flushed. */
#ifdef VG_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "esp.h"
#include "gcm-vaes.h"

typedef struct {
  IMB_MGR *control;  /* keys SAs, under the api lock */
  IMB_MGR *thread[]; /* [n_threads] */
} mb_main_t;

typedef struct {
  struct gcm_key_data gcm; /* GCM SAs */
  vg_gcm_vaes_key_t vaes;  /* GCM SAs, where the CPU runs gcm-vaes.c */
  int use_vaes;
  _Alignas(16) uint8_t enc_keys[16 * 15], dec_keys[16 * 15]; /* CBC SAs */
  _Alignas(16) uint8_t ipad[IMB_SHA512_DIGEST_SIZE_IN_BYTES], opad[IMB_SHA512_DIGEST_SIZE_IN_BYTES];
  IMB_HASH_ALG hash;
  uint32_t key_len;
} mb_keys_t;

static IMB_MGR *mgr_new(void) {
  IMB_MGR *m = alloc_mb_mgr(0);
  if (!m) return NULL;
  init_mb_mgr_auto(m, NULL);
  if (imb_get_errno(m)) {
    free_mb_mgr(m);
    return NULL;
  }
  return m;
}

static void mb_free(vg_main_t *dp, vg_ipsec_main_t *im) {
  mb_main_t *mm = im->engine_data;
  if (!mm) return;
  if (mm->control) free_mb_mgr(mm->control);
  for (uint32_t t = 0; t < dp->n_threads; t++)
    if (mm->thread[t]) free_mb_mgr(mm->thread[t]);
  free(mm);
  im->engine_data = NULL;
}

static int mb_init(vg_main_t *dp, vg_ipsec_main_t *im) {
  mb_main_t *mm = calloc(1, sizeof *mm + dp->n_threads * sizeof mm->thread[0]);
  im->engine_data = mm;
  if (!mm) return vg_error(VG_E_NOMEM, "ipsec: intel-ipsec-mb managers");
  int ok = (mm->control = mgr_new()) != NULL;
  for (uint32_t t = 0; ok && t < dp->n_threads; t++) ok = (mm->thread[t] = mgr_new()) != NULL;
  if (ok) return 0;
  mb_free(dp, im);
  return vg_error(VG_E_UNSUPPORTED, "ipsec: intel-ipsec-mb cannot run on this CPU");
}

static void mb_sa_free(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  if (sa->crypto) OPENSSL_cleanse(sa->crypto, sizeof(mb_keys_t));
  free(sa->crypto);
  sa->crypto = NULL;
}

/* The digest state after one block (RFC 2104's key ^ pad): what the job
 * API takes for HMAC, so no packet hashes its key again. */
static void hmac_precompute(IMB_MGR *m, mb_keys_t *k, const vg_ipsec_sa_config_t *c) {
  uint8_t ipad[IMB_SHA_512_BLOCK_SIZE], opad[IMB_SHA_512_BLOCK_SIZE];
  uint32_t block = c->integ_alg >= VG_IPSEC_INTEG_HMAC_SHA_384_192 ? IMB_SHA_512_BLOCK_SIZE : IMB_SHA1_BLOCK_SIZE;
  for (uint32_t i = 0; i < block; i++) {
    uint8_t b = i < c->integ_key_len ? c->integ_key[i] : 0; /* keys are no longer than a block */
    ipad[i] = b ^ 0x36, opad[i] = b ^ 0x5c;
  }
  switch (c->integ_alg) {
  case VG_IPSEC_INTEG_HMAC_SHA1_96:
    k->hash = IMB_AUTH_HMAC_SHA_1;
    IMB_SHA1_ONE_BLOCK(m, ipad, k->ipad);
    IMB_SHA1_ONE_BLOCK(m, opad, k->opad);
    break;
  case VG_IPSEC_INTEG_HMAC_SHA_256_128:
    k->hash = IMB_AUTH_HMAC_SHA_256;
    IMB_SHA256_ONE_BLOCK(m, ipad, k->ipad);
    IMB_SHA256_ONE_BLOCK(m, opad, k->opad);
    break;
  case VG_IPSEC_INTEG_HMAC_SHA_384_192:
    k->hash = IMB_AUTH_HMAC_SHA_384;
    IMB_SHA384_ONE_BLOCK(m, ipad, k->ipad);
    IMB_SHA384_ONE_BLOCK(m, opad, k->opad);
    break;
  default:
    k->hash = IMB_AUTH_HMAC_SHA_512;
    IMB_SHA512_ONE_BLOCK(m, ipad, k->ipad);
    IMB_SHA512_ONE_BLOCK(m, opad, k->opad);
    break;
  }
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
}

/* Whether short GCM payloads go to gcm-vaes.c: where the CPU has the
 * instructions, unless VECGATE_GCM_VAES=0 (to compare). */
static int gcm_vaes_usable(void) {
  const char *e = getenv("VECGATE_GCM_VAES");
  return vg_gcm_vaes_usable() && !(e && strcmp(e, "0") == 0);
}

static int mb_sa_init(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  IMB_MGR *m = ((mb_main_t *)dp->ipsec->engine_data)->control;
  const vg_ipsec_sa_config_t *c = &sa->config;
  mb_keys_t *k = aligned_alloc(64, (sizeof *k + 63) & ~(size_t)63);
  if (!k) return vg_error(VG_E_NOMEM, "ipsec sa %u: crypto keys", sa->sa_id);
  memset(k, 0, sizeof *k);
  sa->crypto = k;
  switch (c->crypto_alg) {
  case VG_IPSEC_CRYPTO_AES_128_GCM: IMB_AES128_GCM_PRE(m, c->crypto_key, &k->gcm); break;
  case VG_IPSEC_CRYPTO_AES_256_GCM: IMB_AES256_GCM_PRE(m, c->crypto_key, &k->gcm); break;
  case VG_IPSEC_CRYPTO_AES_128_CBC: IMB_AES_KEYEXP_128(m, c->crypto_key, k->enc_keys, k->dec_keys); break;
  case VG_IPSEC_CRYPTO_AES_192_CBC: IMB_AES_KEYEXP_192(m, c->crypto_key, k->enc_keys, k->dec_keys); break;
  default: IMB_AES_KEYEXP_256(m, c->crypto_key, k->enc_keys, k->dec_keys); break;
  }
  k->key_len = sa->is_gcm ? c->crypto_key_len - 4 : c->crypto_key_len;
  if (sa->is_gcm && gcm_vaes_usable()) {
    vg_gcm_vaes_init(&k->vaes, k->gcm.expanded_keys, c->crypto_alg == VG_IPSEC_CRYPTO_AES_256_GCM ? 14 : 10);
    k->use_vaes = 1;
  }
  if (!sa->is_gcm) hmac_precompute(m, k, c);
  return 0;
}

static IMB_MGR *thread_mgr(vg_main_t *dp, vg_thread_t *th) {
  return ((mb_main_t *)dp->ipsec->engine_data)->thread[th->index];
}

/* A GCM op's nonce (salt || IV) and AAD (SPI || sequence number, with
 * ESN its high half between: RFC 4106 5). They are built for a batch of
 * ops before the first GCM call: the library loads each as one vector, and
 * a load that spans stores still in flight (the salt and IV copied just
 * before) waits for them to reach the cache, which cost a 64-byte packet
 * about a quarter of its encryption. Without ESN the AAD is the ESP
 * header itself, in place. */
typedef struct {
  _Alignas(16) uint8_t nonce[16];
  uint8_t aad[16];
  const uint8_t *aad_at;
  uint32_t aad_len;
} gcm_iv_t;

#define GCM_BATCH 32

static void gcm_nonce_aad(const vg_esp_op_t *op, gcm_iv_t *v) {
  memcpy(v->nonce, &op->sa->salt, 4);
  memcpy(v->nonce + 4, op->esp + VG_ESP_HDR, 8);
  if (!op->sa->esn) {
    v->aad_at = op->esp, v->aad_len = 8;
    return;
  }
  memcpy(v->aad, op->esp, 4);
  vg_esp_wr32(v->aad + 4, (uint32_t)(op->seq >> 32));
  memcpy(v->aad + 8, op->esp + 4, 4);
  v->aad_at = v->aad, v->aad_len = 12;
}

static void gcm(IMB_MGR *m, vg_esp_op_t *op, const gcm_iv_t *v, int enc) {
  const mb_keys_t *k = op->sa->crypto;
  struct gcm_context_data ctx;
  const uint8_t *nonce = v->nonce, *aad = v->aad_at;
  uint32_t aad_len = v->aad_len;
  uint8_t *icv = op->data + op->len, *tag = enc ? icv : op->mac;
  int aes256 = op->sa->config.crypto_alg == VG_IPSEC_CRYPTO_AES_256_GCM;
  if (enc && aes256) IMB_AES256_GCM_ENC(m, &k->gcm, &ctx, op->data, op->data, op->len, nonce, aad, aad_len, tag, 16);
  else if (enc) IMB_AES128_GCM_ENC(m, &k->gcm, &ctx, op->data, op->data, op->len, nonce, aad, aad_len, tag, 16);
  else if (aes256) IMB_AES256_GCM_DEC(m, &k->gcm, &ctx, op->data, op->data, op->len, nonce, aad, aad_len, tag, 16);
  else IMB_AES128_GCM_DEC(m, &k->gcm, &ctx, op->data, op->data, op->len, nonce, aad, aad_len, tag, 16);
  /* Decryption and tag check are one pass; a bad tag leaves garbage that
   * is dropped anyway. */
  op->status = enc || CRYPTO_memcmp(op->mac, icv, 16) == 0 ? VG_ESP_OP_OK : VG_ESP_OP_BAD_ICV;
}

/* A finished CBC+HMAC job: its op (jobs finish out of order). */
static void retire(IMB_JOB *job) {
  vg_esp_op_t *op = job->user_data;
  if (job->status != IMB_STATUS_COMPLETED) op->status = VG_ESP_OP_FAILED;
  else if (job->cipher_direction == IMB_DIR_ENCRYPT) op->status = VG_ESP_OP_OK;
  else op->status = CRYPTO_memcmp(op->mac, op->icv, op->sa->icv_len) == 0 ? VG_ESP_OP_OK : VG_ESP_OP_BAD_ICV;
}

/* CBC and HMAC chained in one job. The HMAC covers the ESP header, IV and
 * ciphertext and, with ESN, the sequence number's high half after them
 * (RFC 4303 2.2.1), which the job can only hash in line: it is written
 * where the ICV goes (at least 12 bytes), as VPP does. Encrypt: the ICV
 * then overwrites it. Decrypt: the received ICV is kept in the op first,
 * and the computed one is compared with it in constant time. Decrypt
 * hashes before deciphering but deciphers whatever the ICV: a packet
 * with a bad one is dropped, its garbage unread. */
static void submit_cbc(IMB_MGR *m, vg_esp_op_t *op, int enc) {
  const vg_ipsec_sa_t *sa = op->sa;
  const mb_keys_t *k = sa->crypto;
  uint8_t *icv = op->data + op->len;
  uint32_t hashed = (uint32_t)(icv - op->esp);
  op->status = VG_ESP_OP_FAILED; /* until its job is retired */
  if (!enc) memcpy(op->icv, icv, sa->icv_len);
  if (sa->esn) {
    vg_esp_wr32(icv, (uint32_t)(op->seq >> 32));
    hashed += 4;
  }
  IMB_JOB *job = IMB_GET_NEXT_JOB(m);
  job->cipher_mode = IMB_CIPHER_CBC;
  job->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  job->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->enc_keys = k->enc_keys;
  job->dec_keys = k->dec_keys;
  job->key_len_in_bytes = k->key_len;
  job->src = op->esp;
  job->dst = op->data;
  job->cipher_start_src_offset_in_bytes = (uint64_t)(op->data - op->esp);
  job->msg_len_to_cipher_in_bytes = op->len;
  job->iv = op->esp + VG_ESP_HDR;
  job->iv_len_in_bytes = 16;
  job->hash_alg = k->hash;
  job->hash_start_src_offset_in_bytes = 0;
  job->msg_len_to_hash_in_bytes = hashed;
  job->auth_tag_output = enc ? icv : op->mac;
  job->auth_tag_output_len_in_bytes = sa->icv_len;
  job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
  job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
  job->user_data = op;
  for (job = IMB_SUBMIT_JOB(m); job; job = IMB_GET_COMPLETED_JOB(m)) retire(job);
}

/* GCM ops of ops[0..n): short payloads through gcm-vaes.c where the CPU
 * has it (its nonce and AAD read straight from the packet), the others
 * through the library a batch at a time, their nonces and AADs first. */
static uint32_t run_gcm(IMB_MGR *m, vg_esp_op_t *ops, uint32_t n, int enc) {
  gcm_iv_t iv[GCM_BATCH];
  uint32_t at[GCM_BATCH], n_gcm = 0, k = 0;
  for (uint32_t i = 0; i < n; i++) {
    vg_esp_op_t *op = &ops[i];
    const vg_ipsec_sa_t *sa = op->sa;
    if (!sa->is_gcm) continue;
    n_gcm++;
    const mb_keys_t *keys = sa->crypto;
    if (keys->use_vaes && op->len <= VG_GCM_VAES_MAX_LEN) {
      uint8_t *icv = op->data + op->len;
      gcm_iv_t esn;
      if (sa->esn) gcm_nonce_aad(op, &esn);
      vg_gcm_vaes_crypt(&keys->vaes, sa->salt, op->esp + VG_ESP_HDR, sa->esn ? esn.aad : op->esp, sa->esn ? 12 : 8,
                        op->data, op->len, enc ? icv : op->mac, enc);
      op->status = enc || CRYPTO_memcmp(op->mac, icv, 16) == 0 ? VG_ESP_OP_OK : VG_ESP_OP_BAD_ICV;
      continue;
    }
    gcm_nonce_aad(op, &iv[k]), at[k++] = i;
    if (k == GCM_BATCH || i + 1 == n) {
      for (uint32_t j = 0; j < k; j++) gcm(m, &ops[at[j]], &iv[j], enc);
      k = 0;
    }
  }
  for (uint32_t j = 0; j < k; j++) gcm(m, &ops[at[j]], &iv[j], enc);
  return n_gcm;
}

static void run(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n, int enc) {
  IMB_MGR *m = thread_mgr(dp, th);
  if (run_gcm(m, ops, n, enc) == n) return;
  for (uint32_t i = 0; i < n; i++)
    if (!ops[i].sa->is_gcm) submit_cbc(m, &ops[i], enc);
  for (IMB_JOB *job; (job = IMB_FLUSH_JOB(m));) retire(job);
}

static void mb_encrypt(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) { run(dp, th, ops, n, 1); }
static void mb_decrypt(vg_main_t *dp, vg_thread_t *th, vg_esp_op_t *ops, uint32_t n) { run(dp, th, ops, n, 0); }

const vg_esp_engine_t vg_esp_engine_ipsec_mb = {
    .name = "ipsec-mb",
    .init = mb_init,
    .free = mb_free,
    .sa_init = mb_sa_init,
    .sa_free = mb_sa_free,
    .encrypt = mb_encrypt,
    .decrypt = mb_decrypt,
};
#else
/* ISO C wants a translation unit to declare something. */
typedef int vg_no_ipsec_mb_t;
#endif
