/* The dataplane's internal model: graph, threads, frames, buffer pool.
 * Nodes and interfaces include this; the public API is include/vecgate.h. */
#ifndef VG_H
#define VG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "buffer.h"
#include "clock.h"
#include "vecgate.h"

#define VG_FRAME_SIZE 256
#define VG_MAX_THREADS 64
#define VG_MAX_NEXT 32
#define VG_CACHE_LINE 64

#define VG_LIKELY(x) __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VG_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#define VG_PREFETCH_W(p) __builtin_prefetch((p), 1, 3)
#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_NONE UINT32_MAX /* no interface (and other absent indices) */

typedef struct vg_dp vg_main_t;
typedef struct vg_thread vg_thread_t;
typedef struct vg_node vg_node_t;

typedef struct {
  uint32_t n;
  uint32_t node;        /* node that will run this frame */
  uint32_t pad[14];     /* indices start on their own cache line */
  uint32_t bi[VG_FRAME_SIZE];
} vg_frame_t;
_Static_assert(sizeof(vg_frame_t) % 64 == 0, "frames are whole cache lines");

/* Returns the number of packets the call handled. Input nodes get frame NULL. */
typedef uint32_t vg_node_fn_t(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *frame);
/* Writes one trace record of this node as text; returns the length written. */
typedef int vg_trace_fmt_t(char *out, size_t size, const void *record);

typedef enum { VG_NODE_INTERNAL = 0, VG_NODE_INPUT = 1 } vg_node_type_t;

/* A node's registration: reading it tells where packets can go. */
typedef struct {
  const char *name;
  vg_node_fn_t *fn;
  vg_node_type_t type;
  const char *const *next_nodes; /* NULL-terminated names; index = next index */
  const char *const *errors;     /* NULL-terminated error strings; index = error code */
  vg_trace_fmt_t *format_trace;
} vg_node_reg_t;

struct vg_node {
  const vg_node_reg_t *reg;
  uint32_t index;
  uint32_t n_next;
  uint32_t next[VG_MAX_NEXT]; /* next index -> node index */
  uint32_t error_base;        /* first global error index of this node */
  uint32_t n_errors;
  int input_active;           /* input nodes: polled only when something feeds them */
};

/* Per-thread, per-node state. */
typedef struct {
  vg_frame_t *open; /* frame still accepting packets, already queued to run */
} vg_node_rt_t;

typedef struct {
  uint32_t n;
  uint32_t bi[];
} vg_buffer_stack_t;

#define VG_BUFFER_CACHE 512

struct vg_thread {
  uint32_t index;
  int cpu;                    /* pinned core, or -1 */
  vg_main_t *dp;
  pthread_t tid;
  vg_node_rt_t *rt;           /* [n_nodes] */
  /* pending frames, FIFO ring */
  vg_frame_t **pending;
  uint32_t pending_head, pending_tail, pending_mask;
  vg_frame_t **frame_free;    /* free frame stack */
  uint32_t n_frame_free, frame_free_cap;
  /* buffer cache, refilled from and returned to the shared pool in batches */
  uint32_t n_cached;
  uint32_t cache[2 * VG_BUFFER_CACHE];
  /* this thread's rows in the stats segment */
  uint64_t *node_calls, *node_vectors, *node_packets, *node_clocks;
  uint64_t *errors;
  /* trace */
  uint32_t trace_remaining; /* packets still to mark at the traced input node */
  uint32_t trace_node;
  uint64_t last_clock;
  _Atomic int32_t os_tid;     /* Linux thread id while running, else 0 */
};

typedef struct vg_interface vg_interface_t;
typedef struct vg_pg_stream vg_pg_stream_t;
struct vg_text;

