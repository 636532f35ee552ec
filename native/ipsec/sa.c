/* IPsec security associations: the API (add, delete, dump), their crypto
 * keys (set once here by the crypto engine) and counters, and the inbound
 * lookup table esp-decrypt reads. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ip4/ip4.h"
#include "crypto.h"
#include "ipsec.h"

#define IP4_FMT "%u.%u.%u.%u"
#define IP4_ARGS(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

typedef struct {
  const char *name;   /* as vg_last_error says it */
  uint32_t key_len;   /* with the salt for GCM */
  uint8_t is_gcm;
} crypto_alg_t;

static const crypto_alg_t crypto_algs[] = {
    [VG_IPSEC_CRYPTO_AES_128_CBC] = {"AES-128-CBC", 16, 0},
    [VG_IPSEC_CRYPTO_AES_192_CBC] = {"AES-192-CBC", 24, 0},
    [VG_IPSEC_CRYPTO_AES_256_CBC] = {"AES-256-CBC", 32, 0},
    [VG_IPSEC_CRYPTO_AES_128_GCM] = {"AES-128-GCM", 20, 1},
    [VG_IPSEC_CRYPTO_AES_256_GCM] = {"AES-256-GCM", 36, 1},
};

typedef struct {
  const char *name;
  uint32_t key_len, icv_len;
} integ_alg_t;

static const integ_alg_t integ_algs[] = {
    [VG_IPSEC_INTEG_NONE] = {"none", 0, 0},
    [VG_IPSEC_INTEG_HMAC_SHA1_96] = {"HMAC-SHA1-96", 20, 12},
    [VG_IPSEC_INTEG_HMAC_SHA_256_128] = {"HMAC-SHA-256-128", 32, 16},
    [VG_IPSEC_INTEG_HMAC_SHA_384_192] = {"HMAC-SHA-384-192", 48, 24},
    [VG_IPSEC_INTEG_HMAC_SHA_512_256] = {"HMAC-SHA-512-256", 64, 32},
};

static int is_unicast(uint32_t a) { return a && (a >> 28) < 14 && (a >> 24) != 127; }

