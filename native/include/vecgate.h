/* vecgate dataplane: the public C API.
 *
 * This header is the only door into the dataplane: the agent (through koffi),
 * the console and the tests all use it. It is small, handle based and
 * versioned. Every fallible call returns a negative VG_E_* code on failure
 * (or NULL for constructors) and leaves a message for the calling thread in
 * vg_last_error(). Configuration calls may be made while the dataplane thread
 * runs: they stop the graph at a barrier between frames, so no lookup in
 * flight ever sees half-written state.
 */
#ifndef VECGATE_H
#define VECGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VG_API_VERSION 3u

/* Error codes (negative return values). */
#define VG_OK 0
#define VG_E_INVAL (-1)       /* an argument or spec field is invalid */
#define VG_E_NOMEM (-2)       /* memory or pool exhausted */
#define VG_E_NOTFOUND (-3)    /* no such object */
#define VG_E_EXISTS (-4)      /* object already exists */
#define VG_E_IO (-5)          /* a system call failed */
#define VG_E_FORMAT (-6)      /* a file or packet is not in the expected format */
#define VG_E_STATE (-7)       /* not allowed in the current state */
#define VG_E_UNSUPPORTED (-8) /* this build or CPU cannot do it */
#define VG_E_LIMIT (-9)       /* a configured limit would be exceeded */

typedef struct vg_dp vg_dp_t;

/* Library identity. */
uint32_t vg_api_version(void);
const char *vg_variant_name(void); /* e.g. "x86_64-v4": what this build was compiled for */
const char *vg_strerror(int code); /* "invalid argument" ... */
const char *vg_last_error(void);   /* message of this thread's last failed call */
int vg_last_error_code(void);      /* its VG_E_* code (for constructors that return NULL) */

/* Lifecycle. Options are space-separated key=value pairs, all optional:
 *   buffers=N      buffers in the pool (default 16384)
 *   threads=N      dataplane threads (default 1)
 *   cpus=A,B,...   pin thread t to the t-th core of the list (default: not pinned)
 *   stats-size=N   bytes reserved for the stats segment (default 4M; k/M/G suffixes)
 *   trace-max=N    most packets held in the trace buffer (default 1024)
 *   hugetlb=0|1    try hugetlbfs pages before transparent huge pages (default 1)
 */
vg_dp_t *vg_dp_create(const char *options);
void vg_dp_destroy(vg_dp_t *dp);
int vg_dp_start(vg_dp_t *dp); /* start the dataplane thread(s) */
int vg_dp_stop(vg_dp_t *dp);  /* stop and join them */
int vg_dp_is_running(vg_dp_t *dp);
/* Run the graph on the calling thread (dataplane must be stopped) until every
 * finite input is exhausted and no frame is pending, or max_loops passes
 * (0 = no limit). Returns packets taken in by input nodes, or an error. */
int64_t vg_dp_run_until_idle(vg_dp_t *dp, uint64_t max_loops);

/* Memory backing of the buffer pool: "hugetlb", "thp" or "4k". */
const char *vg_buffer_backing(vg_dp_t *dp);

/* `show buffers`: the pool at one instant (taken at the barrier). free: on
 * the shared free list; cached: held in the threads' caches; the rest
 * (total - free - cached) is in use. data_size: packet bytes a buffer holds;
 * buffer_size: the whole block (metadata, headroom, data). backing: as
 * vg_buffer_backing. */
typedef struct {
  uint32_t total, free, cached, data_size, buffer_size;
  char backing[8];
} vg_buffer_pool_info_t;
int vg_buffer_pool_info(vg_dp_t *dp, vg_buffer_pool_info_t *out);

/* `show threads`: one entry per dataplane thread, returned like the dumps
 * (see "Reading the tables back"). name: as the thread is named ("vg-dp-0");
 * cpu: the core it is pinned to, or -1; tid: its Linux thread id while the
 * dataplane runs, else 0. */
typedef struct {
  uint32_t index;
  char name[16];
  int32_t cpu;
  int32_t tid;
} vg_thread_info_t;
int vg_thread_dump(vg_dp_t *dp, vg_thread_info_t *out, uint32_t max);

/* ---- Stats segment -------------------------------------------------------
 * One memory region, fixed in place for the dataplane's life, with a
 * directory of named entries. Readers map it once and read every counter
 * without a call per counter. `epoch` works as a seqlock: it is odd while the
 * directory changes and even otherwise; a reader copies the directory when
 * it sees a new even epoch and keeps the copy only if epoch is unchanged
 * after. All integers are native-endian.
 *
 * Node runtime entries, per thread and node: /nodes/calls (times the node
 * ran), /nodes/vectors (calls that had at least one packet), /nodes/packets
 * (VPP's "vectors" column) and /nodes/clocks (cycle-counter ticks,
 * clock_hz per second).
 */
#define VG_STATS_MAGIC 0x5354415453474556ull /* "VEGSTATS" little-endian */
#define VG_STATS_NAME_MAX 64

enum {
  VG_STAT_SCALAR = 1,      /* one u64 at offset */
  VG_STAT_COUNTER = 2,     /* u64[threads][stride]: element i of thread t at offset + 8*(t*stride + i) */
  VG_STAT_NAME_VECTOR = 3, /* char[n_elems][VG_STATS_NAME_MAX] */
};

