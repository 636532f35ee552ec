/* esp-encrypt: ESP (RFC 4303) for packets sent through an outbound SA
 * (its slot in the buffer's ipsec opaque: set by an ipsec tunnel's tx or by
 * ipsec4-output), the buffer at the IPv4 header. Tunnel mode: the whole
 * packet is the payload, under a new outer IPv4 header from the SA (TTL
 * 64, TOS copied, DF copied or clear). Transport mode: ESP goes between the
 * IPv4 header and its payload. With UDP encapsulation (RFC 3948) a UDP
 * header precedes ESP. IVs: GCM takes the 64-bit sequence number (unique
 * per key, RFC 4106 3.1), CBC random bytes drawn in bulk. The packet then
 * goes to ip4-lookup in the SA's VRF. A sequence number that would wrap
 * stops the SA instead (seq-exhausted). Only single-buffer packets. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "../ipsec/esp.h"

enum { NEXT_DROP, NEXT_LOOKUP };

#define ESP_ENCRYPT_ERRORS(_)                                                 \
  _(ENCRYPTED, "packets encrypted")                                          \
  _(NO_SA, "tunnel not protected (no outbound SA)")                          \
  _(SEQ_EXHAUSTED, "sequence number exhausted (the SA must be rekeyed)")     \
  _(NOT_IP4, "not a well-formed IPv4 packet")                                \
  _(CHAINED, "chained buffers are not encrypted")                            \
  _(NO_ROOM, "no room for the ESP headers and trailer")        \
  _(TOO_BIG, "encrypted packet longer than 65535 bytes")                     \
  _(CRYPTO, "crypto library error")

enum {
#define _(sym, str) ERR_##sym,
  ESP_ENCRYPT_ERRORS(_)
#undef _
};

static const char *const errors[] = {
#define _(sym, str) str,
    ESP_ENCRYPT_ERRORS(_)
#undef _
    NULL};

typedef struct {
  uint32_t sa_id, spi, src, dst, length;
  uint64_t seq;
  uint8_t error, tunnel, udp, crypto_alg;
} encrypt_trace_t;

static const char *const alg_names[] = {"?", "aes-128-cbc", "aes-192-cbc", "aes-256-cbc",
                                        "aes-128-gcm", "aes-256-gcm"};

static int format_encrypt_trace(char *out, size_t size, const void *rec) {
  const encrypt_trace_t *t = rec;
  if (t->error == ERR_NO_SA) return snprintf(out, size, "  dropped, %s", errors[t->error]);
  int k = snprintf(out, size, "  sa %u spi 0x%08x seq %llu %s %s", t->sa_id, t->spi,
                   (unsigned long long)t->seq, t->crypto_alg < 6 ? alg_names[t->crypto_alg] : "?",
                   t->tunnel ? "tunnel" : "transport");
  if (k < 0 || (size_t)k >= size) return k;
  if (t->error != ERR_ENCRYPTED) return k + snprintf(out + k, size - (size_t)k, ": dropped, %s", errors[t->error]);
  uint32_t s = t->src, d = t->dst;
  return k + snprintf(out + k, size - (size_t)k, "%s %u.%u.%u.%u -> %u.%u.%u.%u, %u bytes", t->udp ? " udp" : "",
                      s >> 24, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, d >> 24, (d >> 16) & 0xff,
                      (d >> 8) & 0xff, d & 0xff, t->length);
}

/* The new outer IPv4 header, a word at a time, its checksum summed from
 * the values rather than read back from the bytes just stored: a wide
 * load over narrow stores still in flight waits for them to reach the
 * cache. */