/* Everything that can be said about the config alone. */
static int check_config(uint32_t id, const vg_ipsec_sa_config_t *c) {
  if (id == VG_NONE) return vg_error(VG_E_INVAL, "ipsec sa: sa_id 4294967295 is reserved");
  if (c->flags & ~VG_IPSEC_SA_FLAGS_ALL)
    return vg_error(VG_E_INVAL, "ipsec sa %u: flags 0x%x has unknown bits 0x%x", id, c->flags,
                    c->flags & ~VG_IPSEC_SA_FLAGS_ALL);
  if (c->spi < 256) return vg_error(VG_E_INVAL, "ipsec sa %u: spi %u is reserved (1..255) or 0", id, c->spi);
  if (c->crypto_alg == 0 || c->crypto_alg >= VG_ARRAY_LEN(crypto_algs))
    return vg_error(VG_E_INVAL, "ipsec sa %u: crypto_alg %u is not a VG_IPSEC_CRYPTO_* value", id,
                    c->crypto_alg);
  const crypto_alg_t *ca = &crypto_algs[c->crypto_alg];
  if (c->crypto_key_len != ca->key_len)
    return vg_error(VG_E_INVAL, "ipsec sa %u: crypto_key_len %u, %s takes %u bytes%s", id,
                    c->crypto_key_len, ca->name, ca->key_len, ca->is_gcm ? " (key and 4-byte salt)" : "");
  if (c->integ_alg >= VG_ARRAY_LEN(integ_algs))
    return vg_error(VG_E_INVAL, "ipsec sa %u: integ_alg %u is not a VG_IPSEC_INTEG_* value", id,
                    c->integ_alg);
  const integ_alg_t *ia = &integ_algs[c->integ_alg];
  if (ca->is_gcm && c->integ_alg != VG_IPSEC_INTEG_NONE)
    return vg_error(VG_E_INVAL, "ipsec sa %u: integ_alg must be none with %s (GCM has its own ICV)",
                    id, ca->name);
  if (!ca->is_gcm && c->integ_alg == VG_IPSEC_INTEG_NONE)
    return vg_error(VG_E_INVAL, "ipsec sa %u: integ_alg none with %s: ESP without integrity is "
                    "not supported", id, ca->name);
  if (c->integ_key_len != ia->key_len)
    return vg_error(VG_E_INVAL, "ipsec sa %u: integ_key_len %u, %s takes %u bytes", id,
                    c->integ_key_len, ia->name, ia->key_len);
  int inbound = !!(c->flags & VG_IPSEC_SA_INBOUND);
  if (c->flags & VG_IPSEC_SA_TUNNEL) {
    if (!c->tunnel_src || !c->tunnel_dst)
      return vg_error(VG_E_INVAL, "ipsec sa %u: tunnel mode needs tunnel_src and tunnel_dst", id);
    if (c->tunnel_src == c->tunnel_dst)
      return vg_error(VG_E_INVAL, "ipsec sa %u: tunnel_src and tunnel_dst are both " IP4_FMT, id,
                      IP4_ARGS(c->tunnel_src));
    if (!is_unicast(c->tunnel_src) || !is_unicast(c->tunnel_dst))
      return vg_error(VG_E_INVAL, "ipsec sa %u: tunnel_src " IP4_FMT " and tunnel_dst " IP4_FMT
                      " must be unicast", id, IP4_ARGS(c->tunnel_src), IP4_ARGS(c->tunnel_dst));
  } else {
    if (c->tunnel_src)
      return vg_error(VG_E_INVAL, "ipsec sa %u: tunnel_src must be 0 in transport mode", id);
    if (c->tunnel_dst && !inbound)
      return vg_error(VG_E_INVAL, "ipsec sa %u: tunnel_dst must be 0 for an outbound transport-mode SA", id);
  }
  if (c->replay_window > VG_IPSEC_REPLAY_WINDOW_MAX)
    return vg_error(VG_E_INVAL, "ipsec sa %u: replay_window %u is above %u", id, c->replay_window,
                    VG_IPSEC_REPLAY_WINDOW_MAX);
  if (!(c->flags & VG_IPSEC_SA_ESN) && c->initial_seq > 0xffffffffull)
    return vg_error(VG_E_INVAL, "ipsec sa %u: initial_seq %llu needs ESN (above 32 bits)", id,
                    (unsigned long long)c->initial_seq);
  if (!(c->flags & VG_IPSEC_SA_UDP_ENCAP) && (c->udp_sport || c->udp_dport))
    return vg_error(VG_E_INVAL, "ipsec sa %u: udp_sport/udp_dport without VG_IPSEC_SA_UDP_ENCAP", id);
  return 0;
}

static void sa_free(vg_main_t *dp, vg_ipsec_sa_t *sa) {
  if (!sa) return;
  if (sa->crypto) dp->ipsec->engine->sa_free(dp, sa);
  OPENSSL_cleanse(&sa->config, sizeof sa->config);
  free(sa);
}

static vg_ipsec_sa_t *sa_new(vg_main_t *dp, uint32_t id, const vg_ipsec_sa_config_t *c) {
  vg_ipsec_sa_t *sa = aligned_alloc(64, (sizeof *sa + 63) & ~(size_t)63);
  if (!sa) return vg_error(VG_E_NOMEM, "ipsec sa %u", id), NULL;
  memset(sa, 0, sizeof *sa);
  sa->sa_id = id;
  sa->config = *c;
  uint32_t f = c->flags;
  sa->inbound = !!(f & VG_IPSEC_SA_INBOUND);
  sa->tunnel = !!(f & VG_IPSEC_SA_TUNNEL);
  sa->esn = !!(f & VG_IPSEC_SA_ESN);
  sa->anti_replay = sa->inbound && (f & VG_IPSEC_SA_ANTI_REPLAY);
  sa->udp = !!(f & VG_IPSEC_SA_UDP_ENCAP);
  sa->copy_df = !!(f & VG_IPSEC_SA_COPY_DF);
  sa->is_gcm = crypto_algs[c->crypto_alg].is_gcm;
  sa->iv_len = sa->is_gcm ? 8 : 16;
  sa->icv_len = (uint8_t)(sa->is_gcm ? 16 : integ_algs[c->integ_alg].icv_len);
  sa->block = sa->is_gcm ? 4 : 16;
  sa->sport = c->udp_sport ? c->udp_sport : 4500;
  sa->dport = c->udp_dport ? c->udp_dport : 4500;
  sa->window = c->replay_window ? c->replay_window : 64;
  if (sa->is_gcm) memcpy(&sa->salt, c->crypto_key + c->crypto_key_len - 4, 4);
  sa->sw_if_index = VG_NONE;
  atomic_flag_clear(&sa->lock);
  if (sa->inbound) sa->top = c->initial_seq;
  else atomic_init(&sa->seq, c->initial_seq);
  if (dp->ipsec->engine->sa_init(dp, sa) < 0) {
    sa_free(dp, sa);
    return NULL;
  }
  return sa;
}