struct vg_dp {
  /* buffer pool */
  uint8_t *buffer_mem;
  uint64_t buffer_mem_size;
  uint32_t n_buffers;
  const char *buffer_backing;
  pthread_mutex_t pool_lock;
  vg_buffer_stack_t *pool_free;
  /* graph */
  vg_node_t *nodes;
  uint32_t n_nodes;
  uint32_t n_errors;
  /* threads */
  uint32_t n_threads;
  vg_thread_t *threads;
  atomic_int running;
  atomic_int stop;
  atomic_int barrier_request;
  atomic_int barrier_parked;
  pthread_mutex_t api_lock;   /* one configuration call at a time */
  /* stats segment */
  uint8_t *stats;
  uint64_t stats_size;
  /* trace */
  struct vg_trace_main *trace;
  uint32_t trace_max;
  /* interfaces */
  vg_interface_t **interfaces;
  uint32_t n_interfaces;
  uint32_t if_stats_stride;
  uint64_t *if_rx_packets, *if_rx_bytes, *if_tx_packets, *if_tx_bytes, *if_drops, *if_rx_errors;
  /* packet generator */
  vg_pg_stream_t **pg_streams;
  uint32_t n_pg_streams;
  /* IPv4 forwarding state (ip4/ip4.h) */
  struct vg_ip4_main *ip4;
  struct vg_ip4_reass_main *reass; /* ip4/reass.h: per-thread reassembly tables */
  uint64_t next_maintenance_ns;
  uint64_t created_ticks;     /* cycle counter at vg_dp_create: time zero of the trace */
  /* ethernet-input redirect table: ethertype -> tx interface */
  struct vg_ethernet_redirect *eth_redirect;
  uint32_t n_eth_redirect;
  /* L2 bridging (l2/bridge.c): NULL until the first bridge-domain call */
  struct vg_l2_main *l2;
  /* pcap capture (engine/pcap-trace.c): the VG_PCAP_* bits being captured
   * now, read once per frame; 0 unless a capture is on and not yet full. */
  _Atomic uint32_t pcap_capture;
  struct vg_pcap_trace *pcap_trace;
  /* ping (ip4/ping.c): NULL until the first vg_ip4_ping_send */
  struct vg_ping_main *ping;
  /* VXLAN tunnels (interfaces/vxlan.c): NULL until the first tunnel */
  struct vg_vxlan_main *vxlan;
  /* IPsec (ipsec/): NULL until the first SA, tunnel or SPD */
  struct vg_ipsec_main *ipsec;
};

/* ---- errors (vg_last_error) ---- */
int vg_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- buffers ---- */
static inline vg_buffer_t *vg_buffer(vg_main_t *dp, uint32_t bi) {
  return (vg_buffer_t *)(dp->buffer_mem + ((uint64_t)bi << 6));
}
static inline uint32_t vg_buffer_index(vg_main_t *dp, vg_buffer_t *b) {
  return (uint32_t)(((uint8_t *)b - dp->buffer_mem) >> 6);
}
uint32_t vg_buffer_alloc(vg_thread_t *th, uint32_t *bi, uint32_t n);
void vg_buffer_free(vg_thread_t *th, const uint32_t *bi, uint32_t n);
/* Frees every buffer after b in its chain, keeping b alone. */
void vg_buffer_free_tail(vg_thread_t *th, vg_buffer_t *b);
/* Appends len bytes to the end of a chain, allocating buffers as needed.
 * Returns 0 or VG_E_NOMEM (the chain then holds what fitted). */
int vg_buffer_append(vg_thread_t *th, uint32_t head, const uint8_t *data, uint32_t len);
/* A copy of the whole chain at src, metadata included (not traced), at the
 * same offset in its buffer. VG_BUFFER_INVALID when the pool is empty. */
uint32_t vg_buffer_copy(vg_thread_t *th, uint32_t src);
/* Copies up to len bytes of the frame starting at the head's current data. */
uint32_t vg_buffer_copy_out(vg_main_t *dp, uint32_t head, uint8_t *out, uint32_t len);
int vg_buffer_pool_init(vg_main_t *dp, uint32_t n_buffers, int try_hugetlb);
void vg_buffer_pool_free(vg_main_t *dp);
uint32_t vg_buffer_pool_available(vg_main_t *dp);