static inline void outer_header(uint8_t *o, const vg_ipsec_sa_t *sa, const uint8_t *inner, uint32_t total,
                                uint16_t id) {
  uint32_t tos = inner[1]; /* DSCP and ECN as the inner packet has them */
  uint32_t df = sa->copy_df ? (inner[6] & 0x40u) : 0, proto = sa->udp ? 17 : 50;
  uint32_t src = sa->config.tunnel_src, dst = sa->config.tunnel_dst;
  uint32_t w0 = 0x45u << 24 | tos << 16 | total, w1 = (uint32_t)id << 16 | df << 8, w2 = 64u << 24 | proto << 16;
  uint64_t sum = (uint64_t)(w0 >> 16) + (w0 & 0xffff) + (w1 >> 16) + (w1 & 0xffff) + (w2 >> 16) + (src >> 16) +
                 (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
  vg_esp_wr32(o, w0);
  vg_esp_wr32(o + 4, w1);
  vg_esp_wr32(o + 8, w2 | vg_csum_fold(sum));
  vg_esp_wr32(o + 12, src);
  vg_esp_wr32(o + 16, dst);
}

/* What a packet's headers become, from the checks to after its crypto. */
typedef struct {
  vg_buffer_t *b;
  uint32_t prepend, new_total, plen, padded, hl;
} pending_t;

/* The checks, before a sequence number is spent on the packet: op->sa and
 * p are set when it passes (ERR_ENCRYPTED). */
static inline uint32_t check(vg_main_t *dp, vg_buffer_t *b, encrypt_trace_t *tr, vg_esp_op_t *op,
                             pending_t *p) {
  vg_ipsec_main_t *im = dp->ipsec;
  uint32_t slot = *vg_esp_sa_slot(b);
  vg_ipsec_sa_t *sa = im && slot < VG_IPSEC_MAX_SAS ? im->sas[slot] : NULL;
  if (VG_UNLIKELY(!sa || sa->inbound)) return ERR_NO_SA;
  if (VG_UNLIKELY(vg_traced(b))) {
    tr->sa_id = sa->sa_id, tr->spi = sa->config.spi, tr->tunnel = sa->tunnel, tr->udp = sa->udp;
    tr->crypto_alg = (uint8_t)sa->config.crypto_alg;
  }
  if (VG_UNLIKELY(b->flags & VG_BUF_NEXT_PRESENT)) return ERR_CHAINED;
  uint8_t *ip = vg_buffer_current(b);
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, total = (uint32_t)(ip[2] << 8 | ip[3]);
  if (VG_UNLIKELY(b->current_length < 20 || (ip[0] >> 4) != 4 || hl < 20 || total < hl ||
                  total > b->current_length))
    return ERR_NOT_IP4;
  uint32_t plen = sa->tunnel ? total : total - hl;
  uint32_t padded = (plen + 2 + sa->block - 1) & ~(uint32_t)(sa->block - 1);
  uint32_t esp_hdr = (sa->udp ? 8u : 0u) + VG_ESP_HDR + sa->iv_len;
  uint32_t outer_hl = sa->tunnel ? 20 : hl;
  uint32_t prepend = sa->tunnel ? 20 + esp_hdr : esp_hdr;
  uint32_t new_total = outer_hl + esp_hdr + padded + sa->icv_len;
  if (VG_UNLIKELY(new_total > 65535)) return ERR_TOO_BIG;
  if (VG_UNLIKELY(b->current_data - (int)prepend < -VG_HEADROOM ||
                  b->current_data + (int)(total + padded - plen + sa->icv_len) > VG_BUFFER_DATA_SIZE))
    return ERR_NO_ROOM;
  op->sa = sa;
  *p = (pending_t){b, prepend, new_total, plen, padded, hl};
  return ERR_ENCRYPTED;
}

/* Sequence numbers for ops[0..n): one claim for each run of packets on
 * the same SA (one atomic operation, not one a packet); 0 for those past
 * the SA's last number. */
static void claim_seqs(vg_esp_op_t *ops, uint32_t n) {
  for (uint32_t i = 0, j; i < n; i = j) {
    vg_ipsec_sa_t *sa = ops[i].sa;
    for (j = i + 1; j < n && ops[j].sa == sa;) j++;
    uint64_t first = 0;
    uint32_t got = vg_esp_claim_seqs(sa, j - i, &first);
    for (uint32_t k = 0; k < j - i; k++) ops[i + k].seq = k < got ? first + k : 0;
  }
}

/* With its sequence number: the trailer and the headers around the ESP
 * (they are outside what is encrypted, and the inner header's TOS and DF
 * are read before it is ciphertext). ERR_ENCRYPTED: op is ready for the
 * engine. */
static inline uint32_t build(vg_main_t *dp, vg_thread_t *th, encrypt_trace_t *tr, vg_esp_op_t *op,
                             const pending_t *p) {
  vg_ipsec_main_t *im = dp->ipsec;
  vg_ipsec_sa_t *sa = op->sa;
  uint64_t seq = op->seq;
  if (VG_UNLIKELY(vg_traced(p->b))) tr->seq = seq;
  if (VG_UNLIKELY(!seq)) {
    vg_esp_count(dp, th, im->c_seq_exhausted, sa->index, 1);
    return ERR_SEQ_EXHAUSTED;
  }
  uint8_t *ip = vg_buffer_current(p->b);
  uint32_t hl = p->hl, plen = p->plen, padded = p->padded, outer_hl = sa->tunnel ? 20 : hl;
  /* Trailer: padding 1, 2, 3 ... (RFC 4303 2.4), its length, next header. */
  uint8_t *payload = sa->tunnel ? ip : ip + hl;
  uint8_t next_header = sa->tunnel ? 4 : ip[9];
  uint32_t pad = padded - plen - 2;
  for (uint32_t i = 0; i < pad; i++) payload[plen + i] = (uint8_t)(i + 1);
  payload[padded - 2] = (uint8_t)pad;
  payload[padded - 1] = next_header;
  uint8_t *start = ip - p->prepend;
  if (!sa->tunnel) memmove(start, ip, hl);
  uint8_t *esp = start + outer_hl + (sa->udp ? 8 : 0), *iv = esp + VG_ESP_HDR;
  vg_esp_wr32(esp, sa->config.spi);
  vg_esp_wr32(esp + 4, (uint32_t)seq);
  if (sa->is_gcm) {
    vg_esp_wr32(iv, (uint32_t)(seq >> 32));
    vg_esp_wr32(iv + 4, (uint32_t)seq);
  } else {
    const uint8_t *rnd = vg_esp_random_iv(&im->rng[th->index]);
    if (VG_UNLIKELY(!rnd)) return ERR_CRYPTO;
    memcpy(iv, rnd, 16);
  }
  /* The IPv4 header in front: new for tunnel mode, the moved one otherwise. */
  if (sa->tunnel) {
    outer_header(start, sa, ip, p->new_total, im->rng[th->index].ip_id++);
  } else {
    vg_put_be16(start + 2, (uint16_t)p->new_total);
    start[9] = sa->udp ? 17 : 50;
    start[10] = start[11] = 0;
    vg_put_be16(start + 10, vg_csum_fold(vg_csum_add(0, start, outer_hl)));
  }
  if (sa->udp) {
    uint8_t *udp = start + outer_hl;
    vg_put_be16(udp, sa->sport);
    vg_put_be16(udp + 2, sa->dport);
    vg_put_be16(udp + 4, (uint16_t)(p->new_total - outer_hl));
    udp[6] = udp[7] = 0; /* RFC 3948 2.1: zero checksum */
  }
  op->esp = esp, op->data = payload, op->len = padded;
  return ERR_ENCRYPTED;
}

/* After the crypto: the buffer starts at the outer header. */
static inline uint32_t finish(vg_buffer_t *b, encrypt_trace_t *tr, const vg_esp_op_t *op, const pending_t *p) {
  if (VG_UNLIKELY(op->status != VG_ESP_OP_OK)) return ERR_CRYPTO;
  vg_buffer_advance(b, -(int)p->prepend);
  uint8_t *start = vg_buffer_current(b);
  b->current_length = (uint16_t)p->new_total;
  b->flags = (b->flags & ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2 | VG_BUF_ESP_DECRYPTED)) | VG_BUF_ESP_ENCRYPTED;
  b->sw_if_index[VG_TX] = VG_NONE;
  b->l3_hdr_offset = b->current_data;
  vg_ip4_opaque_t *o = vg_ip4_opaque(b);
  o->fib_index = op->sa->fib_index;
  if (VG_UNLIKELY(vg_traced(b)))
    tr->src = vg_rd_be32(start + 12), tr->dst = vg_rd_be32(start + 16), tr->length = p->new_total;
  return ERR_ENCRYPTED;
}

