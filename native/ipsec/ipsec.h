/* IPsec ESP (RFC 4303): the SA table the esp nodes read, ipsec tunnel
 * interfaces and security policy databases. Written only under the
 * barrier (except an SA's sequence number and replay window, which the
 * nodes keep). Crypto goes through an engine (crypto.h: OpenSSL, or
 * intel-ipsec-mb on x86-64) that keys each SA when it is added, so a
 * packet only sets its IV. */
#ifndef VG_IPSEC_H
#define VG_IPSEC_H

#include "../engine/vg.h"

#define VG_ESP_HDR 8        /* SPI, sequence number */
#define VG_ESP_MAX_ICV 32
#define VG_ESP_REPLAY_WORDS (VG_IPSEC_REPLAY_WINDOW_MAX / 64)

struct vg_esp_engine;

typedef struct {
  uint32_t index;           /* slot: counters and buffer opaque name it */
  uint32_t sa_id;
  vg_ipsec_sa_config_t config;
  uint32_t fib_index;       /* of config.vrf */
  uint8_t inbound, tunnel, esn, anti_replay, udp, copy_df, is_gcm;
  uint8_t iv_len;           /* on the wire: 8 GCM, 16 CBC */
  uint8_t icv_len;
  uint8_t block;            /* the payload is padded to a multiple: 16 CBC, 4 GCM */
  uint16_t sport, dport;    /* UDP encapsulation, host order */
  uint32_t window;          /* replay window, packets */
  uint32_t salt;            /* GCM: the 4 bytes after the key (as bytes, not swapped) */
  uint32_t sw_if_index;     /* the tunnel it protects, or VG_NONE */
  uint32_t n_spd_users;     /* SPD entries naming it */
  void *crypto;             /* the engine's keys for this SA */
  /* Outbound: the sequence number last sent; nodes claim a run of them with one CAS. */
  _Alignas(64) _Atomic uint64_t seq;
  /* Inbound: highest accepted sequence number and the window bitmap (bit
   * s % (64 * VG_ESP_REPLAY_WORDS)), under lock when threads share it. */
  _Alignas(64) atomic_flag lock;
  uint64_t top;
  uint64_t bitmap[VG_ESP_REPLAY_WORDS];
} vg_ipsec_sa_t;

typedef struct {
  uint32_t sw_if_index;
  uint32_t src, dst, vrf, fib_index;
  uint32_t sa_out;          /* slot, or VG_NONE */
  uint32_t n_sa_in;
  uint32_t sa_in[VG_IPSEC_TUNNEL_MAX_SA_IN]; /* slots */
} vg_ipsec_tunnel_t;

typedef struct {
  uint32_t entry_id;
  vg_ipsec_policy_t p;
  uint32_t sa_index;        /* PROTECT: slot */
  uint32_t counter;         /* index into the entry counters */
} vg_ipsec_spd_entry_t;

typedef struct {
  uint32_t spd_id;
  uint32_t next_entry_id;
  uint32_t n_out, n_in;
  vg_ipsec_spd_entry_t *out, *in; /* in match order */
  uint32_t n_bound;
} vg_ipsec_spd_t;

/* Random CBC IVs, taken from a block filled by RAND_bytes now and then
 * rather than a syscall per packet. */
typedef struct {
  _Alignas(64) uint32_t used;
  uint16_t ip_id;           /* outer IPv4 identification */
  uint8_t bytes[4096];
} vg_esp_rng_t;

#define VG_IPSEC_SA_COUNTERS(_)                  \
  _(packets, "/ipsec/sa/packets")                \
  _(bytes, "/ipsec/sa/bytes")                    \
  _(replay_drops, "/ipsec/sa/replay-drops")      \
  _(integ_fails, "/ipsec/sa/integ-fails")        \
  _(decrypt_errors, "/ipsec/sa/decrypt-errors")  \
  _(seq_exhausted, "/ipsec/sa/seq-exhausted")

#define VG_IPSEC_MAX_SPD_ENTRIES 4096

typedef struct vg_ipsec_main {
  vg_ipsec_sa_t *sas[VG_IPSEC_MAX_SAS]; /* by slot */
  uint32_t n_slots;                     /* slots ever used: the counters' n_elems */
  uint32_t *order;                      /* sa slots in the order added (the dump's) */
  uint32_t n_sas;
  /* Inbound SAs by SPI: open addressing, slot + 1 (0 empty), rebuilt on
   * change under the barrier. */
  uint32_t in_hash[2 * VG_IPSEC_MAX_SAS];
  uint8_t udp_ports[65536 / 8];         /* ports inbound UDP-encapsulated SAs listen on */
  int names_entry;
#define _(f, n) uint64_t *c_##f;
  VG_IPSEC_SA_COUNTERS(_)
#undef _
  uint32_t encrypt_node;
  const struct vg_esp_engine *engine;   /* keys every SA; chosen before the first */
  void *engine_data;                    /* the engine's per-thread state */
  vg_esp_rng_t *rng;                    /* [n_threads] */
  /* SPDs and the interface bindings (sw_if_index -> spd index + 1). */
  vg_ipsec_spd_t **spds;
  uint32_t n_spds;
  uint32_t *spd_of_if;                  /* [VG_MAX_INTERFACES] */
  uint64_t *c_spd_entry;                /* [threads][VG_IPSEC_MAX_SPD_ENTRIES] */
  uint8_t spd_counter_used[VG_IPSEC_MAX_SPD_ENTRIES];
  uint32_t n_spd_counters;              /* the counters' n_elems */
} vg_ipsec_main_t;

