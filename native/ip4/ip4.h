/* IPv4 forwarding state: VRF tables (an mtrie per VRF for lookups, a prefix
 * table for configuration), load-balance objects, adjacencies, neighbors
 * and interface addresses. Written only under the barrier; read by the
 * ip4 nodes. */
#ifndef VG_IP4_H
#define VG_IP4_H

#include "../engine/vg.h"

/* ---- the mtrie: 16-8-8 strides --------------------------------------------
 * A leaf is (lb_index << 1 | 1) for a result, or (ply_index << 1) for the
 * next ply. Each slot remembers the length of the prefix that set it, so a
 * longer prefix is never overwritten by a shorter one and a deleted prefix
 * gives its slots back to the prefix that covers it. */
typedef uint32_t vg_mtrie_leaf_t;

typedef struct {
  vg_mtrie_leaf_t leaves[256];
  uint8_t lens[256];
} vg_mtrie_ply_t;

typedef struct {
  vg_mtrie_leaf_t *root;  /* [65536] */
  uint8_t *root_lens;     /* [65536] */
} vg_mtrie_t;

static inline int vg_leaf_is_terminal(vg_mtrie_leaf_t l) { return l & 1; }
static inline uint32_t vg_leaf_index(vg_mtrie_leaf_t l) { return l >> 1; }

/* ---- load balance and adjacencies ---- */
#define VG_LB_MAX_BUCKETS 64

typedef struct {
  uint16_t n_buckets;  /* power of two */
  uint16_t bucket_mask;
  uint32_t buckets[VG_LB_MAX_BUCKETS]; /* adjacency indices */
} vg_lb_t;

/* The next hops a configured route was given, kept beside its load-balance
 * object: the buckets lose which next hops named an interface and what
 * weights they had, and a read-back must report what was configured. */
typedef struct {
  uint32_t n;
  vg_next_hop_t nh[];
} vg_lb_paths_t;
_Static_assert(VG_ROUTE_MAX_PATHS >= VG_LB_MAX_BUCKETS, "a dump holds every next hop of a route");

typedef enum {
  VG_ADJ_DROP,      /* blackhole */
  VG_ADJ_UNREACH,   /* no route: ICMP unreachable */
  VG_ADJ_PROHIBIT,  /* ICMP administratively prohibited */
  VG_ADJ_LOCAL,     /* for this box: ip4-local */
  VG_ADJ_GLEAN,     /* attached network: ARP for the destination */
  VG_ADJ_NEIGHBOR,  /* a next hop: rewrite when resolved, else ARP for it */
} vg_adj_type_t;

typedef struct {
  uint8_t type;
  uint8_t resolved;       /* neighbor: rewrite holds the next hop's MAC */
  uint8_t rewrite_len;    /* 14, or 18 with a VLAN tag */
  uint8_t spd;            /* its interface has an IPsec SPD: ip4-lookup goes by ipsec4-output */
  uint32_t sw_if_index;
  uint32_t next_hop;      /* neighbor: its address */
  uint32_t refs;
  uint8_t rewrite[24];    /* dst MAC, src MAC, [tag], ethertype */
} vg_adj_t;

/* ---- neighbors ---- */
typedef struct {
  uint32_t sw_if_index;
  uint32_t addr;
  uint8_t mac[6];
  uint8_t is_static;
  uint8_t in_use;
  uint64_t updated_ns;
} vg_neighbor_t;

/* ---- interface addresses ---- */
typedef struct {
  uint32_t sw_if_index;
  uint32_t addr;
  uint8_t len;
  uint8_t in_use;
} vg_if_addr_t;

/* ---- routes: the configuration view of a VRF ---- */
/* Route sources: VG_ROUTE_SOURCE_* in vecgate.h. */

typedef struct {
  uint32_t prefix;
  uint8_t len;
  uint8_t source;
  uint8_t in_use;
  uint8_t pad;
  uint32_t lb;
} vg_route_t;