typedef struct {
  uint64_t magic;
  uint32_t version;      /* VG_API_VERSION */
  uint32_t n_entries;
  uint64_t epoch;        /* bumped after every directory change */
  uint64_t size;         /* bytes in the segment */
  uint64_t used;         /* bytes allocated so far */
  uint64_t dir_offset;   /* offset of vg_stats_entry_t[n_entries] */
  uint64_t n_threads;
  uint64_t clock_hz;     /* ticks per second of the "clocks" counters */
} vg_stats_header_t;

typedef struct {
  char name[VG_STATS_NAME_MAX]; /* "/nodes/calls", "/err/counters", "/if/rx-packets" ... */
  uint32_t type;                /* VG_STAT_* */
  uint32_t n_elems;             /* elements in use */
  uint32_t stride;              /* elements per thread row (capacity) */
  uint32_t names_entry;         /* directory index of the element names, or UINT32_MAX */
  uint64_t offset;
} vg_stats_entry_t;

const void *vg_stats_segment(vg_dp_t *dp, uint64_t *size);
/* what: "runtime", "errors", "interfaces" or "all" */
int vg_stats_clear(vg_dp_t *dp, const char *what);

/* ---- Interfaces --------------------------------------------------------- */
/* Returns sw_if_index >= 0. rx_path: a pcap file replayed as this interface's
 * input (NULL: none), rx_loops times (0 = forever). tx_path: frames sent out of
 * the interface are written to this pcap file (NULL: they are dropped). */
int vg_pcap_interface_create(vg_dp_t *dp, const char *name, const char *rx_path,
                             uint32_t rx_loops, const char *tx_path);
int vg_interface_delete(vg_dp_t *dp, uint32_t sw_if_index);
int vg_interface_find(vg_dp_t *dp, const char *name); /* sw_if_index or VG_E_NOTFOUND */
int vg_interface_set_admin(vg_dp_t *dp, uint32_t sw_if_index, int up);
/* Flush buffered output (pcap writers) to disk. */
int vg_interface_flush(vg_dp_t *dp, uint32_t sw_if_index);

/* Interface settings. MACs are 6 bytes; the default is 02:fe:00 + index. */
int vg_interface_set_mac(vg_dp_t *dp, uint32_t sw_if_index, const uint8_t *mac);
int vg_interface_get_mac(vg_dp_t *dp, uint32_t sw_if_index, uint8_t *mac_out);
int vg_interface_set_mtu(vg_dp_t *dp, uint32_t sw_if_index, uint32_t mtu); /* L3 MTU, 68..9000 */
/* An 802.1Q sub-interface of `parent` for `vlan` (1..4094), named "<parent>.<vlan>". */
int vg_sub_interface_create(vg_dp_t *dp, uint32_t parent, uint32_t vlan);
/* A loopback interface: the BVI of a bridge domain, or an address holder. */
int vg_loopback_create(vg_dp_t *dp, const char *name);
/* `show hardware-interfaces`: what the driver of one interface knows, a few
 * lines indented by two spaces (af_packet: host interface, ifindex, rings,
 * qdisc bypass, kernel and ring drops; tap: host device, fd; pcap: files;
 * pg: streams; loopback, sub: bridge domain, parent and VLAN). Returns like
 * vg_trace_format. */
int64_t vg_interface_format_hw(vg_dp_t *dp, uint32_t sw_if_index, char *buf, uint64_t size);

/* ---- AF_PACKET and TAP ---------------------------------------------------- 
 * af_packet: owns the Linux interface host_if (a NIC or veth end) through
 * mmapped TPACKET_V3 rx and tx rings. tap: creates the Linux TAP device
 * host_if (the host's view of a dataplane port). Options ("" for defaults):
 *   af_packet: rx-frames=N tx-frames=N (ring sizes), qdisc-bypass=0|1
 *   tap: none yet */
int vg_af_packet_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options);
int vg_tap_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options);

/* ---- L2 bridging ----------------------------------------------------------
 * Options: learn=0|1 (default 1) flood=0|1 (1) uu-flood=0|1 (1)
 *          mac-age=SECONDS (300, 0 = never) mac-limit=N (learned entries, default 65536) */
int vg_bridge_domain_add(vg_dp_t *dp, uint32_t bd_id, const char *options);
int vg_bridge_domain_delete(vg_dp_t *dp, uint32_t bd_id);
/* Makes sw_if_index a port of bd_id (shg: split-horizon group, 0 = none;
 * bvi: the loopback routes for the domain). bd_id UINT32_MAX: back to L3. */
int vg_bridge_port_set(vg_dp_t *dp, uint32_t sw_if_index, uint32_t bd_id, uint32_t shg, int bvi);
int vg_l2fib_add(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac, uint32_t sw_if_index, int is_static);
int vg_l2fib_delete(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac);
/* Tables as text, one entry a line (until the console formats them). */
int64_t vg_l2fib_format(vg_dp_t *dp, uint32_t bd_id, char *buf, uint64_t size);
int64_t vg_bridge_domain_format(vg_dp_t *dp, uint32_t bd_id, char *buf, uint64_t size);
/* Dump (see "Reading the tables back"): the domains' settings. Their ports
 * are the interfaces whose bd_id names them (vg_interface_dump). */