/* ---- the table ---- */

static int stats_init(vg_main_t *dp, vg_ipsec_main_t *im) {
  uint64_t *unused;
  int names = vg_stats_find(dp, "/ipsec/sa/names");
  if (names < 0) {
    names = vg_stats_add(dp, "/ipsec/sa/names", VG_STAT_NAME_VECTOR, 0, VG_IPSEC_MAX_SAS, UINT32_MAX, &unused);
    if (names < 0) return names;
  }
  im->names_entry = names;
  struct {
    const char *name;
    uint64_t **dst;
  } c[] = {
#define _(f, n) {n, &im->c_##f},
      VG_IPSEC_SA_COUNTERS(_)
#undef _
  };
  for (size_t i = 0; i < VG_ARRAY_LEN(c); i++) {
    int rc = vg_stats_add(dp, c[i].name, VG_STAT_COUNTER, 0, VG_IPSEC_MAX_SAS, (uint32_t)names, c[i].dst);
    if (rc < 0) return rc;
  }
  int spd_names = vg_stats_add(dp, "/ipsec/spd/names", VG_STAT_NAME_VECTOR, 0, VG_IPSEC_MAX_SPD_ENTRIES,
                               UINT32_MAX, &unused);
  if (spd_names < 0) return spd_names;
  int rc = vg_stats_add(dp, "/ipsec/spd/packets", VG_STAT_COUNTER, 0, VG_IPSEC_MAX_SPD_ENTRIES,
                        (uint32_t)spd_names, &im->c_spd_entry);
  return rc < 0 ? rc : 0;
}

/* The stats entries stay for the dataplane's life, so this is done once. */
vg_ipsec_main_t *vg_ipsec_main(vg_main_t *dp) {
  if (dp->ipsec) return dp->ipsec;
  vg_ipsec_main_t *im = calloc(1, sizeof *im);
  if (!im) return vg_error(VG_E_NOMEM, "ipsec"), NULL;
  im->rng = aligned_alloc(64, dp->n_threads * sizeof *im->rng);
  im->order = calloc(VG_IPSEC_MAX_SAS, sizeof *im->order);
  im->spd_of_if = calloc(VG_MAX_INTERFACES, sizeof *im->spd_of_if);
  if (!im->rng || !im->order || !im->spd_of_if) {
    vg_error(VG_E_NOMEM, "ipsec");
    goto fail;
  }
  for (uint32_t t = 0; t < dp->n_threads; t++) {
    im->rng[t].used = sizeof im->rng[t].bytes; /* filled on first use */
    im->rng[t].ip_id = (uint16_t)(t << 12);
  }
  im->encrypt_node = (uint32_t)vg_node_index(dp, "esp-encrypt");
  if (stats_init(dp, im) < 0) goto fail;
  /* An engine that cannot run here (intel-ipsec-mb on a CPU without what
   * it needs) leaves OpenSSL, which runs everywhere. */
  im->engine = vg_esp_engine_default();
  if (im->engine->init(dp, im) < 0) {
    im->engine = &vg_esp_engine_openssl;
    if (im->engine->init(dp, im) < 0) goto fail;
  }
  vg_barrier_sync(dp);
  dp->ipsec = im;
  vg_barrier_release(dp);
  return im;
fail:
  free(im->rng);
  free(im->order);
  free(im->spd_of_if);
  free(im);
  return NULL;
}

