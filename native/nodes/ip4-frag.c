/* ip4-frag: splits an IPv4 packet bigger than its output interface's MTU
 * (don't-fragment clear: ip4-rewrite sends only those here) into fragments
 * (RFC 791 section 3.2) and hands them back to ip4-rewrite, which
 * decrements their TTL and gives each the adjacency's L2 header.
 *
 * - Data is cut in multiples of 8 bytes; a packet that is already a
 *   fragment keeps its place: its pieces carry its offset plus theirs, and
 *   only the last of them keeps its MF flag.
 * - Options: the first fragment carries them all, the others only those
 *   with the copy flag set, padded with end-of-options (RFC 791).
 * - Each fragment is made in new buffers; the input may be a chain, and a
 *   fragment longer than a buffer's data (an MTU above 2048) is a chain.
 * - All of a packet is fragmented or none of it: when the pool runs out
 *   midway, the fragments made are freed and the packet is dropped and
 *   counted, so no receiver waits for the rest of a datagram in vain. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"

enum { NEXT_DROP, NEXT_REWRITE };

#define IP4_FRAG_ERRORS(_)                                                    \
  _(FRAGMENTED, "packets fragmented")                                        \
  _(FRAGMENTS, "fragments made")                                             \
  _(NO_BUFFERS, "no buffers for the fragments (pool exhausted)")             \
  _(MALFORMED, "header, options or total length do not fit the packet")      \
  _(BEYOND_64K, "fragment offset plus data beyond 65535 bytes")              \
  _(MTU_TOO_SMALL, "MTU leaves no room for a header and 8 bytes of data")

enum {
#define _(sym, str) ERR_##sym,
  IP4_FRAG_ERRORS(_)
#undef _
  ERR_NONE
};

/* The fragments one call queues before it leaves the rest of its vector
 * to its next call: the pending-frame ring holds a few frames per node. A
 * single packet still completes (at most 8192 fragments: 65535 bytes in
 * 8-byte pieces), so every call makes progress. */
#define FRAGMENTS_PER_CALL (4 * VG_FRAME_SIZE)
#define MAX_FRAGMENTS 8192
#define MAX_FRAGMENT_BUFFERS ((65535 + VG_BUFFER_DATA_SIZE - 1) / VG_BUFFER_DATA_SIZE)

typedef struct {
  uint32_t mtu, total, n_fragments, max_len, offset;
  uint16_t id;
  uint8_t mf, error;
} frag_trace_t;

static int format_frag_trace(char *out, size_t size, const void *rec) {
  const frag_trace_t *t = rec;
  if (t->error != ERR_NONE)
    return snprintf(out, size, "  mtu %u: %u bytes not fragmented", t->mtu, t->total);
  return snprintf(out, size,
                  "  mtu %u: %u bytes (id %u offset %u%s) into %u fragments of at most %u bytes",
                  t->mtu, t->total, t->id, t->offset, t->mf ? " MF" : "", t->n_fragments, t->max_len);
}

/* What one packet's fragments look like, worked out before any is made. */
typedef struct {
  uint32_t hl, payload;    /* the packet's header length and data bytes */
  uint32_t offset;         /* its own fragment offset, in bytes */
  uint16_t kept_flags;     /* reserved and DF bits, kept in every fragment */
  uint8_t mf;              /* more fragments of its datagram follow it */
  uint32_t first_max;      /* data bytes in the first fragment, a multiple of 8 */
  uint32_t later_max;      /* in each later one */
  uint32_t later_hl;       /* the later fragments' header: the copied options */
  uint8_t later[60];
} frag_plan_t;

/* The options a later fragment carries (copy flag set), padded to 4
 * bytes. Returns 0 when an option runs past the header. */
static int copied_options(const uint8_t *o, uint32_t n, uint8_t *out, uint32_t *out_len) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < n;) {
    if (o[i] == 0) break; /* end of options */
    if (o[i] == 1) {      /* no-operation: one byte, not copied */
      i++;
      continue;
    }
    if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) return 0;
    if (o[i] & 0x80) {
      memcpy(out + k, o + i, o[i + 1]);
      k += o[i + 1];
    }
    i += o[i + 1];
  }
  while (k & 3) out[k++] = 0;
  *out_len = k;
  return 1;
}