typedef struct {
  uint32_t bd_id;
  uint8_t learn, flood, uu_flood, pad;
  uint32_t mac_age;   /* seconds, 0 = never */
  uint32_t mac_limit; /* learned entries */
  uint32_t n_learned;
  uint32_t n_ports;
} vg_bridge_domain_info_t;
int vg_bridge_domain_dump(vg_dp_t *dp, vg_bridge_domain_info_t *out, uint32_t max);

/* ---- IPv4 ----------------------------------------------------------------
 * Addresses are host-order u32. VRF 0 always exists; others are made on
 * first use. */
int vg_interface_set_vrf(vg_dp_t *dp, uint32_t sw_if_index, uint32_t vrf);
int vg_interface_add_ip4(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, uint32_t len);
int vg_interface_del_ip4(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, uint32_t len);

typedef struct {
  uint32_t addr;        /* next-hop address, 0 = attached (resolve the destination) */
  uint32_t sw_if_index; /* VG_NONE: recurse through the FIB to find it */
  uint32_t weight;      /* ECMP weight, 1 if 0 */
} vg_next_hop_t;
#define VG_ROUTE_DROP 1u    /* blackhole: drop silently */
#define VG_ROUTE_PROHIBIT 2u /* drop with ICMP administratively prohibited */
/* Adds or replaces vrf's route for prefix/len with n next hops (n 0 with a
 * VG_ROUTE_* flag). */
int vg_ip4_route_add(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len,
                     const vg_next_hop_t *nh, uint32_t n_nh, uint32_t flags);
/* A route of vg_ip4_route_add_many: vg_ip4_route_add's arguments, its next
 * hops nh[first_nh .. first_nh + n_nh - 1] of the call's array. */
typedef struct {
  uint32_t vrf, prefix, len, flags;
  uint32_t first_nh, n_nh;
} vg_ip4_route_req_t;
/* Adds n routes as vg_ip4_route_add would, one after the other, under one
 * barrier; results[i] is what vg_ip4_route_add would have returned for
 * routes[i] (a failed route leaves the others to go in; vg_last_error names
 * the last failure only). Returns how many went in. */
int vg_ip4_route_add_many(vg_dp_t *dp, const vg_ip4_route_req_t *routes, uint32_t n,
                          const vg_next_hop_t *nh, uint32_t n_nh, int32_t *results);
int vg_ip4_route_delete(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len);
int vg_ip4_neighbor_add(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, const uint8_t *mac,
                        int is_static);
int vg_ip4_neighbor_delete(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr);
/* Answer ARP for lo..hi (inclusive) in vrf on behalf of hosts behind us. */
int vg_proxy_arp_add(vg_dp_t *dp, uint32_t vrf, uint32_t lo, uint32_t hi);
int64_t vg_ip4_fib_format(vg_dp_t *dp, uint32_t vrf, char *buf, uint64_t size);

/* Ping from the dataplane. Sends one ICMP echo request to dst in vrf
 * through the FIB (it enters ip4-lookup as if routed by the box), source
 * address src (0: the output interface's address on dst's network, else its
 * first; dst itself for an address of the box), identifier id, sequence
 * seq, with size bytes of ICMP payload (0..1472, a counting pattern). The
 * request is queued and built by the ip4-ping input node on thread 0: the
 * running dataplane sends it within a loop, a stopped one on the next
 * vg_dp_run_until_idle. An unreachable destination is refused here:
 * VG_E_NOTFOUND when the VRF does not exist or its FIB drops, prohibits or
 * has no route to dst; VG_E_STATE when the output interface has no IPv4
 * address to send from; VG_E_LIMIT when 64 requests wait unsent. A next hop
 * without ARP entry turns the first request into an ARP request, as a
 * forwarded packet would. */
int vg_ip4_ping_send(vg_dp_t *dp, uint32_t vrf, uint32_t dst, uint32_t src, uint16_t id,
                     uint16_t seq, uint32_t size);
typedef struct {
  uint32_t src;     /* who answered */
  uint16_t id, seq;
  uint32_t bytes;   /* ICMP bytes received (header and payload, as ping prints) */
  uint8_t ttl, pad[3];
  uint64_t rtt_ns;  /* from the request leaving ip4-ping to the reply reaching ip4-local */
} vg_ping_reply_t;
/* Echo replies received for (id, seq) pairs among the last 256 sent by
 * vg_ip4_ping_send, oldest first; drained as read (ip4-local counts them as
 * "echo replies to our pings"; others stay "echo replies received"). At
 * most 1024 wait: the oldest give way. Returns how many were copied; max 0
 * (out NULL) returns how many wait, draining none. */
int vg_ip4_ping_replies(vg_dp_t *dp, vg_ping_reply_t *out, uint32_t max);

/* Dumps (see "Reading the tables back"). */
typedef struct {
  uint32_t sw_if_index, addr, len;
} vg_ip4_address_info_t;
int vg_ip4_address_dump(vg_dp_t *dp, vg_ip4_address_info_t *out, uint32_t max);
/* The VRFs that exist (0 and every one made since), in the order made. */
int vg_ip4_vrf_dump(vg_dp_t *dp, uint32_t *out, uint32_t max);

