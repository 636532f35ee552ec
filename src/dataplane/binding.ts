/* koffi declarations of native/include/vecgate.h, one per C function.
 *
 * Calls that return a negative VG_E_* code go through check(), which throws
 * a DataplaneError with vg_last_error(): that message is per thread, and
 * every koffi call here runs synchronously on the JS thread, so it is ours. */
import koffi from 'koffi';

import { DataplaneError } from '../errors';

/* VG_API_VERSION of the header this binding was written against. */
export const API_VERSION = 3;

/* A vg_dp_t *: koffi 3 represents pointers as BigInt addresses. */
export type DpHandle = bigint;

export interface PgStatus {
  packetsSent: number;
  bytesSent: number;
  firstNs: bigint;
  lastNs: bigint;
  done: boolean;
  enabled: boolean;
}

/* Registered by name for the prototypes below. */
koffi.struct('vg_pg_status_t', {
  packets_sent: 'uint64_t',
  bytes_sent: 'uint64_t',
  first_ns: 'uint64_t',
  last_ns: 'uint64_t',
  done: 'uint32_t',
  enabled: 'uint32_t',
});
koffi.struct('vg_next_hop_t', {
  addr: 'uint32_t',
  sw_if_index: 'uint32_t',
  weight: 'uint32_t',
});
koffi.struct('vg_interface_info_t', {
  sw_if_index: 'uint32_t',
  name: 'char[64]',
  type: 'char[16]',
  mac: 'uint8_t[6]',
  admin_up: 'uint8_t',
  is_bvi: 'uint8_t',
  mtu: 'uint32_t',
  sup_sw_if_index: 'uint32_t',
  vlan: 'uint32_t',
  bd_id: 'uint32_t',
  shg: 'uint32_t',
  vrf: 'uint32_t',
  host_if: 'char[16]',
  mac_set: 'uint8_t',
  pad: 'uint8_t[3]',
});
koffi.struct('vg_bridge_domain_info_t', {
  bd_id: 'uint32_t',
  learn: 'uint8_t',
  flood: 'uint8_t',
  uu_flood: 'uint8_t',
  pad: 'uint8_t',
  mac_age: 'uint32_t',
  mac_limit: 'uint32_t',
  n_learned: 'uint32_t',
  n_ports: 'uint32_t',
});
koffi.struct('vg_vxlan_tunnel_info_t', {
  sw_if_index: 'uint32_t',
  src: 'uint32_t',
  dst: 'uint32_t',
  vni: 'uint32_t',
  encap_vrf: 'uint32_t',
  dport: 'uint16_t',
  pad: 'uint16_t',
});
koffi.struct('vg_ip4_address_info_t', { sw_if_index: 'uint32_t', addr: 'uint32_t', len: 'uint32_t' });
koffi.struct('vg_ip4_route_info_t', {
  prefix: 'uint32_t',
  len: 'uint32_t',
  source: 'uint32_t',
  flags: 'uint32_t',
  n_paths: 'uint32_t',
  /* vg_next_hop_t[VG_ROUTE_MAX_PATHS] as flat (addr, sw_if_index, weight)
   * triples: one typed array per route instead of 64 objects, most unused. */
  paths: koffi.array('uint32_t', 3 * 64, 'Typed'),
});
koffi.struct('vg_ip4_neighbor_info_t', {
  sw_if_index: 'uint32_t',
  addr: 'uint32_t',
  mac: 'uint8_t[6]',
  is_static: 'uint8_t',
  pad: 'uint8_t',
});
koffi.struct('vg_pcap_trace_status_t', {
  on: 'uint32_t',
  what: 'uint32_t',
  max_packets: 'uint32_t',
  captured: 'uint32_t',
  sw_if_index: 'uint32_t',
  path: 'char[256]',
});
koffi.struct('vg_ping_reply_t', {
  src: 'uint32_t',
  id: 'uint16_t',
  seq: 'uint16_t',
  bytes: 'uint32_t',
  ttl: 'uint8_t',
  pad: 'uint8_t[3]',
  rtt_ns: 'uint64_t',
});
koffi.struct('vg_buffer_pool_info_t', {
  total: 'uint32_t',
  free: 'uint32_t',
  cached: 'uint32_t',
  data_size: 'uint32_t',
  buffer_size: 'uint32_t',
  backing: 'char[8]',
});
koffi.struct('vg_thread_info_t', {
  index: 'uint32_t',
  name: 'char[16]',
  cpu: 'int32_t',
  tid: 'int32_t',
});
koffi.struct('vg_ipsec_sa_config_t', {
  initial_seq: 'uint64_t',
  spi: 'uint32_t',
  flags: 'uint32_t',
  crypto_alg: 'uint32_t',
  integ_alg: 'uint32_t',
  crypto_key_len: 'uint32_t',
  integ_key_len: 'uint32_t',
  crypto_key: koffi.array('uint8_t', 64, 'Typed'),
  integ_key: koffi.array('uint8_t', 64, 'Typed'),
  tunnel_src: 'uint32_t',
  tunnel_dst: 'uint32_t',
  vrf: 'uint32_t',
  udp_sport: 'uint16_t',
  udp_dport: 'uint16_t',
  replay_window: 'uint32_t',
  pad: 'uint32_t',
});
koffi.struct('vg_ipsec_sa_info_t', {
  sa_id: 'uint32_t',
  n_users: 'uint32_t',
  sw_if_index: 'uint32_t',
  pad: 'uint32_t',
  seq: 'uint64_t',
  packets: 'uint64_t',
  bytes: 'uint64_t',
  replay_drops: 'uint64_t',
  integ_fails: 'uint64_t',
  decrypt_errors: 'uint64_t',
  seq_exhausted: 'uint64_t',
  config: 'vg_ipsec_sa_config_t',
});
koffi.struct('vg_ipsec_tunnel_info_t', {
  sw_if_index: 'uint32_t',
  src: 'uint32_t',
  dst: 'uint32_t',
  vrf: 'uint32_t',
  sa_out: 'uint32_t',
  n_sa_in: 'uint32_t',
  sa_in: koffi.array('uint32_t', 4, 'Array'),
});
koffi.struct('vg_ipsec_policy_t', {
  priority: 'int32_t',
  direction: 'uint32_t',
  action: 'uint32_t',
  sa_id: 'uint32_t',
  local_lo: 'uint32_t',
  local_hi: 'uint32_t',
  remote_lo: 'uint32_t',
  remote_hi: 'uint32_t',
  local_port_lo: 'uint16_t',
  local_port_hi: 'uint16_t',
  remote_port_lo: 'uint16_t',
  remote_port_hi: 'uint16_t',
  protocol: 'uint8_t',
  pad: 'uint8_t[3]',
});
koffi.struct('vg_ipsec_spd_info_t', { spd_id: 'uint32_t', n_entries: 'uint32_t', n_interfaces: 'uint32_t', pad: 'uint32_t' });
koffi.struct('vg_ipsec_spd_entry_info_t', { entry_id: 'uint32_t', pad: 'uint32_t', packets: 'uint64_t', policy: 'vg_ipsec_policy_t' });
koffi.struct('vg_ipsec_spd_binding_t', { sw_if_index: 'uint32_t', spd_id: 'uint32_t' });
koffi.opaque('vg_dp_t');