/* ---- graph ---- */
void vg_enqueue(vg_thread_t *th, uint32_t node_index, const uint32_t *bi, uint32_t n);
/* Sends packet k to next[k] (next indices of `node`). */
void vg_enqueue_to_next(vg_thread_t *th, vg_node_t *node, const uint32_t *bi, const uint16_t *next,
                        uint32_t n);
static inline void vg_enqueue_next(vg_thread_t *th, vg_node_t *node, uint32_t next,
                                   const uint32_t *bi, uint32_t n) {
  vg_enqueue(th, node->next[next], bi, n);
}
static inline void vg_node_count_error(vg_thread_t *th, vg_node_t *node, uint32_t code,
                                       uint64_t n) {
  th->errors[node->error_base + code] += n;
}
static inline uint16_t vg_node_error(vg_node_t *node, uint32_t code) {
  return (uint16_t)(node->error_base + code);
}
/* The usual node body: packets four at a time, the buffers (and, with
 * prefetch_data, the packet data) eight ahead prefetched, the rest one by
 * one; `one` handles a packet and returns its next index. Always inlined, so
 * `one` is inlined into the loop too. */
typedef uint16_t vg_packet_fn_t(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_buffer_t *b);
static inline __attribute__((always_inline)) uint32_t
vg_node_each(vg_main_t *dp, vg_thread_t *th, vg_node_t *node, vg_frame_t *f, vg_packet_fn_t *one,
             int prefetch_data) {
  uint16_t next[VG_FRAME_SIZE];
  uint32_t n = f->n, i = 0;
  for (; i + 12 <= n; i += 4) {
    for (uint32_t k = 8; k < 12; k++) {
      vg_buffer_t *ahead = vg_buffer(dp, f->bi[i + k]);
      VG_PREFETCH_W(ahead);
      if (prefetch_data) VG_PREFETCH_W(vg_buffer_current(ahead));
    }
    for (uint32_t k = 0; k < 4; k++) next[i + k] = one(dp, th, node, vg_buffer(dp, f->bi[i + k]));
  }
  for (; i < n; i++) next[i] = one(dp, th, node, vg_buffer(dp, f->bi[i]));
  vg_enqueue_to_next(th, node, f->bi, next, n);
  return n;
}
int vg_graph_init(vg_main_t *dp);
void vg_graph_free(vg_main_t *dp);
int vg_node_index(vg_main_t *dp, const char *name);
/* Runs input nodes once, then every pending frame. Returns input packets. */
uint32_t vg_dispatch_once(vg_main_t *dp, vg_thread_t *th);
int vg_thread_init(vg_main_t *dp, vg_thread_t *th, uint32_t index);
void vg_thread_free(vg_main_t *dp, vg_thread_t *th);

/* ---- barrier: configuration while the graph runs ---- */
void vg_barrier_sync(vg_main_t *dp);
void vg_barrier_release(vg_main_t *dp);
void vg_barrier_check(vg_main_t *dp); /* called by dataplane threads between loops */

/* ---- stats segment ---- */
int vg_stats_init(vg_main_t *dp, uint64_t size);
void vg_stats_free(vg_main_t *dp);
/* Adds or replaces an entry; returns its directory index or an error. */
int vg_stats_add(vg_main_t *dp, const char *name, uint32_t type, uint32_t n_elems, uint32_t stride,
                 uint32_t names_entry, uint64_t **data_out);
int vg_stats_find(vg_main_t *dp, const char *name);
char *vg_stats_name_slot(vg_main_t *dp, int entry, uint32_t elem);
void vg_stats_set_n_elems(vg_main_t *dp, int entry, uint32_t n_elems);

/* ---- trace ---- */
int vg_trace_init(vg_main_t *dp, uint32_t max_packets);
void vg_trace_free(vg_main_t *dp);
/* Input nodes call this for each new packet; it marks the packet when the
 * node is being traced. */
void vg_trace_maybe_start(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b);
/* Reserves `size` bytes of trace record for `node` on a traced packet. */
void *vg_trace_record(vg_thread_t *th, vg_node_t *node, vg_buffer_t *b, uint32_t size);
static inline int vg_traced(const vg_buffer_t *b) { return b->flags & VG_BUF_TRACED; }