extern const char vg_ipsec_type[]; /* "ipsec": the tunnel interface type, compared by pointer */

/* The SA a packet is encrypted with (esp-encrypt's input) or was decrypted
 * with (VG_BUF_ESP_DECRYPTED): in the last word of the opaque, which the
 * ip4 nodes leave alone. */
static inline uint32_t *vg_esp_sa_slot(vg_buffer_t *b) { return (uint32_t *)(b->opaque + 12); }

static inline uint32_t vg_esp_spi_hash(uint32_t spi) {
  return (uint32_t)(((uint64_t)spi * 0x9e3779b97f4a7c15ull) >> 40);
}

/* The inbound SA for (spi, dst) received in fib_index, or NULL. */
static inline vg_ipsec_sa_t *vg_esp_find_inbound(const vg_ipsec_main_t *im, uint32_t spi,
                                                 uint32_t dst, uint32_t fib_index) {
  const uint32_t mask = 2 * VG_IPSEC_MAX_SAS - 1;
  for (uint32_t s = vg_esp_spi_hash(spi) & mask;; s = (s + 1) & mask) {
    uint32_t v = im->in_hash[s];
    if (!v) return NULL;
    vg_ipsec_sa_t *sa = im->sas[v - 1];
    if (sa->config.spi == spi && sa->fib_index == fib_index &&
        (!sa->config.tunnel_dst || sa->config.tunnel_dst == dst))
      return sa;
  }
}

static inline int vg_esp_udp_port_used(const vg_ipsec_main_t *im, uint16_t port) {
  return im->udp_ports[port >> 3] >> (port & 7) & 1;
}

static inline void vg_esp_count(vg_main_t *dp, vg_thread_t *th, uint64_t *c, uint32_t slot, uint64_t n) {
  c[(uint64_t)th->index * VG_IPSEC_MAX_SAS + slot] += n;
}

/* The first entry of spd in direction dir (VG_IPSEC_POLICY_*) whose
 * selectors match the IPv4 packet ip (len bytes in its first buffer), or
 * NULL. */
static inline const vg_ipsec_spd_entry_t *vg_ipsec_spd_match(const vg_ipsec_spd_t *spd, uint32_t dir,
                                                             const uint8_t *ip, uint32_t len) {
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, src = (uint32_t)ip[12] << 24 | (uint32_t)ip[13] << 16 |
                                                      (uint32_t)ip[14] << 8 | ip[15];
  uint32_t dst = (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
  uint8_t proto = ip[9];
  /* Ports only from an unfragmented TCP or UDP header that is there. */
  int ports = (proto == 6 || proto == 17) && !(ip[6] & 0x3f) && !ip[7] && len >= hl + 4;
  uint16_t sp = ports ? (uint16_t)(ip[hl] << 8 | ip[hl + 1]) : 0, dp = ports ? (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3]) : 0;
  uint32_t local = dir ? dst : src, remote = dir ? src : dst;
  uint16_t lport = dir ? dp : sp, rport = dir ? sp : dp;
  const vg_ipsec_spd_entry_t *e = dir ? spd->in : spd->out;
  for (uint32_t i = 0, n = dir ? spd->n_in : spd->n_out; i < n; i++, e++) {
    const vg_ipsec_policy_t *p = &e->p;
    if (p->protocol && p->protocol != proto) continue;
    if (p->local_hi && (local < p->local_lo || local > p->local_hi)) continue;
    if (p->remote_hi && (remote < p->remote_lo || remote > p->remote_hi)) continue;
    if (p->local_port_hi && (!ports || lport < p->local_port_lo || lport > p->local_port_hi)) continue;
    if (p->remote_port_hi && (!ports || rport < p->remote_port_lo || rport > p->remote_port_hi)) continue;
    return e;
  }
  return NULL;
}

/* The ipsec state, made on first use (caller holds the api lock); NULL
 * with vg_last_error set when it cannot be. */
vg_ipsec_main_t *vg_ipsec_main(vg_main_t *dp);
/* Whether the SA protects a tunnel or is named by an SPD entry: a message, or NULL. */
const char *vg_ipsec_sa_busy(vg_main_t *dp, const vg_ipsec_sa_t *sa, char *buf, size_t size);
int vg_ipsec_sa_slot(vg_main_t *dp, uint32_t sa_id); /* slot, or VG_E_NOTFOUND with a message */
void vg_ipsec_free(vg_main_t *dp);
void vg_ipsec_spd_free(vg_main_t *dp);
int vg_ipsec_spd_of_interface(vg_main_t *dp, uint32_t sw_if_index); /* spd index or -1 */

#endif