/* Prototypes as written in vecgate.h; `_Out_` marks what koffi copies back. */
const PROTOTYPES = {
  vg_api_version: 'uint32_t vg_api_version(void)',
  vg_variant_name: 'const char *vg_variant_name(void)',
  vg_strerror: 'const char *vg_strerror(int code)',
  vg_last_error: 'const char *vg_last_error(void)',
  vg_last_error_code: 'int vg_last_error_code(void)',
  vg_dp_create: 'vg_dp_t *vg_dp_create(const char *options)',
  vg_dp_destroy: 'void vg_dp_destroy(vg_dp_t *dp)',
  vg_dp_start: 'int vg_dp_start(vg_dp_t *dp)',
  vg_dp_stop: 'int vg_dp_stop(vg_dp_t *dp)',
  vg_dp_is_running: 'int vg_dp_is_running(vg_dp_t *dp)',
  vg_dp_run_until_idle: 'int64_t vg_dp_run_until_idle(vg_dp_t *dp, uint64_t max_loops)',
  vg_buffer_backing: 'const char *vg_buffer_backing(vg_dp_t *dp)',
  vg_stats_segment: 'const void *vg_stats_segment(vg_dp_t *dp, _Out_ uint64_t *size)',
  vg_stats_clear: 'int vg_stats_clear(vg_dp_t *dp, const char *what)',
  vg_pcap_interface_create:
    'int vg_pcap_interface_create(vg_dp_t *dp, const char *name, const char *rx_path, uint32_t rx_loops, const char *tx_path)',
  vg_af_packet_create:
    'int vg_af_packet_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options)',
  vg_tap_create: 'int vg_tap_create(vg_dp_t *dp, const char *name, const char *host_if, const char *options)',
  vg_interface_delete: 'int vg_interface_delete(vg_dp_t *dp, uint32_t sw_if_index)',
  vg_interface_find: 'int vg_interface_find(vg_dp_t *dp, const char *name)',
  vg_interface_set_admin: 'int vg_interface_set_admin(vg_dp_t *dp, uint32_t sw_if_index, int up)',
  vg_interface_flush: 'int vg_interface_flush(vg_dp_t *dp, uint32_t sw_if_index)',
  vg_pg_stream_add: 'int vg_pg_stream_add(vg_dp_t *dp, const char *spec)',
  vg_pg_stream_enable: 'int vg_pg_stream_enable(vg_dp_t *dp, uint32_t stream, int enable)',
  vg_pg_stream_delete: 'int vg_pg_stream_delete(vg_dp_t *dp, uint32_t stream)',
  vg_pg_stream_status: 'int vg_pg_stream_status(vg_dp_t *dp, uint32_t stream, _Out_ vg_pg_status_t *out)',
  vg_ethernet_redirect: 'int vg_ethernet_redirect(vg_dp_t *dp, uint16_t ethertype, uint32_t tx_sw_if_index)',
  vg_trace_add: 'int vg_trace_add(vg_dp_t *dp, const char *input_node, uint32_t count)',
  vg_trace_clear: 'int vg_trace_clear(vg_dp_t *dp)',
  vg_trace_format: 'int64_t vg_trace_format(vg_dp_t *dp, void *buf, uint64_t size)',
  vg_node_count: 'int vg_node_count(vg_dp_t *dp)',
  vg_node_find: 'int vg_node_find(vg_dp_t *dp, const char *name)',
  vg_graph_format: 'int64_t vg_graph_format(vg_dp_t *dp, void *buf, uint64_t size)',
  vg_loopback_create: 'int vg_loopback_create(vg_dp_t *dp, const char *name)',
  vg_bridge_domain_add: 'int vg_bridge_domain_add(vg_dp_t *dp, uint32_t bd_id, const char *options)',
  vg_bridge_domain_delete: 'int vg_bridge_domain_delete(vg_dp_t *dp, uint32_t bd_id)',
  vg_bridge_port_set: 'int vg_bridge_port_set(vg_dp_t *dp, uint32_t sw_if_index, uint32_t bd_id, uint32_t shg, int bvi)',
  vg_l2fib_add: 'int vg_l2fib_add(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac, uint32_t sw_if_index, int is_static)',
  vg_l2fib_delete: 'int vg_l2fib_delete(vg_dp_t *dp, uint32_t bd_id, const uint8_t *mac)',
  vg_l2fib_format: 'int64_t vg_l2fib_format(vg_dp_t *dp, uint32_t bd_id, void *buf, uint64_t size)',
  vg_bridge_domain_format: 'int64_t vg_bridge_domain_format(vg_dp_t *dp, uint32_t bd_id, void *buf, uint64_t size)',
  vg_interface_set_mac: 'int vg_interface_set_mac(vg_dp_t *dp, uint32_t sw_if_index, const uint8_t *mac)',
  vg_interface_get_mac: 'int vg_interface_get_mac(vg_dp_t *dp, uint32_t sw_if_index, _Out_ uint8_t *mac_out)',
  vg_interface_set_mtu: 'int vg_interface_set_mtu(vg_dp_t *dp, uint32_t sw_if_index, uint32_t mtu)',
  vg_sub_interface_create: 'int vg_sub_interface_create(vg_dp_t *dp, uint32_t parent, uint32_t vlan)',
  vg_interface_set_vrf: 'int vg_interface_set_vrf(vg_dp_t *dp, uint32_t sw_if_index, uint32_t vrf)',
  vg_interface_add_ip4: 'int vg_interface_add_ip4(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, uint32_t len)',
  vg_interface_del_ip4: 'int vg_interface_del_ip4(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, uint32_t len)',
  vg_ip4_route_add:
    'int vg_ip4_route_add(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len, const vg_next_hop_t *nh, uint32_t n_nh, uint32_t flags)',
  /* routes: vg_ip4_route_req_t[n], nh: vg_next_hop_t[n_nh], as flat u32 arrays (Dataplane.ip4RouteAddMany). */
  vg_ip4_route_add_many:
    'int vg_ip4_route_add_many(vg_dp_t *dp, const void *routes, uint32_t n, const void *nh, uint32_t n_nh, _Out_ int32_t *results)',
  vg_ip4_route_delete: 'int vg_ip4_route_delete(vg_dp_t *dp, uint32_t vrf, uint32_t prefix, uint32_t len)',
  vg_ip4_neighbor_add:
    'int vg_ip4_neighbor_add(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr, const uint8_t *mac, int is_static)',
  vg_ip4_neighbor_delete: 'int vg_ip4_neighbor_delete(vg_dp_t *dp, uint32_t sw_if_index, uint32_t addr)',
  vg_proxy_arp_add: 'int vg_proxy_arp_add(vg_dp_t *dp, uint32_t vrf, uint32_t lo, uint32_t hi)',
  vg_ip4_fib_format: 'int64_t vg_ip4_fib_format(vg_dp_t *dp, uint32_t vrf, void *buf, uint64_t size)',
  vg_ip4_neighbor_format: 'int64_t vg_ip4_neighbor_format(vg_dp_t *dp, void *buf, uint64_t size)',
  vg_interface_dump: 'int vg_interface_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ip4_address_dump: 'int vg_ip4_address_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ip4_route_dump: 'int vg_ip4_route_dump(vg_dp_t *dp, uint32_t vrf, void *out, uint32_t max)',
  vg_ip4_neighbor_dump: 'int vg_ip4_neighbor_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ip4_vrf_dump: 'int vg_ip4_vrf_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_bridge_domain_dump: 'int vg_bridge_domain_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_vxlan_tunnel_add:
    'int vg_vxlan_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vni, uint32_t encap_vrf, const char *options)',
  vg_vxlan_tunnel_delete: 'int vg_vxlan_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index)',
  vg_vxlan_tunnel_dump: 'int vg_vxlan_tunnel_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_pcap_trace_on:
    'int vg_pcap_trace_on(vg_dp_t *dp, uint32_t what, uint32_t max_packets, const char *path, uint32_t sw_if_index)',
  vg_pcap_trace_off: 'int64_t vg_pcap_trace_off(vg_dp_t *dp)',
  vg_pcap_trace_status: 'int vg_pcap_trace_status(vg_dp_t *dp, _Out_ vg_pcap_trace_status_t *out)',
  vg_ip4_ping_send:
    'int vg_ip4_ping_send(vg_dp_t *dp, uint32_t vrf, uint32_t dst, uint32_t src, uint16_t id, uint16_t seq, uint32_t size)',
  vg_ip4_ping_replies: 'int vg_ip4_ping_replies(vg_dp_t *dp, void *out, uint32_t max)',
  vg_buffer_pool_info: 'int vg_buffer_pool_info(vg_dp_t *dp, _Out_ vg_buffer_pool_info_t *out)',
  vg_thread_dump: 'int vg_thread_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_interface_format_hw: 'int64_t vg_interface_format_hw(vg_dp_t *dp, uint32_t sw_if_index, void *buf, uint64_t size)',
  vg_tty_configure: 'int vg_tty_configure(int fd, uint32_t baud, const char *mode)',
  vg_ipsec_sa_add: 'int vg_ipsec_sa_add(vg_dp_t *dp, uint32_t sa_id, const vg_ipsec_sa_config_t *config)',
  vg_ipsec_sa_delete: 'int vg_ipsec_sa_delete(vg_dp_t *dp, uint32_t sa_id)',
  vg_ipsec_sa_dump: 'int vg_ipsec_sa_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ipsec_tunnel_add: 'int vg_ipsec_tunnel_add(vg_dp_t *dp, const char *name, uint32_t src, uint32_t dst, uint32_t vrf)',
  vg_ipsec_tunnel_delete: 'int vg_ipsec_tunnel_delete(vg_dp_t *dp, uint32_t sw_if_index)',
  vg_ipsec_tunnel_protect:
    'int vg_ipsec_tunnel_protect(vg_dp_t *dp, uint32_t sw_if_index, uint32_t sa_out, const uint32_t *sa_in, uint32_t n_in)',
  vg_ipsec_tunnel_unprotect: 'int vg_ipsec_tunnel_unprotect(vg_dp_t *dp, uint32_t sw_if_index)',
  vg_ipsec_tunnel_dump: 'int vg_ipsec_tunnel_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ipsec_spd_add: 'int vg_ipsec_spd_add(vg_dp_t *dp, uint32_t spd_id)',
  vg_ipsec_spd_delete: 'int vg_ipsec_spd_delete(vg_dp_t *dp, uint32_t spd_id)',
  vg_ipsec_spd_bind: 'int vg_ipsec_spd_bind(vg_dp_t *dp, uint32_t sw_if_index, uint32_t spd_id)',
  vg_ipsec_spd_entry_add: 'int vg_ipsec_spd_entry_add(vg_dp_t *dp, uint32_t spd_id, const vg_ipsec_policy_t *policy)',
  vg_ipsec_spd_entry_delete: 'int vg_ipsec_spd_entry_delete(vg_dp_t *dp, uint32_t spd_id, uint32_t entry_id)',
  vg_ipsec_spd_dump: 'int vg_ipsec_spd_dump(vg_dp_t *dp, void *out, uint32_t max)',
  vg_ipsec_spd_entry_dump: 'int vg_ipsec_spd_entry_dump(vg_dp_t *dp, uint32_t spd_id, void *out, uint32_t max)',
  vg_ipsec_spd_binding_dump: 'int vg_ipsec_spd_binding_dump(vg_dp_t *dp, void *out, uint32_t max)',
} as const;