/* ---- pcap capture (engine/pcap-trace.c) ---- */
/* Captures the frames of bi[] that the capture's interface filter takes;
 * dev_sw: a second interface that matches the filter (the device of a
 * sub-interface's tx), or VG_NONE. */
void vg_pcap_capture(vg_main_t *dp, uint32_t what, const uint32_t *bi, uint32_t n, uint32_t dev_sw);
/* The per-frame check: one predicted branch while no capture is on. */
static inline void vg_pcap_maybe_capture(vg_main_t *dp, uint32_t what, const uint32_t *bi,
                                         uint32_t n, uint32_t dev_sw) {
  if (VG_UNLIKELY(atomic_load_explicit(&dp->pcap_capture, memory_order_relaxed) & what))
    vg_pcap_capture(dp, what, bi, n, dev_sw);
}
/* Input nodes hand what they received to the graph through this, so the rx
 * capture sees it first. */
static inline void vg_input_enqueue(vg_main_t *dp, vg_thread_t *th, uint32_t node_index,
                                    const uint32_t *bi, uint32_t n) {
  vg_pcap_maybe_capture(dp, VG_PCAP_RX, bi, n, VG_NONE);
  vg_enqueue(th, node_index, bi, n);
}
void vg_pcap_trace_free(vg_main_t *dp);

/* ---- ping (ip4/ping.c) ---- */
void vg_ping_free(vg_main_t *dp);

/* ---- serial line (engine/tty.c) ---- */
struct termios;
/* What vg_tty_configure applies, made from the terminal's settings in *t. */
int vg_tty_termios(struct termios *t, uint32_t baud, const char *mode);

/* ---- memory ---- */
/* 2 MB aligned memory: hugetlbfs pages if asked and available, else THP. */
void *vg_mem_alloc_huge(uint64_t size, int try_hugetlb, const char **backing);
void vg_mem_free_huge(void *p, uint64_t size);

/* ---- interfaces (interfaces/interface.c) ---- */
typedef uint32_t vg_tx_fn_t(vg_main_t *dp, vg_thread_t *th, vg_interface_t *itf, uint32_t *bi,
                            uint32_t n);
/* `show hardware-interfaces`: the driver's lines for one interface, each
 * indented by two spaces. Called under the API lock and the barrier. */
typedef void vg_format_hw_fn_t(vg_main_t *dp, vg_interface_t *itf, struct vg_text *t);

struct vg_interface {
  uint32_t sw_if_index;
  char name[64];
  const char *type; /* "pg", "pcap", "af_packet", "tap", "loopback", "sub" ... */
  int admin_up;
  uint8_t mac[6];
  uint8_t mac_set;          /* set by the API, not the default (what a resync compares) */
  char host_if[16];         /* af_packet, tap: the Linux interface behind it */
  uint32_t mtu;             /* largest IPv4 packet sent, header included (default 1500) */
  /* 802.1Q: a sub-interface has its parent and VLAN; a parent maps VLANs to
   * its sub-interfaces (allocated with the first one). */
  uint32_t sup_sw_if_index; /* itself for a hardware interface */
  uint16_t vlan;
  uint32_t *sub_by_vlan;    /* [4096] sw_if_index or VG_NONE */
  /* L2: a port of a bridge domain, or VG_NONE for an L3 interface. A BVI is
   * a loopback that is both: bridged on its L2 side, routed on its L3 side. */
  uint32_t bd_index;
  uint8_t shg;              /* split-horizon group, 0 = none */
  uint8_t is_bvi;
  /* L3 */
  uint32_t fib_index;       /* the VRF table its packets are looked up in */
  uint8_t ip4_enabled;      /* has an IPv4 address: ethernet-input hands it IPv4 and ARP */
  uint8_t p2p;              /* point to point (ipsec): its adjacencies need no ARP */
  uint8_t spd;              /* an IPsec SPD is bound: ipsec4-input/-output see its IPv4 */
  vg_tx_fn_t *tx;   /* NULL: frames out of this interface are dropped */
  void (*destroy)(vg_main_t *dp, vg_interface_t *itf);
  int (*flush)(vg_main_t *dp, vg_interface_t *itf);
  vg_format_hw_fn_t *format_hw;
  void *dev;        /* device state */
};
int vg_interface_add(vg_main_t *dp, const char *name, const char *type, vg_interface_t **out);
/* A device behind an interface: what the interface table calls. */
typedef struct {
  const char *type;
  void *dev;
  vg_tx_fn_t *tx;
  void (*destroy)(vg_main_t *dp, vg_interface_t *itf);
  int (*flush)(vg_main_t *dp, vg_interface_t *itf);
  vg_format_hw_fn_t *format_hw;
  const char *input_node; /* polled once the interface exists, or NULL */
  const char *host_if;    /* the Linux interface behind it, or NULL */
} vg_device_t;
/* Adds the interface of a device, taking the API lock and the barrier.
 * Returns its sw_if_index, the interface then owning the device; on error
 * the caller still owns it. */
