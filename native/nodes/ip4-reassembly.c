/* ip4-reassembly: fragments of datagrams addressed to the box (ip4-local
 * sends every packet with MF set or a nonzero offset here) are held until
 * their datagram is whole (RFC 791 section 3.2, RFC 815), which then goes
 * back to ip4-local as one packet. Tables and limits: ip4/reass.h.
 *
 * - Safety first: a fragment that overlaps or repeats one already held
 *   drops its whole datagram (overlap attacks rewrite headers a filter
 *   already passed); so does a last fragment contradicting a known end,
 *   a datagram of more than 64 fragments, or one whose thread holds its
 *   share of the buffer pool. Every fragment of a dropped datagram goes to
 *   error-drop under the reason, so drop counters count fragments.
 * - The datagram is joined by copying every fragment's data after the
 *   first fragment's (its header and options are the datagram's), into
 *   that buffer while it has room and into a chain after it: a datagram
 *   that fits one buffer's data (2048 bytes less the link header) leaves
 *   as one buffer, so the consumers of ip4-local see what they see
 *   unfragmented; a bigger one is a chain with every header in its first
 *   buffer. Copying costs one memcpy of the data and leaves no
 *   half-filled buffers in the chain.
 * - A context lives for the timeout from its first fragment. This node is
 *   also polled as an input node: while its thread's table holds anything
 *   it drops the fragments of expired contexts (counted), so buffers come
 *   back on an idle box too. */
#include <stdio.h>
#include <string.h>

#include "../engine/checksum.h"
#include "../ip4/ip4.h"
#include "../ip4/reass.h"

enum { NEXT_DROP, NEXT_LOCAL };

#define IP4_REASSEMBLY_ERRORS(_)                                              \
  _(REASSEMBLED, "datagrams reassembled")                                     \
  _(TIMEOUT, "timed out incomplete: fragments dropped")                       \
  _(OVERLAP, "overlap or duplicate: datagram dropped")                        \
  _(END_CONFLICT, "contradicts the known end: datagram dropped")              \
  _(TOO_MANY_FRAGMENTS, "more than 64 fragments: datagram dropped")           \
  _(BUFFER_LIMIT, "holds its share of the pool: datagram dropped")            \
  _(NO_BUFFERS, "no buffers to join: datagram dropped")                       \
  _(TOO_MANY_REASSEMBLIES, "every context in use: fragment dropped")          \
  _(BEYOND_64K, "fragment ends beyond 65535 bytes")                           \
  _(BAD_LENGTH, "MF fragment data empty or not 8-byte units")

enum {
#define _(sym, str) ERR_##sym,
  IP4_REASSEMBLY_ERRORS(_)
#undef _
  HELD /* trace only: kept for the rest of its datagram */
};
_Static_assert(VG_REASS_MAX_FRAGMENTS == 64, "the error text names the limit");

static const char *const errors[] = {
#define _(sym, str) str,
    IP4_REASSEMBLY_ERRORS(_)
#undef _
};

/* The fragments one call may send on: a fragment can drop a datagram of
 * 64, so the vector is cut short (its rest left to the next call) before
 * the pending-frame ring could overflow. */
#define MAX_OUT (4 * VG_FRAME_SIZE)

typedef struct {
  uint32_t src, dst;
  uint16_t id, offset, length;
  uint8_t proto, mf, what, n_frags;
  uint32_t held, total; /* data bytes held; the datagram's length once complete */
} reass_trace_t;