#define VG_ROUTE_MAX_PATHS 64 /* as many next hops as a route may have */
#define VG_ROUTE_SOURCE_CONFIGURED 0 /* by vg_ip4_route_add */
#define VG_ROUTE_SOURCE_CONNECTED 1  /* an interface's network */
#define VG_ROUTE_SOURCE_LOCAL 2      /* an interface's address */
#define VG_ROUTE_SOURCE_NEIGHBOR 3   /* a neighbor on an attached network */
#define VG_ROUTE_SOURCE_DEFAULT 4    /* 0.0.0.0/0 when nothing else is set */
typedef struct {
  uint32_t prefix, len;
  uint32_t source;  /* VG_ROUTE_SOURCE_* */
  uint32_t flags;   /* VG_ROUTE_DROP / VG_ROUTE_PROHIBIT */
  uint32_t n_paths;
  /* A configured route: its next hops as vg_ip4_route_add was given them
   * (sw_if_index UINT32_MAX where none was named, weight as given), none with
   * a flag. Other sources: where the route forwards, one path per
   * adjacency, the weight its load-balance buckets. */
  vg_next_hop_t paths[VG_ROUTE_MAX_PATHS];
} vg_ip4_route_info_t;
/* Routes of one VRF (VG_E_NOTFOUND when it does not exist). */
int vg_ip4_route_dump(vg_dp_t *dp, uint32_t vrf, vg_ip4_route_info_t *out, uint32_t max);

typedef struct {
  uint32_t sw_if_index, addr;
  uint8_t mac[6];
  uint8_t is_static;
  uint8_t pad;
} vg_ip4_neighbor_info_t;
int vg_ip4_neighbor_dump(vg_dp_t *dp, vg_ip4_neighbor_info_t *out, uint32_t max);
int64_t vg_ip4_neighbor_format(vg_dp_t *dp, char *buf, uint64_t size);

/* ---- Reading the tables back ----------------------------------------------
 * What the dataplane holds, for the agent's resync (desired against actual).
 * Each *_dump fills at most max entries and returns how many there are: call
 * with max 0 to size the array. */
typedef struct {
  uint32_t sw_if_index;
  char name[64];
  char type[16];        /* "af_packet", "tap", "loopback", "sub", "pcap", "pg", "vxlan", "ipsec" */
  uint8_t mac[6];
  uint8_t admin_up, is_bvi;
  uint32_t mtu;
  uint32_t sup_sw_if_index; /* the parent of a sub-interface, else itself */
  uint32_t vlan;
  uint32_t bd_id;       /* UINT32_MAX: not a bridge port */
  uint32_t shg;
  uint32_t vrf;
  char host_if[16];     /* af_packet, tap: the Linux interface; else "" */
  uint8_t mac_set;      /* the MAC was set by vg_interface_set_mac, not the default */
  uint8_t pad[3];
} vg_interface_info_t;
int vg_interface_dump(vg_dp_t *dp, vg_interface_info_t *out, uint32_t max);

/* ---- VXLAN (RFC 7348) -------------------------------------------------------
 * A tunnel is an interface of type "vxlan" (name NULL or "": the first free
 * "vxlan_tunnelN"): a bridge-domain port or a routed interface like any
 * other. src: the local VTEP, an address of this box in encap_vrf; dst: the
 * remote VTEP (unicast); vni: 0..16777215. Options: dport=N, the UDP port
 * both ways (default 4789). What the tunnel sends gets outer IPv4 (src, dst,
 * TTL 64 before the box's own forwarding step takes one off, DF clear), UDP
 * (source port 49152..65535 from a hash of the inner frame's flow, checksum
 * 0) and VXLAN (I flag, vni) headers and is looked up in encap_vrf. UDP to
 * a tunnel's port for an address of the box is decapsulated when (src, dst,
 * vni) name a tunnel in the VRF it arrived in: the inner frame is received on
 * the tunnel. Errors: VG_E_INVAL (VNI above 24 bits, src or dst 0 or equal,
 * dst not unicast, bad options), VG_E_UNSUPPORTED (multicast dst),
 * VG_E_STATE (src not an address of the box in encap_vrf), VG_E_EXISTS (a
 * tunnel with the same src, dst, vni and encap_vrf, or the name). Returns
 * the sw_if_index. vg_vxlan_tunnel_delete refuses what vg_interface_delete
 * refuses (a bridge port, addresses) and an interface that is not a tunnel
 * (VG_E_INVAL). */
int vg_vxlan_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vni,
                        uint32_t encap_vrf, const char *options);
int vg_vxlan_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index);
typedef struct {
  uint32_t sw_if_index;
  uint32_t src, dst, vni, encap_vrf;
  uint16_t dport, pad;
} vg_vxlan_tunnel_info_t;
/* Dump (see "Reading the tables back"), in sw_if_index order. */
int vg_vxlan_tunnel_dump(vg_dp_t *dp, vg_vxlan_tunnel_info_t *out, uint32_t max);

