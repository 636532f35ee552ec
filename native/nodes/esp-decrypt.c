/* esp-decrypt: ESP (RFC 4303) for an address of the box, from ip4-local:
 * IPv4 protocol 50, or UDP to the port of a UDP-encapsulated inbound SA
 * (RFC 3948: a zero non-ESP marker is IKE, a lone 0xff byte a NAT
 * keepalive; both are counted and dropped until there is a punt path).
 * The SA is found by (SPI, destination, VRF). Order of checks, as RFC 4303
 * 3.4 has it: lengths, the replay window (before the ICV, so a flood of
 * replays costs no crypto), the ICV (constant-time compare; GCM's tag),
 * then the window moves, then the padding (1, 2, 3 ...) and next header.
 * Tunnel mode: the inner IPv4 packet goes to ip4-input, received on the
 * tunnel the SA protects (its rx counters) or else on the interface the
 * ESP came in on. Transport mode: the IPv4 header is rebuilt around the
 * payload (protocol = next header) and goes to ip4-input too. Each way a
 * packet can fail has its own drop reason and SA counter. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "../ipsec/esp.h"

enum { NEXT_DROP, NEXT_IP4_INPUT };

#define ESP_DECRYPT_ERRORS(_)                                                     \
  _(DECRYPTED, "packets decrypted")                                              \
  _(TRUNCATED, "truncated ESP packet")                                           \
  _(BAD_LENGTH, "ciphertext not a whole number of blocks")                       \
  _(NO_SA, "no SA for the SPI")                                                  \
  _(NOT_UDP_ENCAP, "ESP in UDP not matching the SA's encapsulation")             \
  _(REPLAYED, "replayed packet")                                                 \
  _(TOO_OLD, "sequence number older than the replay window")                     \
  _(INTEGRITY, "integrity check failed (bad ICV)")                               \
  _(PADDING, "bad padding")                                                      \
  _(NEXT_HEADER, "unexpected next header for the SA's mode")                     \
  _(DUMMY, "dummy packet (next header 59)")                                      \
  _(IKE, "IKE on the NAT-T port (no punt path yet)")             \
  _(KEEPALIVE, "NAT-T keepalive")                                                \
  _(CHAINED, "chained buffers are not decrypted")                                \
  _(TUNNEL_DOWN, "tunnel interface is admin down")                               \
  _(CRYPTO, "crypto library error")

enum {
#define _(sym, str) ERR_##sym,
  ESP_DECRYPT_ERRORS(_)
#undef _
};

static const char *const errors[] = {
#define _(sym, str) str,
    ESP_DECRYPT_ERRORS(_)
#undef _
    NULL};

typedef struct {
  uint32_t spi, sa_id, src, dst, length, sw_if_index;
  uint64_t seq;
  uint8_t error, next_header, udp, has_sa;
} decrypt_trace_t;

static int format_decrypt_trace(char *out, size_t size, const void *rec) {
  const decrypt_trace_t *t = rec;
  uint32_t s = t->src, d = t->dst;
  int k = snprintf(out, size, "  esp%s %u.%u.%u.%u -> %u.%u.%u.%u spi 0x%08x", t->udp ? " in udp" : "",
                   s >> 24, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, d >> 24, (d >> 16) & 0xff,
                   (d >> 8) & 0xff, d & 0xff, t->spi);
  if (k < 0 || (size_t)k >= size) return k;
  if (t->has_sa) {
    int n = snprintf(out + k, size - (size_t)k, " sa %u seq %llu", t->sa_id, (unsigned long long)t->seq);
    if (n < 0 || (size_t)(k + n) >= size) return k + n;
    k += n;
  }
  if (t->error != ERR_DECRYPTED) return k + snprintf(out + k, size - (size_t)k, ": dropped, %s", errors[t->error]);
  return k + snprintf(out + k, size - (size_t)k, ": decrypted, next header %u, %u bytes, rx sw_if_index %u",
                      t->next_header, t->length, t->sw_if_index);
}

/* Where the ESP header starts, or an error: UDP-encapsulated ESP, IKE and
 * keepalives told apart (RFC 3948 2.2). */
static inline uint32_t esp_offset(const uint8_t *ip, uint32_t hl, uint32_t total, uint32_t *off) {
  *off = hl;
  if (ip[9] != 17) return ERR_DECRYPTED;
  if (total < hl + 9) return ERR_TRUNCATED;
  const uint8_t *p = ip + hl + 8;
  if (total == hl + 9 && p[0] == 0xff) return ERR_KEEPALIVE;
  if (total >= hl + 12 && !p[0] && !p[1] && !p[2] && !p[3]) return ERR_IKE;
  *off = hl + 8;
  return ERR_DECRYPTED;
}

static inline uint32_t counted(vg_main_t *dp, vg_thread_t *th, uint64_t *c, uint32_t slot, uint32_t err) {
  vg_esp_count(dp, th, c, slot, 1);
  return err;
}