int vg_interface_add_device(vg_main_t *dp, const char *name, const vg_device_t *d);
vg_interface_t *vg_interface_get(vg_main_t *dp, uint32_t sw_if_index);
void vg_interfaces_free(vg_main_t *dp);
void vg_sub_interface_unlink(vg_main_t *dp, vg_interface_t *itf);
void vg_l2_free(vg_main_t *dp);
static inline void vg_if_count_rx(vg_main_t *dp, vg_thread_t *th, uint32_t sw, uint64_t pkts,
                                  uint64_t bytes) {
  uint64_t row = (uint64_t)th->index * dp->if_stats_stride + sw;
  dp->if_rx_packets[row] += pkts;
  dp->if_rx_bytes[row] += bytes;
}
static inline void vg_if_count_tx(vg_main_t *dp, vg_thread_t *th, uint32_t sw, uint64_t pkts,
                                  uint64_t bytes) {
  uint64_t row = (uint64_t)th->index * dp->if_stats_stride + sw;
  dp->if_tx_packets[row] += pkts;
  dp->if_tx_bytes[row] += bytes;
}
/* A frame that arrived malformed (besides being a drop). */
static inline void vg_if_count_rx_error(vg_main_t *dp, vg_thread_t *th, uint32_t sw) {
  dp->if_rx_errors[(uint64_t)th->index * dp->if_stats_stride + sw]++;
}
static inline void vg_if_count_drop(vg_main_t *dp, vg_thread_t *th, uint32_t sw, uint64_t pkts) {
  dp->if_drops[(uint64_t)th->index * dp->if_stats_stride + sw] += pkts;
}
#define VG_MAX_INTERFACES 4096

/* ---- packet generator, pcap ---- */
void vg_pg_free_all(vg_main_t *dp);
int vg_pg_pending(vg_main_t *dp); /* finite enabled streams still sending */
int vg_pg_uses_interface(vg_main_t *dp, uint32_t sw_if_index);
/* The streams that send on a pg interface, for vg_interface_format_hw. */
void vg_pg_format_hw(vg_main_t *dp, vg_interface_t *itf, struct vg_text *t);
int vg_pcap_rx_pending(vg_main_t *dp);

/* ---- option parsing shared by every key=value spec ---- */
typedef struct {
  const char *key;
  uint32_t key_len;
  const char *val;
  uint32_t val_len;
} vg_kv_t;
/* Iterates "k=v k=v"; returns 1 with *kv filled, 0 at the end, VG_E_INVAL on a
 * token without '='. `what` names the spec in the error message. */
int vg_kv_next(const char **cursor, vg_kv_t *kv, const char *what);
int vg_kv_is(const vg_kv_t *kv, const char *key);
/* Parses an unsigned number with an optional k/M/G suffix (multiplier 1000 or
 * 1024 per `binary`). Returns 0 or VG_E_INVAL. */
int vg_parse_u64(const char *s, uint32_t len, int binary, uint64_t *out);

#endif