/* ---- IPsec ESP (RFC 4303) ----------------------------------------------------
 * Security associations (SAs) are added by a caller-chosen sa_id. Crypto is
 * OpenSSL libcrypto (EVP); the keys are set once when the SA is added. An
 * SA protects traffic in one of two ways: route based, as the outbound SA
 * (and inbound SAs) of an interface of type "ipsec" (vg_ipsec_tunnel_*), or
 * policy based, named by a protect entry of a security policy database
 * (vg_ipsec_spd_*) bound to an interface. ESP for the box (IPv4 protocol
 * 50, or UDP to the port of an inbound SA with VG_IPSEC_SA_UDP_ENCAP) is
 * decrypted by the node esp-decrypt; what is sent through an SA is
 * encrypted by esp-encrypt. Addresses are host-order u32. */

/* Encryption (vg_ipsec_sa_config_t.crypto_alg) and the key bytes each needs
 * in crypto_key / crypto_key_len. GCM keys end with the 4-byte salt (RFC
 * 4106 section 8.1: KEYMAT is key || salt); GCM's ICV is 16 bytes. */
#define VG_IPSEC_CRYPTO_AES_128_CBC 1u /* RFC 3602: 16 bytes */
#define VG_IPSEC_CRYPTO_AES_192_CBC 2u /* 24 bytes */
#define VG_IPSEC_CRYPTO_AES_256_CBC 3u /* 32 bytes */
#define VG_IPSEC_CRYPTO_AES_128_GCM 4u /* RFC 4106: 16 + 4 = 20 bytes */
#define VG_IPSEC_CRYPTO_AES_256_GCM 5u /* 32 + 4 = 36 bytes */
/* Integrity (integ_alg): VG_IPSEC_INTEG_NONE with GCM (and only with GCM:
 * CBC without integrity is refused); the HMAC key is as long as the hash
 * output (RFC 2404, RFC 4868); the ICV is the truncated HMAC. */
#define VG_IPSEC_INTEG_NONE 0u
#define VG_IPSEC_INTEG_HMAC_SHA1_96 1u     /* key 20 bytes, ICV 12 */
#define VG_IPSEC_INTEG_HMAC_SHA_256_128 2u /* key 32, ICV 16 */
#define VG_IPSEC_INTEG_HMAC_SHA_384_192 3u /* key 48, ICV 24 */
#define VG_IPSEC_INTEG_HMAC_SHA_512_256 4u /* key 64, ICV 32 */

/* SA flags. */
#define VG_IPSEC_SA_INBOUND 0x01u     /* decrypts what arrives; without it the SA is outbound */
#define VG_IPSEC_SA_TUNNEL 0x02u      /* tunnel mode (an outer IPv4 header); else transport mode */
#define VG_IPSEC_SA_ESN 0x04u         /* 64-bit extended sequence numbers (RFC 4303 2.2.1) */
#define VG_IPSEC_SA_ANTI_REPLAY 0x08u /* inbound: keep a replay window (ignored outbound) */
#define VG_IPSEC_SA_UDP_ENCAP 0x10u   /* ESP in UDP (RFC 3948, NAT traversal) */
#define VG_IPSEC_SA_COPY_DF 0x20u     /* tunnel mode outbound: copy the inner DF bit; else DF clear */
#define VG_IPSEC_SA_FLAGS_ALL 0x3fu

#define VG_IPSEC_KEY_MAX 64
#define VG_IPSEC_REPLAY_WINDOW_MAX 4096
#define VG_IPSEC_MAX_SAS 1024 /* SAs at once */

/* An SA. Unused fields must be zero. */
typedef struct {
  /* Outbound: the sequence number last sent (0 for a new SA: the first packet
   * carries 1); the SA stops sending, counting seq-exhausted, rather than
   * wrap past 2^32-1 (2^64-1 with ESN). Inbound: the highest sequence number
   * already received (the top of the replay window; 0 for a new SA). Without
   * ESN at most 0xffffffff. For tests and for an SA moved between boxes. */
  uint64_t initial_seq;
  uint32_t spi;             /* 256..0xffffffff (1..255 are reserved) */
  uint32_t flags;           /* VG_IPSEC_SA_* */
  uint32_t crypto_alg;      /* VG_IPSEC_CRYPTO_* */
  uint32_t integ_alg;       /* VG_IPSEC_INTEG_* */
  uint32_t crypto_key_len;  /* bytes of crypto_key used */
  uint32_t integ_key_len;   /* bytes of integ_key used (0 with INTEG_NONE) */
  uint8_t crypto_key[VG_IPSEC_KEY_MAX];
  uint8_t integ_key[VG_IPSEC_KEY_MAX];
  /* The outer addresses as they are on the wire in this SA's direction:
   * outbound, src is this box and dst the peer; inbound, src is the peer
   * and dst this box. Tunnel mode: both required (nonzero, different).
   * Transport mode: tunnel_src 0; tunnel_dst 0 outbound; inbound, 0 takes
   * the SPI on any address of the box, else only on that one. Inbound SAs
   * are found by (SPI, destination address, VRF). */
  uint32_t tunnel_src, tunnel_dst;
  /* Outbound: the VRF the encrypted packet is looked up in (made if new).
   * Inbound: the VRF its ESP arrives in. */
  uint32_t vrf;
  /* VG_IPSEC_SA_UDP_ENCAP: the UDP ports in this SA's direction (0: 4500);
   * inbound, udp_dport is the box's port that receives it. */
  uint16_t udp_sport, udp_dport;
  /* Inbound: the replay window in packets, 0 for the default 64, at most
   * VG_IPSEC_REPLAY_WINDOW_MAX. Also used to infer the high half of an ESN
   * (RFC 4303 appendix A2), with or without anti-replay. */
  uint32_t replay_window;
  uint32_t pad;
} vg_ipsec_sa_config_t;