typedef struct {
  uint32_t vrf;
  vg_mtrie_t mtrie;
  /* prefix table: open addressing over routes[] indices */
  uint32_t *slots;
  uint32_t n_slots, n_slots_used, n_routes; /* used: live and tombstones */
  vg_route_t *routes;
  uint32_t routes_cap;
  uint32_t *free_routes;
  uint32_t n_free_routes;
} vg_fib_t;

typedef struct {
  uint32_t lo, hi, vrf;
} vg_proxy_arp_t;

/* Deferred neighbor learning: the nodes record what ARP taught; thread 0
 * applies it at a safe point between frames. */
typedef struct {
  uint32_t sw_if_index, addr;
  uint8_t mac[6];
} vg_arp_learn_t;
#define VG_ARP_LEARN_RING 256

typedef struct vg_ip4_main {
  vg_fib_t **fibs;
  uint32_t n_fibs;
  vg_mtrie_ply_t *plies;
  uint32_t n_plies, plies_cap;
  uint32_t *free_plies;
  uint32_t n_free_plies;
  vg_lb_t *lbs;
  uint32_t n_lbs, lbs_cap;
  uint32_t *free_lbs;
  uint32_t n_free_lbs;
  uint32_t *lb_refs;      /* routes sharing each object */
  vg_lb_paths_t **lb_paths; /* per object: a configured route's next hops, or NULL */
  uint32_t *lb_slots;     /* hash table: buckets -> object */
  uint32_t n_lb_slots, n_lb_slots_used; /* used: live and tombstones */
  vg_adj_t *adjs;
  uint32_t n_adjs, adjs_cap;
  uint32_t adj_drop, adj_unreach, adj_prohibit, adj_local;
  vg_neighbor_t *neighbors;
  uint32_t n_neighbors, neighbors_cap;
  vg_if_addr_t *addrs;
  uint32_t n_addrs, addrs_cap;
  vg_proxy_arp_t *proxy;
  uint32_t n_proxy;
  /* ARP learning queue: any dataplane thread adds (under learn_lock, a
   * spinlock: adding is rare and short), thread 0 drains it. */
  vg_arp_learn_t learn[VG_ARP_LEARN_RING];
  _Atomic uint32_t learn_head, learn_tail;
  atomic_flag learn_lock;
} vg_ip4_main_t;

int vg_ip4_init(vg_main_t *dp);
void vg_ip4_free(vg_main_t *dp);

/* mtrie */
int vg_mtrie_init(vg_ip4_main_t *im, vg_mtrie_t *m, vg_mtrie_leaf_t dflt);
void vg_mtrie_free(vg_ip4_main_t *im, vg_mtrie_t *m);
int vg_mtrie_add(vg_ip4_main_t *im, vg_mtrie_t *m, uint32_t addr, uint32_t len, vg_mtrie_leaf_t leaf);
void vg_mtrie_del(vg_ip4_main_t *im, vg_mtrie_t *m, uint32_t addr, uint32_t len,
                  vg_mtrie_leaf_t cover, uint32_t cover_len);
static inline uint32_t vg_mtrie_lookup(const vg_ip4_main_t *im, const vg_mtrie_t *m, uint32_t dst) {
  vg_mtrie_leaf_t l = m->root[dst >> 16];
  if (!vg_leaf_is_terminal(l)) {
    l = im->plies[vg_leaf_index(l)].leaves[(dst >> 8) & 0xff];
    if (!vg_leaf_is_terminal(l)) l = im->plies[vg_leaf_index(l)].leaves[dst & 0xff];
  }
  return vg_leaf_index(l);
}

/* FIB */
vg_fib_t *vg_fib_get(vg_main_t *dp, uint32_t vrf, int create);
vg_fib_t *vg_fib_of(vg_main_t *dp, uint32_t fib_index);
void vg_fib_free(vg_main_t *dp, vg_fib_t *fib);
int vg_fib_route_set(vg_main_t *dp, vg_fib_t *fib, uint32_t prefix, uint32_t len, uint32_t source,
                     uint32_t lb);
int vg_fib_route_unset(vg_main_t *dp, vg_fib_t *fib, uint32_t prefix, uint32_t len);
vg_route_t *vg_fib_route_find(vg_fib_t *fib, uint32_t prefix, uint32_t len);
/* The longest route covering addr (the one a lookup would find). */
vg_route_t *vg_fib_route_match(vg_fib_t *fib, uint32_t addr);