type Raw = { -readonly [K in keyof typeof PROTOTYPES]: (...args: any[]) => any };

const bindings = new Map<string, Binding>();

/* The loaded library: raw functions plus the checked helpers built on them. */
export class Binding {
  readonly raw: Raw;

  private constructor(readonly libraryPath: string) {
    /* Deep binding: the library's OpenSSL calls go to the libcrypto it was
     * linked with, not to the copy the node binary exports (an older 3.0.x
     * that would otherwise win through the global scope: two OpenSSLs
     * mixing their objects in one process). */
    const lib = koffi.load(libraryPath, { deep: true });
    const raw: Partial<Raw> = {};
    for (const [name, proto] of Object.entries(PROTOTYPES)) raw[name as keyof Raw] = lib.func(proto);
    this.raw = raw as Raw;
    const version = this.apiVersion();
    if (version !== API_VERSION) {
      throw new DataplaneError('vg_api_version', -8, `${libraryPath} speaks API ${version}, this agent ${API_VERSION}`);
    }
  }

  /* One koffi library per file: loading twice would only duplicate the prototypes. */
  static load(libraryPath: string): Binding {
    let b = bindings.get(libraryPath);
    if (!b) {
      b = new Binding(libraryPath);
      bindings.set(libraryPath, b);
    }
    return b;
  }