/* Adds SA sa_id (any value but UINT32_MAX). Errors, each message naming the
 * field: VG_E_INVAL (unknown flag, algorithm, a key length the algorithm
 * does not take, CBC without integrity, GCM with an integrity algorithm,
 * SPI below 256, missing or equal tunnel addresses, a transport SA with
 * tunnel_src, window above the maximum, initial_seq above 32 bits without
 * ESN), VG_E_EXISTS (sa_id, or an inbound SA with the same SPI, destination
 * and VRF), VG_E_LIMIT (VG_IPSEC_MAX_SAS), VG_E_UNSUPPORTED (libcrypto has
 * no such cipher or MAC), VG_E_NOMEM. */
int vg_ipsec_sa_add(vg_dp_t *dp, uint32_t sa_id, const vg_ipsec_sa_config_t *config);
/* VG_E_NOTFOUND; VG_E_STATE while a tunnel or an SPD entry uses the SA (the
 * message names it): unprotect the tunnel or delete the entry first. */
int vg_ipsec_sa_delete(vg_dp_t *dp, uint32_t sa_id);

/* An SA as the dataplane holds it (see "Reading the tables back"), in the
 * order added. The counters are summed over the threads; the same numbers
 * are in the stats segment (below). */
typedef struct {
  uint32_t sa_id;
  uint32_t n_users;        /* tunnels and SPD entries using it */
  uint32_t sw_if_index;    /* the tunnel it protects, or UINT32_MAX */
  uint32_t pad;
  uint64_t seq;            /* outbound: last sequence number sent; inbound: highest received */
  uint64_t packets;        /* encrypted, or decrypted and accepted */
  uint64_t bytes;          /* of those packets before encryption / after decryption (the
                              inner packet in tunnel mode, the IPv4 payload in transport) */
  uint64_t replay_drops;   /* replayed, or older than the window */
  uint64_t integ_fails;    /* bad ICV (HMAC mismatch or GCM tag) */
  uint64_t decrypt_errors; /* truncated, not whole blocks, bad padding, wrong next header */
  uint64_t seq_exhausted;  /* outbound packets not sent: the sequence number would wrap */
  vg_ipsec_sa_config_t config; /* as added, keys included (initial_seq as given) */
} vg_ipsec_sa_info_t;
int vg_ipsec_sa_dump(vg_dp_t *dp, vg_ipsec_sa_info_t *out, uint32_t max);

/* Stats segment: per-SA counters, made with the first SA, indexed by an
 * internal SA slot whose element name ("/ipsec/sa/names") is the sa_id in
 * decimal (an empty name: a free slot). Counter entries, one row per
 * thread: /ipsec/sa/packets, /ipsec/sa/bytes, /ipsec/sa/replay-drops,
 * /ipsec/sa/integ-fails, /ipsec/sa/decrypt-errors, /ipsec/sa/seq-exhausted
 * (meaning as in vg_ipsec_sa_info_t). A reused slot starts from zero.
 * vg_stats_clear "errors" and "all" clear them too. */

/* Route-based protection. An ipsec tunnel is an interface of type "ipsec"
 * (name NULL or "": the first free "ipsecN"), point to point: routes via it
 * need no ARP. src: this box's end, an address of the box in vrf (the
 * underlay VRF; else VG_E_STATE); dst: the peer (unicast, not src).
 * Packets routed out of it are counted as its tx and encrypted with its
 * outbound SA; unprotected, they are dropped (esp-encrypt "tunnel not
 * protected"). What its inbound SAs decrypt is received on it (rx counters)
 * and enters ip4-input there, so routing in the tunnel's own VRF
 * (vg_interface_set_vrf) forwards it. Returns the sw_if_index.
 * VG_E_EXISTS for the name or another tunnel with the same src, dst and vrf. */
int vg_ipsec_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vrf);
/* Unprotects, then deletes as vg_interface_delete (which refuses what it
 * refuses). VG_E_INVAL for an interface that is not an ipsec tunnel. */
int vg_ipsec_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index);
/* Sets (or replaces, for a rekey) the tunnel's SAs: sa_out, an outbound
 * tunnel-mode SA whose tunnel_src/tunnel_dst/vrf are the tunnel's src/dst/
 * vrf; sa_in[0..n_in), 1..VG_IPSEC_TUNNEL_MAX_SA_IN inbound tunnel-mode SAs
 * from dst to src in vrf, not protecting another tunnel. An SA in use by an
 * SPD entry cannot protect a tunnel. VG_E_NOTFOUND (tunnel or SA),
 * VG_E_INVAL (direction, mode, addresses, count), VG_E_STATE (SA in use). */
#define VG_IPSEC_TUNNEL_MAX_SA_IN 4
int vg_ipsec_tunnel_protect(vg_dp_t *dp, uint32_t sw_if_index, uint32_t sa_out,
                            const uint32_t *sa_in, uint32_t n_in);