/* Everything before the crypto: lengths, the SA, the replay window (before
 * the ICV, so replays cost no crypto). ERR_DECRYPTED: op is ready for the
 * engine. */
static inline uint32_t prepare(vg_main_t *dp, vg_thread_t *th, vg_buffer_t *b, decrypt_trace_t *tr,
                               vg_esp_op_t *op) {
  vg_ipsec_main_t *im = dp->ipsec;
  uint8_t *ip = vg_buffer_current(b);
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, total = (uint32_t)(ip[2] << 8 | ip[3]), off;
  tr->src = vg_rd_be32(ip + 12), tr->dst = vg_rd_be32(ip + 16), tr->udp = ip[9] == 17;
  if (VG_UNLIKELY(b->flags & VG_BUF_NEXT_PRESENT)) return ERR_CHAINED;
  if (VG_UNLIKELY(total > b->current_length)) return ERR_TRUNCATED;
  uint32_t err = esp_offset(ip, hl, total, &off);
  if (VG_UNLIKELY(err != ERR_DECRYPTED)) return err;
  if (VG_UNLIKELY(total < off + VG_ESP_HDR)) return ERR_TRUNCATED;
  uint8_t *esp = ip + off;
  tr->spi = vg_rd_be32(esp);
  vg_ipsec_sa_t *sa = im ? vg_esp_find_inbound(im, tr->spi, tr->dst, vg_ip4_opaque(b)->fib_index) : NULL;
  if (VG_UNLIKELY(!sa)) return ERR_NO_SA;
  uint32_t slot = sa->index;
  tr->has_sa = 1, tr->sa_id = sa->sa_id;
  /* In UDP: the SA's port only (plain ESP to a UDP-encapsulated SA is taken, as peers may stop NAT-T). */
  if (VG_UNLIKELY(tr->udp && (!sa->udp || (uint32_t)(ip[hl + 2] << 8 | ip[hl + 3]) != sa->dport)))
    return counted(dp, th, im->c_decrypt_errors, slot, ERR_NOT_UDP_ENCAP);
  uint32_t esp_len = total - off, min_ct = sa->is_gcm ? 4 : 16;
  if (VG_UNLIKELY(esp_len < VG_ESP_HDR + sa->iv_len + min_ct + sa->icv_len))
    return counted(dp, th, im->c_decrypt_errors, slot, ERR_TRUNCATED);
  uint32_t ct_len = esp_len - VG_ESP_HDR - sa->iv_len - sa->icv_len;
  if (VG_UNLIKELY(ct_len & (sa->block - 1u))) return counted(dp, th, im->c_decrypt_errors, slot, ERR_BAD_LENGTH);
  /* The window before the ICV: replays cost no crypto. */
  vg_esp_lock(dp, sa);
  uint64_t seq = vg_esp_infer_seq(sa, vg_rd_be32(esp + 4));
  int r = vg_esp_replay_check(sa, seq);
  vg_esp_unlock(dp, sa);
  tr->seq = seq;
  if (VG_UNLIKELY(r != VG_ESP_SEQ_OK))
    return counted(dp, th, im->c_replay_drops, slot, r == VG_ESP_SEQ_REPLAYED ? ERR_REPLAYED : ERR_TOO_OLD);
  op->sa = sa, op->esp = esp, op->data = esp + VG_ESP_HDR + sa->iv_len, op->len = ct_len, op->seq = seq;
  return ERR_DECRYPTED;
}