static uint32_t plan(vg_buffer_t *b, uint32_t mtu, frag_plan_t *p) {
  const uint8_t *ip = vg_buffer_current(b);
  if (b->current_length < 20) return ERR_MALFORMED;
  uint32_t total = (uint32_t)(ip[2] << 8 | ip[3]), field = (uint32_t)(ip[6] << 8 | ip[7]);
  p->hl = (uint32_t)(ip[0] & 0x0f) * 4;
  if (p->hl < 20 || p->hl > b->current_length || total <= p->hl || total > vg_buffer_length_in_chain(b))
    return ERR_MALFORMED;
  p->payload = total - p->hl;
  p->offset = (field & 0x1fff) * 8;
  p->mf = (field & 0x2000) != 0;
  p->kept_flags = (uint16_t)(field & 0xc000);
  /* The last piece's offset must still fit the 13-bit field. */
  if (p->offset + p->payload > 65535) return ERR_BEYOND_64K;
  uint32_t olen;
  if (!copied_options(ip + 20, p->hl - 20, p->later + 20, &olen)) return ERR_MALFORMED;
  memcpy(p->later, ip, 20);
  p->later_hl = 20 + olen;
  p->later[0] = (uint8_t)(0x40 | p->later_hl / 4);
  if (mtu < p->hl + 8) return ERR_MTU_TOO_SMALL; /* the later header is never longer */
  p->first_max = (mtu - p->hl) & ~7u;
  p->later_max = (mtu - p->later_hl) & ~7u;
  return ERR_NONE;
}

/* Where the next data byte to copy is: a buffer of the input chain and an
 * offset in its current data. */
typedef struct {
  vg_buffer_t *b;
  uint32_t at;
} cursor_t;

/* The plan checked that the chain holds every byte the cursor is asked for. */
static void cursor_copy(vg_main_t *dp, cursor_t *c, uint8_t *to, uint32_t len) {
  while (len) {
    uint32_t left = c->b->current_length - c->at;
    if (!left) {
      c->b = vg_buffer(dp, c->b->next_buffer);
      c->at = 0;
      continue;
    }
    uint32_t k = len < left ? len : left;
    memcpy(to, vg_buffer_current(c->b) + c->at, k);
    to += k;
    c->at += k;
    len -= k;
  }
}

/* The fragment header: the packet's (first) or the later one, with its
 * length, offset and flags, and the checksum over it all. */
static void write_header(uint8_t *h, const uint8_t *from, uint32_t hl, uint32_t len, uint16_t field) {
  memcpy(h, from, hl);
  vg_put_be16(h + 2, (uint16_t)len);
  vg_put_be16(h + 6, field);
  h[10] = h[11] = 0;
  vg_put_be16(h + 10, vg_csum_fold(vg_csum_add(0, h, hl)));
}

/* One fragment of hl header bytes from hdr and d data bytes from the
 * cursor, with the original's metadata (adjacency, interfaces). Returns
 * its head buffer, or VG_BUFFER_INVALID when the pool ran out. */
static uint32_t make_fragment(vg_main_t *dp, vg_thread_t *th, const vg_buffer_t *orig,
                              const uint8_t *hdr, uint32_t hl, uint16_t field, uint32_t d,
                              cursor_t *c) {
  uint32_t len = hl + d, nb = (len + VG_BUFFER_DATA_SIZE - 1) / VG_BUFFER_DATA_SIZE;
  uint32_t bi[MAX_FRAGMENT_BUFFERS];
  uint32_t got = vg_buffer_alloc(th, bi, nb);
  if (VG_UNLIKELY(got != nb)) {
    for (uint32_t k = 0; k < got; k++) vg_buffer(dp, bi[k])->flags = 0; /* not chains */
    vg_buffer_free(th, bi, got);
    return VG_BUFFER_INVALID;
  }
  vg_buffer_t *head = vg_buffer(dp, bi[0]);
  *head = *orig;
  head->flags &= ~(VG_BUF_NEXT_PRESENT | VG_BUF_TRACED);
  head->current_data = head->l2_hdr_offset = head->l3_hdr_offset = 0;
  head->total_length_not_including_first_buffer = len > VG_BUFFER_DATA_SIZE ? len - VG_BUFFER_DATA_SIZE : 0;
  uint32_t left = len;
  for (uint32_t k = 0; k < nb; k++) {
    vg_buffer_t *x = vg_buffer(dp, bi[k]);
    uint32_t n = left < VG_BUFFER_DATA_SIZE ? left : VG_BUFFER_DATA_SIZE;
    uint8_t *p = vg_buffer_data(x);
    if (k) x->current_data = 0, x->flags = 0;
    x->current_length = (uint16_t)n;
    if (k + 1 < nb) x->flags |= VG_BUF_NEXT_PRESENT, x->next_buffer = bi[k + 1];
    if (!k) write_header(p, hdr, hl, len, field), p += hl, n -= hl;
    cursor_copy(dp, c, p, n);
    left -= x->current_length;
  }
  return bi[0];
}