  apiVersion(): number {
    return this.raw.vg_api_version();
  }

  variantName(): string {
    return this.raw.vg_variant_name();
  }

  lastError(): string {
    return this.raw.vg_last_error() ?? '';
  }

  strerror(code: number): string {
    return this.raw.vg_strerror(code);
  }

  /* The one checker: a negative result becomes a DataplaneError. */
  check<T extends number | bigint>(call: string, result: T): T {
    if (result < 0) throw new DataplaneError(call, Number(result), this.lastError() || this.strerror(Number(result)));
    return result;
  }

  /* Calls an int-returning function of the API and checks the result. */
  call(name: keyof Raw, ...args: unknown[]): number {
    return Number(this.check(name, this.raw[name](...args)));
  }

  create(options: string): DpHandle {
    const dp = this.raw.vg_dp_create(options) as DpHandle | null;
    if (dp === null || dp === 0n) {
      throw new DataplaneError('vg_dp_create', this.raw.vg_last_error_code() as number, this.lastError());
    }
    return dp;
  }

  statsSegment(dp: DpHandle): ArrayBuffer {
    const size = [0];
    const ptr = this.raw.vg_stats_segment(dp, size);
    if (ptr === null) throw new DataplaneError('vg_stats_segment', -7, this.lastError());
    return koffi.view(ptr, Number(size[0]));
  }