/* Under the barrier. */
static void rebuild_inbound(vg_ipsec_main_t *im) {
  const uint32_t mask = 2 * VG_IPSEC_MAX_SAS - 1;
  memset(im->in_hash, 0, sizeof im->in_hash);
  memset(im->udp_ports, 0, sizeof im->udp_ports);
  for (uint32_t i = 0; i < im->n_sas; i++) {
    vg_ipsec_sa_t *sa = im->sas[im->order[i]];
    if (!sa->inbound) continue;
    uint32_t s = vg_esp_spi_hash(sa->config.spi) & mask;
    while (im->in_hash[s]) s = (s + 1) & mask;
    im->in_hash[s] = sa->index + 1;
    if (sa->udp) im->udp_ports[sa->dport >> 3] |= (uint8_t)(1u << (sa->dport & 7));
  }
}

static int find_id(vg_ipsec_main_t *im, uint32_t id) {
  for (uint32_t i = 0; im && i < im->n_sas; i++)
    if (im->sas[im->order[i]]->sa_id == id) return (int)im->order[i];
  return VG_E_NOTFOUND;
}

int vg_ipsec_sa_slot(vg_main_t *dp, uint32_t sa_id) {
  int slot = find_id(dp->ipsec, sa_id);
  return slot >= 0 ? slot : vg_error(VG_E_NOTFOUND, "no ipsec sa %u", sa_id);
}

static int check_tables(vg_main_t *dp, vg_ipsec_main_t *im, uint32_t id, const vg_ipsec_sa_t *sa) {
  if (find_id(im, id) >= 0) return vg_error(VG_E_EXISTS, "ipsec sa %u exists", id);
  if (im->n_sas == VG_IPSEC_MAX_SAS) return vg_error(VG_E_LIMIT, "at most %u ipsec SAs", VG_IPSEC_MAX_SAS);
  for (uint32_t i = 0; sa->inbound && i < im->n_sas; i++) {
    const vg_ipsec_sa_t *o = im->sas[im->order[i]];
    if (o->inbound && o->config.spi == sa->config.spi && o->fib_index == sa->fib_index &&
        (o->config.tunnel_dst == sa->config.tunnel_dst || !o->config.tunnel_dst || !sa->config.tunnel_dst))
      return vg_error(VG_E_EXISTS, "ipsec sa %u: inbound sa %u has spi 0x%08x for the same destination in "
                      "VRF %u", id, o->sa_id, sa->config.spi, sa->config.vrf);
  }
  return 0;
}

int vg_ipsec_sa_add(vg_dp_t *dp, uint32_t sa_id, const vg_ipsec_sa_config_t *config) {
  if (!config) return vg_error(VG_E_INVAL, "ipsec sa %u: no config", sa_id);
  int rc = check_config(sa_id, config);
  if (rc < 0) return rc;
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = vg_ipsec_main(dp);
  vg_fib_t *fib = im ? vg_fib_get(dp, config->vrf, 1) : NULL;
  vg_ipsec_sa_t *sa = fib ? sa_new(dp, sa_id, config) : NULL;
  if (!im) rc = vg_last_error_code();
  else if (!fib) rc = vg_error(VG_E_NOMEM, "ipsec sa %u: VRF %u", sa_id, config->vrf);
  else if (!sa) rc = vg_last_error_code();
  if (sa) {
    for (uint32_t i = 0; i < dp->ip4->n_fibs; i++)
      if (dp->ip4->fibs[i] == fib) sa->fib_index = i;
    rc = check_tables(dp, im, sa_id, sa);
  }
  if (rc >= 0) {
    uint32_t slot = 0;
    while (im->sas[slot]) slot++;
    sa->index = slot;
    /* A reused slot starts from zero counters; its name is the sa_id. */
    for (uint32_t t = 0; t < dp->n_threads; t++) {
      uint64_t row = (uint64_t)t * VG_IPSEC_MAX_SAS + slot;
#define _(f, n) im->c_##f[row] = 0;
      VG_IPSEC_SA_COUNTERS(_)
#undef _
    }
    snprintf(vg_stats_name_slot(dp, im->names_entry, slot), VG_STATS_NAME_MAX, "%u", sa_id);
    if (slot >= im->n_slots) {
      im->n_slots = slot + 1;
      vg_stats_set_n_elems(dp, im->names_entry, im->n_slots);
#define _(f, n) vg_stats_set_n_elems(dp, vg_stats_find(dp, n), im->n_slots);
      VG_IPSEC_SA_COUNTERS(_)
#undef _
    }
    vg_barrier_sync(dp);
    im->sas[slot] = sa;
    im->order[im->n_sas++] = slot;
    rebuild_inbound(im);
    vg_barrier_release(dp);
    sa = NULL;
  }
  pthread_mutex_unlock(&dp->api_lock);
  sa_free(dp, sa);
  return rc < 0 ? rc : 0;
}