/* Makes every fragment of b into heads[]; returns how many, or 0 with
 * b->error set when b is to be dropped. */
static uint32_t fragment(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b,
                         uint32_t *heads) {
  uint32_t mtu = dp->interfaces[dp->ip4->adjs[vg_ip4_opaque(b)->adj].sw_if_index]->mtu;
  frag_plan_t p = {0};
  uint32_t err = plan(b, mtu, &p), n = 0;
  const uint8_t *ip = vg_buffer_current(b);
  cursor_t c = {b, p.hl};
  for (uint32_t at = 0; err == ERR_NONE && at < p.payload; n++) {
    uint32_t max = n ? p.later_max : p.first_max, d = p.payload - at < max ? p.payload - at : max;
    int last = at + d == p.payload;
    uint16_t field = (uint16_t)(p.kept_flags | ((!last || p.mf) ? 0x2000 : 0) | (p.offset + at) >> 3);
    heads[n] = make_fragment(dp, th, b, n ? p.later : ip, n ? p.later_hl : p.hl, field, d, &c);
    if (VG_UNLIKELY(heads[n] == VG_BUFFER_INVALID)) {
      vg_buffer_free(th, heads, n);
      err = ERR_NO_BUFFERS;
    }
    at += d;
  }
  if (VG_UNLIKELY(vg_traced(b))) {
    frag_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
    *t = (frag_trace_t){mtu, (uint32_t)(ip[2] << 8 | ip[3]), n, p.hl + p.first_max, p.offset,
                        (uint16_t)(ip[4] << 8 | ip[5]), p.mf, (uint8_t)err};
    if (err == ERR_NONE) { /* the first fragment carries the trace on */
      vg_buffer_t *first = vg_buffer(dp, heads[0]);
      first->flags |= VG_BUF_TRACED;
      first->trace_index = b->trace_index;
    }
  }
  if (err == ERR_NONE) return n;
  b->error = vg_node_error(node, err);
  return 0;
}

static uint32_t ip4_frag_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  static _Thread_local uint32_t heads[MAX_FRAGMENTS];
  uint32_t done[VG_FRAME_SIZE], drop[VG_FRAME_SIZE];
  uint32_t n_done = 0, n_drop = 0, made = 0, i = 0;
  for (; i < f->n && made < FRAGMENTS_PER_CALL; i++) {
    if (i + 1 < f->n) { /* the copying hides the next packet's latency */
      vg_buffer_t *ahead = vg_buffer(dp, f->bi[i + 1]);
      VG_PREFETCH(ahead);
      VG_PREFETCH(vg_buffer_current(ahead));
    }
    vg_buffer_t *b = vg_buffer(dp, f->bi[i]);
    uint32_t n = fragment(dp, th, node, b, heads);
    if (n) {
      vg_enqueue_next(th, node, NEXT_REWRITE, heads, n);
      done[n_done++] = f->bi[i];
      made += n;
    } else {
      drop[n_drop++] = f->bi[i];
    }
  }
  if (i < f->n) vg_enqueue(th, node->index, f->bi + i, f->n - i);
  vg_node_count_error(th, node, ERR_FRAGMENTED, n_done);
  vg_node_count_error(th, node, ERR_FRAGMENTS, made);
  vg_buffer_free(th, done, n_done);
  vg_enqueue_next(th, node, NEXT_DROP, drop, n_drop);
  return i;
}

const vg_node_reg_t vg_node_ip4_frag = {
    .name = "ip4-frag",
    .fn = ip4_frag_fn,
    .next_nodes = (const char *const[]){"error-drop", "ip4-rewrite", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        IP4_FRAG_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_frag_trace,
};