  pgStatus(dp: DpHandle, stream: number): PgStatus {
    const out: Record<string, number | bigint> = {};
    this.call('vg_pg_stream_status', dp, stream, out);
    return {
      packetsSent: Number(out.packets_sent),
      bytesSent: Number(out.bytes_sent),
      firstNs: BigInt(out.first_ns),
      lastNs: BigInt(out.last_ns),
      done: out.done !== 0,
      enabled: out.enabled !== 0,
    };
  }

  /* Echo replies waiting (vg_ip4_ping_replies drains what it returns). */
  pingReplies(dp: DpHandle, max = 256): Record<string, unknown>[] {
    const mem = koffi.alloc('vg_ping_reply_t', max);
    try {
      const n = Number(this.check('vg_ip4_ping_replies', this.raw.vg_ip4_ping_replies(dp, mem, max)));
      return n ? (koffi.decode(mem, 'vg_ping_reply_t', n) as Record<string, unknown>[]) : [];
    } finally {
      koffi.free(mem);
    }
  }

  /* For the vg_*_dump calls: ask the count first, then fill an array of it
   * (taking what is there if the table shrank in between). */
  dumpTable(
    name:
      | 'vg_interface_dump'
      | 'vg_ip4_address_dump'
      | 'vg_ip4_vrf_dump'
      | 'vg_ip4_route_dump'
      | 'vg_ip4_neighbor_dump'
      | 'vg_bridge_domain_dump'
      | 'vg_vxlan_tunnel_dump'
      | 'vg_thread_dump'
      | 'vg_ipsec_sa_dump'
      | 'vg_ipsec_tunnel_dump'
      | 'vg_ipsec_spd_dump'
      | 'vg_ipsec_spd_entry_dump'
      | 'vg_ipsec_spd_binding_dump',
    type: string,
    dp: DpHandle,
    ...args: unknown[]
  ): Record<string, unknown>[] {
    const n = Number(this.check(name, this.raw[name](dp, ...args, null, 0)));
    if (n === 0) return [];
    const mem = koffi.alloc(type, n);
    try {
      const got = Number(this.check(name, this.raw[name](dp, ...args, mem, n)));
      return koffi.decode(mem, type, Math.min(n, got)) as Record<string, unknown>[];
    } finally {
      koffi.free(mem);
    }
  }

  /* For the vg_*_format calls: ask the length first, then fill a buffer of that size. */
  /* `args` go between dp and the buffer (the bridge domain of the L2 tables). */
  formatText(
    name:
      | 'vg_trace_format'
      | 'vg_graph_format'
      | 'vg_l2fib_format'
      | 'vg_bridge_domain_format'
      | 'vg_ip4_fib_format'
      | 'vg_ip4_neighbor_format'
      | 'vg_interface_format_hw',
    dp: DpHandle,
    ...args: unknown[]
  ): string {
    const needed = Number(this.check(name, this.raw[name](dp, ...args, null, 0)));
    const buf = Buffer.alloc(needed + 1);
    this.check(name, this.raw[name](dp, ...args, buf, buf.length));
    return buf.toString('utf8', 0, needed);
  }
}