/* After the engine checked the ICV (constant time) and decrypted. */
static inline uint32_t finish(vg_main_t *dp, vg_thread_t *th, vg_buffer_t *b, decrypt_trace_t *tr,
                              const vg_esp_op_t *op) {
  vg_ipsec_main_t *im = dp->ipsec;
  vg_ipsec_sa_t *sa = op->sa;
  uint32_t slot = sa->index, ct_len = op->len;
  uint64_t seq = op->seq;
  uint8_t *ip = vg_buffer_current(b), *ct = op->data;
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
  if (VG_UNLIKELY(op->status == VG_ESP_OP_BAD_ICV)) return counted(dp, th, im->c_integ_fails, slot, ERR_INTEGRITY);
  if (VG_UNLIKELY(op->status != VG_ESP_OP_OK)) return counted(dp, th, im->c_decrypt_errors, slot, ERR_CRYPTO);
  /* Authentic: the window moves (checked again: another thread may have
   * taken this number meanwhile, or an earlier packet of this vector). */
  vg_esp_lock(dp, sa);
  int r = vg_esp_replay_check(sa, seq);
  if (VG_LIKELY(r == VG_ESP_SEQ_OK)) vg_esp_replay_update(sa, seq);
  vg_esp_unlock(dp, sa);
  if (VG_UNLIKELY(r != VG_ESP_SEQ_OK))
    return counted(dp, th, im->c_replay_drops, slot, r == VG_ESP_SEQ_REPLAYED ? ERR_REPLAYED : ERR_TOO_OLD);
  uint32_t pad = ct[ct_len - 2], nh = ct[ct_len - 1];
  tr->next_header = (uint8_t)nh;
  if (VG_UNLIKELY(pad + 2 > ct_len)) return counted(dp, th, im->c_decrypt_errors, slot, ERR_PADDING);
  uint32_t plen = ct_len - 2 - pad;
  for (uint32_t i = 0; i < pad; i++)
    if (VG_UNLIKELY(ct[plen + i] != (uint8_t)(i + 1))) return counted(dp, th, im->c_decrypt_errors, slot, ERR_PADDING);
  if (VG_UNLIKELY(nh == 59)) return ERR_DUMMY;
  if (sa->tunnel) {
    if (VG_UNLIKELY(nh != 4 || plen < 20)) return counted(dp, th, im->c_decrypt_errors, slot, ERR_NEXT_HEADER);
    vg_buffer_advance(b, (int)(ct - ip));
  } else {
    /* The IPv4 header moves up to the payload, which keeps its place. */
    uint8_t *h = ct - hl;
    memmove(h, ip, hl);
    h[9] = (uint8_t)nh;
    vg_put_be16(h + 2, (uint16_t)(hl + plen));
    h[10] = h[11] = 0;
    vg_put_be16(h + 10, vg_csum_fold(vg_csum_add(0, h, hl)));
    vg_buffer_advance(b, (int)(h - ip));
    plen += hl;
  }
  b->current_length = (uint16_t)plen;
  if (sa->sw_if_index != VG_NONE) {
    vg_interface_t *itf = dp->interfaces[sa->sw_if_index];
    if (VG_UNLIKELY(!itf->admin_up)) return ERR_TUNNEL_DOWN;
    b->sw_if_index[VG_RX] = sa->sw_if_index;
    vg_if_count_rx(dp, th, sa->sw_if_index, 1, plen);
  }
  b->sw_if_index[VG_TX] = VG_NONE;
  b->flags = (b->flags & ~(VG_BUF_VLAN_1 | VG_BUF_VLAN_2 | VG_BUF_ESP_ENCRYPTED)) | VG_BUF_ESP_DECRYPTED;
  *vg_esp_sa_slot(b) = slot;
  vg_esp_count(dp, th, im->c_packets, slot, 1);
  vg_esp_count(dp, th, im->c_bytes, slot, sa->tunnel ? plen : plen - hl);
  tr->length = plen, tr->sw_if_index = b->sw_if_index[VG_RX];
  return ERR_DECRYPTED;
}

/* Three passes over the vector: prepare every packet, hand the engine all
 * of them at once (a multi-buffer engine fills its lanes), finish. */
static uint32_t esp_decrypt_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  uint32_t n = f->n, n_ops = 0, n_ok = 0;
  uint16_t next[VG_FRAME_SIZE], op_of[VG_FRAME_SIZE];
  uint8_t err[VG_FRAME_SIZE];
  decrypt_trace_t tr[VG_FRAME_SIZE];
  vg_esp_op_t ops[VG_FRAME_SIZE];
  for (uint32_t i = 0; i < n; i++) {
    if (i + 4 < n) {
      vg_buffer_t *ahead = vg_buffer(dp, f->bi[i + 4]);
      VG_PREFETCH_W(ahead);
      VG_PREFETCH_W(vg_buffer_current(ahead));
    }
    memset(&tr[i], 0, sizeof tr[i]);
    err[i] = (uint8_t)prepare(dp, th, vg_buffer(dp, f->bi[i]), &tr[i], &ops[n_ops]);
    if (err[i] == ERR_DECRYPTED) op_of[i] = (uint16_t)n_ops++;
  }
  vg_esp_decrypt_ops(dp, th, ops, n_ops);
  for (uint32_t i = 0; i < n; i++) {
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    if (err[i] == ERR_DECRYPTED) err[i] = (uint8_t)finish(dp, th, b, &tr[i], &ops[op_of[i]]);
    tr[i].error = err[i];
    if (VG_UNLIKELY(vg_traced(b))) *(decrypt_trace_t *)vg_trace_record(th, node, b, sizeof tr[i]) = tr[i];
    if (VG_LIKELY(err[i] == ERR_DECRYPTED)) {
      n_ok++;
      next[i] = NEXT_IP4_INPUT;
    } else {
      b->error = vg_node_error(node, err[i]);
      next[i] = NEXT_DROP;
    }
  }
  if (n_ok) vg_node_count_error(th, node, ERR_DECRYPTED, n_ok);
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}

const vg_node_reg_t vg_node_esp_decrypt = {
    .name = "esp-decrypt",
    .fn = esp_decrypt_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-input", NULL},
    .errors = errors,
    .format_trace = format_decrypt_trace,
};