/* load balance, adjacency */
/* paths: the n next hops of a configured route as given, or NULL. Objects
 * are shared by routes with the same buckets and the same given next hops. */
int vg_lb_create(vg_main_t *dp, const uint32_t *adjs, const uint32_t *weights, uint32_t n,
                 const vg_next_hop_t *paths);
void vg_lb_unref(vg_main_t *dp, uint32_t lb);
int vg_adj_neighbor(vg_main_t *dp, uint32_t sw_if_index, uint32_t next_hop); /* find or make */
int vg_adj_glean(vg_main_t *dp, uint32_t sw_if_index);
void vg_adj_unref(vg_main_t *dp, uint32_t adj);
void vg_adj_update_rewrites(vg_main_t *dp, uint32_t sw_if_index); /* after a MAC change */

/* neighbors */
int vg_neighbor_set(vg_main_t *dp, uint32_t sw_if_index, uint32_t addr, const uint8_t *mac,
                    int is_static);
vg_neighbor_t *vg_neighbor_find(vg_main_t *dp, uint32_t sw_if_index, uint32_t addr);
int vg_neighbor_delete(vg_main_t *dp, uint32_t sw_if_index, uint32_t addr);
int vg_ip4_learn_pending(vg_main_t *dp);
/* Applies queued ARP learning; the caller holds the barrier. */
void vg_ip4_apply_learned(vg_main_t *dp);
/* Called by the ARP node: queue a learned binding (dropped when full). */
int vg_ip4_queue_learn(vg_main_t *dp, uint32_t sw_if_index, uint32_t addr, const uint8_t *mac);

/* Writes sw's Ethernet header (with its 802.1Q tag for a sub-interface)
 * to out; returns its length, 14 or 18. */
uint32_t vg_l2_header(vg_main_t *dp, uint32_t sw, const uint8_t *dst, uint16_t type, uint8_t *out);

/* interface addresses */
/* The first address of sw_if_index (for ICMP errors and ARP requests). */
int vg_if_ip4_first(vg_main_t *dp, uint32_t sw_if_index, uint32_t *addr);
/* The interface's address on the network that holds peer, else the first. */
int vg_if_ip4_for_peer(vg_main_t *dp, uint32_t sw_if_index, uint32_t peer, uint32_t *addr);
int vg_if_ip4_is_local(vg_main_t *dp, uint32_t sw_if_index, uint32_t addr);
/* Why sw_if_index cannot be deleted yet, or NULL. */
const char *vg_ip4_interface_busy(vg_main_t *dp, uint32_t sw_if_index);
int vg_proxy_arp_match(vg_main_t *dp, uint32_t vrf, uint32_t addr);

/* flow hash for ECMP: addresses, protocol and ports */
static inline uint32_t vg_ip4_flow_hash(const uint8_t *ip) {
  uint32_t src, dst, ports = 0;
  __builtin_memcpy(&src, ip + 12, 4);
  __builtin_memcpy(&dst, ip + 16, 4);
  uint8_t proto = ip[9];
  if ((proto == 6 || proto == 17) && (ip[0] & 0x0f) == 5) __builtin_memcpy(&ports, ip + 20, 4);
  uint64_t h = ((uint64_t)src << 32 | dst) * 0x9e3779b97f4a7c15ull;
  h ^= (uint64_t)(ports ^ proto) * 0xc2b2ae3d27d4eb4full;
  return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* buffer opaque while in the ip4 nodes */
typedef struct {
  uint32_t adj;
  uint32_t fib_index;
  uint8_t icmp_type, icmp_code;
  uint16_t icmp_data; /* next-hop MTU for "fragmentation needed" */
} vg_ip4_opaque_t;
_Static_assert(sizeof(vg_ip4_opaque_t) <= 16, "fits the buffer opaque");
static inline vg_ip4_opaque_t *vg_ip4_opaque(vg_buffer_t *b) { return (vg_ip4_opaque_t *)b->opaque; }

static inline uint32_t vg_rd_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void vg_wr_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

#endif