const char *vg_ipsec_sa_busy(vg_main_t *dp, const vg_ipsec_sa_t *sa, char *buf, size_t size) {
  if (sa->sw_if_index != VG_NONE) {
    snprintf(buf, size, "protects tunnel %s: unprotect it first", dp->interfaces[sa->sw_if_index]->name);
    return buf;
  }
  if (sa->n_spd_users) {
    snprintf(buf, size, "is named by %u SPD entr%s: delete them first", sa->n_spd_users,
             sa->n_spd_users == 1 ? "y" : "ies");
    return buf;
  }
  return NULL;
}

int vg_ipsec_sa_delete(vg_dp_t *dp, uint32_t sa_id) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = dp->ipsec;
  int slot = vg_ipsec_sa_slot(dp, sa_id), rc = 0;
  char why[128];
  vg_ipsec_sa_t *sa = slot >= 0 ? im->sas[slot] : NULL;
  const char *busy = sa ? vg_ipsec_sa_busy(dp, sa, why, sizeof why) : NULL;
  if (slot < 0) rc = slot;
  else if (busy) rc = vg_error(VG_E_STATE, "ipsec sa %u %s", sa_id, busy);
  else {
    vg_barrier_sync(dp);
    im->sas[slot] = NULL;
    for (uint32_t i = 0; i < im->n_sas; i++)
      if (im->order[i] == (uint32_t)slot) {
        memmove(&im->order[i], &im->order[i + 1], (im->n_sas - i - 1) * sizeof im->order[0]);
        im->n_sas--;
        break;
      }
    rebuild_inbound(im);
    vg_barrier_release(dp);
    memset(vg_stats_name_slot(dp, im->names_entry, (uint32_t)slot), 0, VG_STATS_NAME_MAX);
    sa_free(dp, sa);
  }
  pthread_mutex_unlock(&dp->api_lock);
  return rc;
}

static uint64_t sum(vg_main_t *dp, const uint64_t *c, uint32_t slot) {
  uint64_t s = 0;
  for (uint32_t t = 0; t < dp->n_threads; t++) s += c[(uint64_t)t * VG_IPSEC_MAX_SAS + slot];
  return s;
}

int vg_ipsec_sa_dump(vg_dp_t *dp, vg_ipsec_sa_info_t *out, uint32_t max) {
  pthread_mutex_lock(&dp->api_lock);
  vg_ipsec_main_t *im = dp->ipsec;
  uint32_t n = im ? im->n_sas : 0;
  if (max) vg_barrier_sync(dp); /* the replay window's top is the nodes' */
  for (uint32_t i = 0; i < n && i < max; i++) {
    vg_ipsec_sa_t *sa = im->sas[im->order[i]];
    vg_ipsec_sa_info_t *o = &out[i];
    memset(o, 0, sizeof *o);
    o->sa_id = sa->sa_id;
    o->n_users = sa->n_spd_users + (sa->sw_if_index != VG_NONE);
    o->sw_if_index = sa->sw_if_index;
    o->seq = sa->inbound ? sa->top : atomic_load(&sa->seq);
#define _(f, name) o->f = sum(dp, im->c_##f, sa->index);
    VG_IPSEC_SA_COUNTERS(_)
#undef _
    o->config = sa->config;
  }
  if (max) vg_barrier_release(dp);
  pthread_mutex_unlock(&dp->api_lock);
  return (int)n;
}

void vg_ipsec_free(vg_main_t *dp) {
  vg_ipsec_main_t *im = dp->ipsec;
  if (!im) return;
  vg_ipsec_spd_free(dp);
  for (uint32_t i = 0; i < VG_IPSEC_MAX_SAS; i++) sa_free(dp, im->sas[i]);
  im->engine->free(dp, im);
  free(im->rng);
  free(im->order);
  free(im->spd_of_if);
  free(im);
  dp->ipsec = NULL;
}