static int format_reass_trace(char *out, size_t size, const void *rec) {
  const reass_trace_t *t = rec;
  uint32_t s = t->src, d = t->dst;
  int k = snprintf(out, size, "  %u.%u.%u.%u -> %u.%u.%u.%u proto %u id %u offset %u length %u%s: ",
                   s >> 24, (s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff, d >> 24, (d >> 16) & 0xff,
                   (d >> 8) & 0xff, d & 0xff, t->proto, t->id, t->offset, t->length, t->mf ? " MF" : "");
  if (k < 0 || (size_t)k >= size) return k;
  if (t->what == HELD)
    return k + snprintf(out + k, size - (size_t)k, "held, %u fragments, %u data bytes", t->n_frags, t->held);
  if (t->what == ERR_REASSEMBLED)
    return k + snprintf(out + k, size - (size_t)k, "complete, %u bytes from %u fragments", t->total, t->n_frags);
  return k + snprintf(out + k, size - (size_t)k, "dropped, %s", errors[t->what]);
}

/* What one call sends on. */
typedef struct {
  uint32_t drop[MAX_OUT + VG_REASS_MAX_FRAGMENTS + 1];
  uint32_t local[VG_FRAME_SIZE];
  uint32_t n_drop, n_local;
} out_t;

/* One fragment as its header says. */
typedef struct {
  vg_reass_key_t key;
  uint32_t hl, start, end;
  uint8_t mf;
} frag_t;

static void trace(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, const frag_t *f, uint32_t what,
                  const vg_reass_t *r, uint32_t total) {
  reass_trace_t *t = vg_trace_record(th, node, b, sizeof *t);
  *t = (reass_trace_t){f->key.src, f->key.dst, f->key.id, (uint16_t)f->start, (uint16_t)(f->end - f->start),
                       f->key.proto, f->mf, (uint8_t)what, r ? r->n_frags : 0, r ? r->held : 0, total};
}

static void parse(vg_buffer_t *b, const uint8_t *ip, frag_t *f) {
  uint32_t field = (uint32_t)(ip[6] << 8 | ip[7]);
  f->key = (vg_reass_key_t){vg_rd_be32(ip + 12), vg_rd_be32(ip + 16), vg_ip4_opaque(b)->fib_index,
                            (uint16_t)(ip[4] << 8 | ip[5]), ip[9]};
  f->hl = (uint32_t)(ip[0] & 0x0f) * 4;
  f->start = (field & 0x1fff) * 8;
  f->end = f->start + (uint32_t)(ip[2] << 8 | ip[3]) - f->hl; /* ip4-input checked total >= hl */
  f->mf = (field & 0x2000) != 0;
}

static uint32_t chain_buffers(vg_main_t *dp, vg_buffer_t *b) {
  uint32_t n = 1;
  for (; b->flags & VG_BUF_NEXT_PRESENT; n++) b = vg_buffer(dp, b->next_buffer);
  return n;
}

/* Sends every fragment of r to error-drop under err and frees r. */
static void drop_datagram(vg_main_t *dp, vg_node_t *node, vg_reass_table_t *t, vg_reass_t *r, uint32_t err,
                          out_t *o) {
  for (uint32_t k = 0; k < r->n_frags; k++) {
    vg_buffer(dp, r->frags[k].bi)->error = vg_node_error(node, err);
    o->drop[o->n_drop++] = r->frags[k].bi;
  }
  vg_reass_release(dp->reass, t, r);
}

/* Where f goes among r's fragments (sorted by start), or ERR_OVERLAP /
 * ERR_END_CONFLICT when it cannot go anywhere. */
static uint32_t place(const vg_reass_t *r, const frag_t *f, uint32_t *at) {
  if (!f->mf) {
    if (r->has_end) return r->end == f->end ? ERR_OVERLAP : ERR_END_CONFLICT; /* a second last fragment */
    if (r->n_frags && r->frags[r->n_frags - 1].end > f->end) return ERR_END_CONFLICT;
  } else if (r->has_end && f->end > r->end) {
    return ERR_END_CONFLICT;
  }
  if (r->n_frags == VG_REASS_MAX_FRAGMENTS) return ERR_TOO_MANY_FRAGMENTS;
  uint32_t i = r->n_frags;
  while (i && r->frags[i - 1].start > f->start) i--;
  if (i && r->frags[i - 1].end > f->start) return ERR_OVERLAP;
  if (i < r->n_frags && r->frags[i].start < f->end) return ERR_OVERLAP;
  *at = i;
  return HELD;
}

static void insert(vg_reass_table_t *t, vg_reass_t *r, const frag_t *f, uint32_t at, uint32_t bi,
                   uint32_t nb) {
  memmove(r->frags + at + 1, r->frags + at, (r->n_frags - at) * sizeof r->frags[0]);
  r->frags[at] = (vg_reass_frag_t){bi, (uint16_t)f->start, (uint16_t)f->end};
  r->n_frags++;
  r->held += f->end - f->start;
  r->n_buffers += nb;
  t->n_buffers += nb;
  if (!f->mf) r->has_end = 1, r->end = f->end;
}

/* Cuts the chain at h to its first len bytes. */
static void chain_trim(vg_thread_t *th, vg_main_t *dp, vg_buffer_t *h, uint32_t len) {
  vg_buffer_t *b = h;
  uint32_t at = 0;
  while (at + b->current_length < len && (b->flags & VG_BUF_NEXT_PRESENT)) {
    at += b->current_length;
    b = vg_buffer(dp, b->next_buffer);
  }
  if (b->current_length > len - at) b->current_length = (uint16_t)(len - at);
  vg_buffer_free_tail(th, b);
  /* Unchained, the field is stale: vg_buffer_append adds to it. */
  h->total_length_not_including_first_buffer =
      (h->flags & VG_BUF_NEXT_PRESENT) ? len - h->current_length : 0;
}

/* Appends the data of the fragment at bi (after its hl-byte header, len
 * bytes) to the chain at head. */
static int append_data(vg_thread_t *th, vg_main_t *dp, uint32_t head, uint32_t bi, uint32_t hl, uint32_t len) {
  vg_buffer_t *b = vg_buffer(dp, bi);
  uint32_t skip = hl;
  while (len) {
    uint32_t have = b->current_length > skip ? b->current_length - skip : 0, k = have < len ? have : len;
    if (k && vg_buffer_append(th, head, vg_buffer_current(b) + skip, k)) return -1;
    len -= k;
    skip -= skip < b->current_length ? skip : b->current_length;
    if (len) b = vg_buffer(dp, b->next_buffer); /* ip4-input checked the chain holds total */
  }
  return 0;
}

/* Joins r's fragments behind the first one's header into *head (r's other
 * buffers freed) and returns ERR_REASSEMBLED, or an error with every
 * buffer still r's. */
static uint32_t join(vg_thread_t *th, vg_main_t *dp, vg_reass_t *r, uint32_t *head, uint32_t *total_out) {
  uint32_t h = r->frags[0].bi;
  vg_buffer_t *hb = vg_buffer(dp, h);
  uint8_t *ip = vg_buffer_current(hb);
  uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, total = hl + r->end;
  if (total > 65535) return ERR_BEYOND_64K;
  chain_trim(th, dp, hb, hl + r->frags[0].end);
  for (uint32_t k = 1; k < r->n_frags; k++) {
    uint8_t *fip = vg_buffer_current(vg_buffer(dp, r->frags[k].bi));
    if (append_data(th, dp, h, r->frags[k].bi, (uint32_t)(fip[0] & 0x0f) * 4,
                    r->frags[k].end - r->frags[k].start)) {
      chain_trim(th, dp, hb, hl + r->frags[0].end); /* what was appended goes back */
      return ERR_NO_BUFFERS;
    }
  }
  for (uint32_t k = 1; k < r->n_frags; k++) vg_buffer_free(th, &r->frags[k].bi, 1);
  uint16_t field = (uint16_t)((ip[6] << 8 | ip[7]) & 0xc000); /* MF and offset cleared */
  vg_put_be16(ip + 2, (uint16_t)total);
  vg_put_be16(ip + 6, field);
  ip[10] = ip[11] = 0;
  vg_put_be16(ip + 10, vg_csum_fold(vg_csum_add(0, ip, hl)));
  *head = h;
  *total_out = total;
  return ERR_REASSEMBLED;
}

/* One fragment: held, dropped (with its datagram when it must be) or the
 * last piece of a datagram that goes on whole. */
static void one(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_reass_table_t *t, uint32_t bi,
                uint64_t now, out_t *o) {
  vg_buffer_t *b = vg_buffer(dp, bi);
  frag_t f;
  parse(b, vg_buffer_current(b), &f);
  uint32_t err = HELD, at = 0, nb = 0, total = 0, head = VG_NONE;
  int inserted = 0;
  vg_reass_t *r = NULL;
  if (f.mf && (f.end == f.start || ((f.end - f.start) & 7))) err = ERR_BAD_LENGTH;
  else if (f.hl + f.end > 65535) err = ERR_BEYOND_64K;
  else if (!(r = vg_reass_get(dp->reass, t, &f.key, now))) err = ERR_TOO_MANY_REASSEMBLIES;
  else if ((err = place(r, &f, &at)) == HELD &&
           t->n_buffers + (nb = chain_buffers(dp, b)) > dp->reass->max_buffers)
    err = ERR_BUFFER_LIMIT;
  if (err == HELD) {
    insert(t, r, &f, at, bi, nb);
    inserted = 1;
    if (r->has_end && r->held == r->end) err = join(th, dp, r, &head, &total);
  }
  if (VG_UNLIKELY(vg_traced(b))) trace(th, node, b, &f, err, r, total);
  if (err == HELD) return;
  if (err == ERR_REASSEMBLED) {
    vg_reass_release(dp->reass, t, r);
    vg_node_count_error(th, node, ERR_REASSEMBLED, 1);
    o->local[o->n_local++] = head;
    return;
  }
  if (!inserted) {
    b->error = vg_node_error(node, err);
    o->drop[o->n_drop++] = bi;
  }
  if (r) drop_datagram(dp, node, t, r, err, o);
}

/* The input side: drops the fragments of contexts past their deadline,
 * oldest first, as many as one call may send on. */
static uint32_t expire(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_reass_table_t *t, out_t *o) {
  if (VG_LIKELY(!t->n_active)) return 0;
  uint64_t now = vg_time_ns();
  while (t->oldest != VG_NONE && t->ctx[t->oldest].deadline_ns <= now && o->n_drop < MAX_OUT)
    drop_datagram(dp, node, t, &t->ctx[t->oldest], ERR_TIMEOUT, o);
  return o->n_drop;
}

static uint32_t ip4_reassembly_fn(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f) {
  static _Thread_local out_t o;
  vg_reass_table_t *t = &dp->reass->tables[th->index];
  o.n_drop = o.n_local = 0;
  uint32_t i = 0;
  if (!f) {
    uint32_t n = expire(dp, th, node, t, &o);
    vg_enqueue_next(th, node, NEXT_DROP, o.drop, o.n_drop);
    return n;
  }
  uint64_t now = vg_time_ns();
  for (; i < f->n && o.n_drop < MAX_OUT; i++) {
    if (i + 1 < f->n) VG_PREFETCH(vg_buffer_current(vg_buffer(dp, f->bi[i + 1])));
    one(dp, th, node, t, f->bi[i], now, &o);
  }
  if (i < f->n) vg_enqueue(th, node->index, f->bi + i, f->n - i);
  vg_enqueue_next(th, node, NEXT_LOCAL, o.local, o.n_local);
  vg_enqueue_next(th, node, NEXT_DROP, o.drop, o.n_drop);
  return i;
}

/* An input node only for its expiry poll: it makes no packets of its own. */
const vg_node_reg_t vg_node_ip4_reassembly = {
    .name = "ip4-reassembly",
    .fn = ip4_reassembly_fn,
    .type = VG_NODE_INPUT,
    .next_nodes = (const char *const[]){"error-drop", "ip4-local", NULL},
    .errors = (const char *const[]){
#define _(sym, str) str,
        IP4_REASSEMBLY_ERRORS(_)
#undef _
        NULL},
    .format_trace = format_reass_trace,
};