int vg_ipsec_tunnel_unprotect(vg_dp_t *dp, uint32_t sw_if_index); /* VG_E_STATE if not protected */
typedef struct {
  uint32_t sw_if_index;
  uint32_t src, dst, vrf;
  uint32_t sa_out;          /* UINT32_MAX: not protected */
  uint32_t n_sa_in;
  uint32_t sa_in[VG_IPSEC_TUNNEL_MAX_SA_IN];
} vg_ipsec_tunnel_info_t;
/* Dump (see "Reading the tables back"), in sw_if_index order. */
int vg_ipsec_tunnel_dump(vg_dp_t *dp, vg_ipsec_tunnel_info_t *out, uint32_t max);

/* Policy-based protection: security policy databases (RFC 4301 4.4.1).
 * An SPD (spd_id chosen by the caller) holds entries; binding it to an
 * interface (one SPD per interface, an SPD on several) subjects its IPv4
 * traffic to the SPD's entries of each direction, tried by priority,
 * highest first (equal: the one added first); the first entry whose
 * selectors all match decides.
 * Outbound (node ipsec4-output, for packets routed out of the interface,
 * after ip4-lookup and before the rewrite): BYPASS forwards in clear;
 * DISCARD drops; PROTECT encrypts with sa_id (an outbound SA: tunnel mode,
 * the outer packet is looked up anew in the SA's VRF; transport mode, ESP
 * is inserted after the IPv4 header and the packet keeps its destination).
 * No entry matches: dropped, "no policy matched" (RFC 4301 4.4.1; add
 * BYPASS entries for IKE and other clear traffic the box sends). What
 * esp-encrypt made is not checked again.
 * Inbound (node ipsec4-input, after ip4-input on the interface): a packet
 * that arrived in clear follows its entry (BYPASS passes, DISCARD drops,
 * PROTECT drops: it should have come encrypted); no entry: it passes. ESP
 * (protocol 50) and UDP to ports 500 and 4500 pass unchecked (they are the
 * protection). A packet decrypted with an SA that does not protect a
 * tunnel re-enters ip4-input on the interface the ESP came in on; it must
 * match a PROTECT entry naming that SA, else it is dropped. */
#define VG_IPSEC_POLICY_OUTBOUND 0u
#define VG_IPSEC_POLICY_INBOUND 1u
#define VG_IPSEC_ACTION_BYPASS 0u
#define VG_IPSEC_ACTION_DISCARD 1u
#define VG_IPSEC_ACTION_PROTECT 2u
/* Selectors: "local" is this side (outbound: the packet's source; inbound:
 * its destination), "remote" the other. Ranges are inclusive, lo..hi; a hi
 * of 0 means any (addresses 0.0.0.0..255.255.255.255, ports 0..65535).
 * protocol 0: any. Port ranges other than any match only TCP and UDP. */
typedef struct {
  int32_t priority;
  uint32_t direction;       /* VG_IPSEC_POLICY_* */
  uint32_t action;          /* VG_IPSEC_ACTION_* */
  uint32_t sa_id;           /* PROTECT: the SA (outbound SA for outbound, inbound for inbound) */
  uint32_t local_lo, local_hi, remote_lo, remote_hi;
  uint16_t local_port_lo, local_port_hi, remote_port_lo, remote_port_hi;
  uint8_t protocol;
  uint8_t pad[3];
} vg_ipsec_policy_t;
int vg_ipsec_spd_add(vg_dp_t *dp, uint32_t spd_id);       /* VG_E_EXISTS */
int vg_ipsec_spd_delete(vg_dp_t *dp, uint32_t spd_id);    /* VG_E_STATE while bound */
/* Binds spd_id to the interface (UINT32_MAX unbinds). VG_E_NOTFOUND. */
int vg_ipsec_spd_bind(vg_dp_t *dp, uint32_t sw_if_index, uint32_t spd_id);
/* Returns the entry's id (>= 0, unique in the SPD) for the delete and the
 * dump. VG_E_INVAL (direction, action, ranges lo > hi, a PROTECT SA of the
 * wrong direction or protecting a tunnel), VG_E_NOTFOUND (SPD, SA). */
int vg_ipsec_spd_entry_add(vg_dp_t *dp, uint32_t spd_id, const vg_ipsec_policy_t *policy);
int vg_ipsec_spd_entry_delete(vg_dp_t *dp, uint32_t spd_id, uint32_t entry_id);
typedef struct {
  uint32_t spd_id;
  uint32_t n_entries;
  uint32_t n_interfaces;    /* bound to it */
  uint32_t pad;
} vg_ipsec_spd_info_t;
int vg_ipsec_spd_dump(vg_dp_t *dp, vg_ipsec_spd_info_t *out, uint32_t max);
typedef struct {
  uint32_t entry_id;
  uint32_t pad;
  uint64_t packets;         /* matched by this entry (summed over threads) */
  vg_ipsec_policy_t policy;
} vg_ipsec_spd_entry_info_t;
/* The entries of one SPD in match order (VG_E_NOTFOUND). */
int vg_ipsec_spd_entry_dump(vg_dp_t *dp, uint32_t spd_id, vg_ipsec_spd_entry_info_t *out,
                            uint32_t max);
/* Stats segment: /ipsec/spd/packets, one counter per entry (per thread),
 * element names ("/ipsec/spd/names") "<spd_id>/<entry_id>". */