/* The SA packet and byte counters, added once for each run of packets on
 * the same SA. */
typedef struct {
  const vg_ipsec_sa_t *sa;
  uint64_t packets, bytes;
} sa_tally_t;

static inline void tally_flush(vg_main_t *dp, vg_thread_t *th, sa_tally_t *t) {
  if (!t->packets) return;
  vg_esp_count(dp, th, dp->ipsec->c_packets, t->sa->index, t->packets);
  vg_esp_count(dp, th, dp->ipsec->c_bytes, t->sa->index, t->bytes);
  t->packets = t->bytes = 0;
}

static inline void tally(vg_main_t *dp, vg_thread_t *th, sa_tally_t *t, const vg_ipsec_sa_t *sa, uint32_t bytes) {
  if (sa != t->sa) tally_flush(dp, th, t), t->sa = sa;
  t->packets++, t->bytes += bytes;
}

/* Passes over the vector: check every packet, claim the sequence numbers,
 * build the headers, hand the engine all of them at once (a multi-buffer
 * engine fills its lanes), finish. Trace records are filled only for
 * traced packets. */
static uint32_t esp_encrypt_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  uint32_t n = f->n, n_ops = 0, n_ready = 0, n_ok = 0;
  uint16_t next[VG_FRAME_SIZE], op_of[VG_FRAME_SIZE];
  uint8_t err[VG_FRAME_SIZE];
  encrypt_trace_t tr[VG_FRAME_SIZE];
  vg_esp_op_t ops[VG_FRAME_SIZE];
  pending_t pend[VG_FRAME_SIZE];
  for (uint32_t i = 0; i < n; i++) {
    if (i + 4 < n) {
      vg_buffer_t *ahead = vg_buffer(dp, f->bi[i + 4]);
      VG_PREFETCH_W(ahead);
      VG_PREFETCH_W(vg_buffer_current(ahead));
    }
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    if (VG_UNLIKELY(vg_traced(b))) memset(&tr[i], 0, sizeof tr[i]);
    err[i] = (uint8_t)check(dp, b, &tr[i], &ops[n_ops], &pend[n_ops]);
    if (err[i] == ERR_ENCRYPTED) op_of[i] = (uint16_t)n_ops++;
  }
  claim_seqs(ops, n_ops);
  /* Built ops move down over those that failed (n_ready <= op_of[i]). */
  for (uint32_t i = 0; i < n; i++) {
    if (err[i] != ERR_ENCRYPTED) continue;
    uint32_t j = op_of[i];
    err[i] = (uint8_t)build(dp, th, &tr[i], &ops[j], &pend[j]);
    if (err[i] != ERR_ENCRYPTED) continue;
    if (j != n_ready) ops[n_ready] = ops[j], pend[n_ready] = pend[j];
    op_of[i] = (uint16_t)n_ready++;
  }
  vg_esp_encrypt_ops(dp, th, ops, n_ready);
  sa_tally_t t = {0};
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    if (err[i] == ERR_ENCRYPTED) {
      const vg_esp_op_t *op = &ops[op_of[i]];
      err[i] = (uint8_t)finish(b, &tr[i], op, &pend[op_of[i]]);
      if (err[i] == ERR_ENCRYPTED) tally(dp, th, &t, op->sa, pend[op_of[i]].plen);
    }
    if (VG_UNLIKELY(vg_traced(b))) {
      tr[i].error = err[i];
      *(encrypt_trace_t *)vg_trace_record(th, node, b, sizeof tr[i]) = tr[i];
    }
    if (VG_LIKELY(err[i] == ERR_ENCRYPTED)) {
      n_ok++;
      next[i] = NEXT_LOOKUP;
    } else {
      b->error = vg_node_error(node, err[i]);
      next[i] = NEXT_DROP;
    }
  }
  tally_flush(dp, th, &t);
  if (n_ok) vg_node_count_error(th, node, ERR_ENCRYPTED, n_ok);
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}

const vg_node_reg_t vg_node_esp_encrypt = {
    .name = "esp-encrypt",
    .fn = esp_encrypt_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-lookup", NULL},
    .errors = errors,
    .format_trace = format_encrypt_trace,
};
