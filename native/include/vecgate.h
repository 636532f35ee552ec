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

#define VG_API_VERSION 2u

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
  char type[16];        /* "af_packet", "tap", "loopback", "sub", "pcap", "pg", "vxlan" */
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