typedef struct {
  uint32_t sw_if_index, spd_id;
} vg_ipsec_spd_binding_t;
int vg_ipsec_spd_binding_dump(vg_dp_t *dp, vg_ipsec_spd_binding_t *out, uint32_t max);

/* ---- Packet generator ----------------------------------------------------
 * A stream is described by one spec string of key=value pairs; a bad spec is
 * rejected with a message naming the field. See native/interfaces/pg.c for
 * the grammar. Returns the stream index. The stream's packets arrive on
 * interface `if=NAME` (created as a pg interface when it does not exist). */
int vg_pg_stream_add(vg_dp_t *dp, const char *spec);
int vg_pg_stream_enable(vg_dp_t *dp, uint32_t stream, int enable);
int vg_pg_stream_delete(vg_dp_t *dp, uint32_t stream);

typedef struct {
  uint64_t packets_sent;
  uint64_t bytes_sent;
  uint64_t first_ns; /* CLOCK_MONOTONIC of the first and last packet sent */
  uint64_t last_ns;
  uint32_t done;     /* a finite stream sent its count */
  uint32_t enabled;
} vg_pg_status_t;
int vg_pg_stream_status(vg_dp_t *dp, uint32_t stream, vg_pg_status_t *out);

/* ---- ethernet-input ------------------------------------------------------
 * Frames of `ethertype` (after any 802.1Q/802.1ad tags) received on any
 * interface are sent out of interface tx_sw_if_index. UINT32_MAX removes it. */
int vg_ethernet_redirect(vg_dp_t *dp, uint16_t ethertype, uint32_t tx_sw_if_index);

/* ---- Trace ---------------------------------------------------------------- */
int vg_trace_add(vg_dp_t *dp, const char *input_node, uint32_t count);
int vg_trace_clear(vg_dp_t *dp);
/* Writes the formatted trace (NUL-terminated, truncated to size). Returns the
 * length the whole text needs, without the NUL. */
int64_t vg_trace_format(vg_dp_t *dp, char *buf, uint64_t size);

/* ---- Packet capture ---------------------------------------------------------
 * `pcap trace rx tx drop max N file F`: captures into memory the first
 * max_packets frames received (rx: as the input nodes hand them to the
 * graph), sent (tx: as interface-output gives them to the device) and/or
 * dropped (drop: at error-drop, from their Ethernet header when they still
 * have it) on interface sw_if_index only (rx and drop: the receiving
 * interface as its device saw it; tx: the interface sent out of or its
 * device), or on every interface with UINT32_MAX. Frames are captured
 * whole, chains included (up to 65535 bytes), stamped with CLOCK_REALTIME.
 * Capture stops by itself at max_packets. vg_pcap_trace_on creates path at
 * once (an unwritable path fails there); vg_pcap_trace_off writes what was
 * captured to it as a pcap file (LINKTYPE_ETHERNET) and returns how many
 * frames it wrote. Errors: VG_E_INVAL for what 0 or unknown bits,
 * max_packets outside 1..1000000, a path empty or of 256 bytes or more, an
 * interface that does not exist (VG_E_NOTFOUND); VG_E_STATE when a capture
 * is already on (on) or none is (off); VG_E_IO when the file cannot be
 * written. While off, the frame path pays one predicted branch per frame. */
#define VG_PCAP_RX 1u
#define VG_PCAP_TX 2u
#define VG_PCAP_DROP 4u
#define VG_PCAP_MAX_PACKETS 1000000u
int vg_pcap_trace_on(vg_dp_t *dp, uint32_t what, uint32_t max_packets, const char *path,
                     uint32_t sw_if_index);
int64_t vg_pcap_trace_off(vg_dp_t *dp);
/* The capture in progress: all zero while none is on. captured: frames
 * taken so far (at most max_packets). */
typedef struct {
  uint32_t on, what, max_packets, captured, sw_if_index;
  char path[256];
} vg_pcap_trace_status_t;
int vg_pcap_trace_status(vg_dp_t *dp, vg_pcap_trace_status_t *out);

/* ---- Graph introspection --------------------------------------------------- */
int vg_node_count(vg_dp_t *dp);
int vg_node_find(vg_dp_t *dp, const char *name);
/* "name next1,next2,..." for node i, like the next-node list of `show vlib graph`. */
int64_t vg_graph_format(vg_dp_t *dp, char *buf, uint64_t size);

/* ---- Serial line ------------------------------------------------------------
 * Sets the terminal fd for a serial console: raw (cfmakeraw), baud in both
 * directions (a standard rate 1200..4000000, else VG_E_INVAL naming it),
 * mode "8N1" (the default for NULL or "") or 7E1, 7O1, 8E1, 8O1, 8N2
 * (else VG_E_INVAL), receiver on, modem lines ignored (CLOCAL | CREAD), no
 * hardware flow control, parity checked on input when there is parity, and
 * reads returning as soon as one byte is there (VMIN 1, VTIME 0); applied at
 * once (TCSANOW). VG_E_IO with the system's reason when fd is not a
 * terminal. Needs no dataplane. */
int vg_tty_configure(int fd, uint32_t baud, const char *mode);

#ifdef __cplusplus
}
#endif
#endif
