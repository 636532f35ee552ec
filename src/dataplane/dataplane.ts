/* The typed face of the dataplane: one object per vg_dp_t, one method per
 * C API call, plus the counter tables read through the stats segment. */
import { VecgateError } from '../errors';
import { ip4Text, parseIp4 } from '../net/ip4';
import { Binding, DpHandle, PgStatus } from './binding';
import { ErrorCount, InterfaceCounters, NodeRuntime, readErrors, readInterfaces, readRuntime } from './counters';
import { IpsecPolicySpec, IpsecSaInfo, IpsecSaSpec, IpsecSpdEntryInfo, IpsecTunnelInfo, NO_SA, policyOf, policyStruct, saConfigStruct, saInfoOf } from './ipsec';
import { formatPgSpec, PgStreamSpec } from './pg-spec';
import { StatsSegment } from './stats';
import { selectVariant, VariantInfo } from './variant';

export interface OpenOptions {
  variant?: string; /* pin a variant; default: VECGATE_VARIANT or the best */
  options?: string; /* vg_dp_create options: "buffers=16384 threads=1" */
}

export interface PcapInterfaceOptions {
  rx?: string; /* pcap replayed as input */
  rxLoops?: number; /* 0 = forever */
  tx?: string; /* pcap written with the output */
}

const VG_E_NOTFOUND = -3;
const NO_INTERFACE = 0xffffffff;
const NO_DOMAIN = 0xffffffff; /* bd_id: no bridge domain (back to L3; every domain) */

/* 'aa:bb:cc:dd:ee:ff' -> the 6 bytes the C API takes. */
export interface NextHop {
  via?: string; /* next-hop address */
  swIfIndex?: number; /* the interface it is on (found through the FIB when absent) */
  weight?: number;
}

/* A route as ip4RouteAdd takes it. */
export interface RouteSpec {
  prefix: string;
  nextHops: NextHop[];
  vrf?: number;
  action?: 'drop' | 'prohibit';
}

/* Routes per vg_ip4_route_add_many call. The dataplane threads stay parked
 * while one runs, so a long list goes in slices: the barrier's cost (up to
 * the threads' idle sleep, 1 ms, each time) shared by many routes, and
 * forwarding held for well under 1 ms a slice (10,000 routes take 55-155 ms
 * all told on a stopped dataplane, this side's encoding included). */
export const ROUTES_PER_CALL = 128;
const ROUTE_REQ_WORDS = 6; /* vg_ip4_route_req_t: vrf, prefix, len, flags, first_nh, n_nh */
const NEXT_HOP_WORDS = 3; /* vg_next_hop_t: addr, sw_if_index, weight */

export interface InterfaceInfo {
  swIfIndex: number;
  name: string;
  type: string; /* af_packet, tap, loopback, sub, pcap, pg */
  hostIf?: string; /* af_packet, tap: the Linux interface */
  mac: string;
  macSet: boolean; /* set through interfaceSetMac, not the default */
  adminUp: boolean;
  isBvi: boolean;
  mtu: number;
  parent?: number; /* a sub-interface's parent */
  vlan: number;
  bridgeDomain?: number;
  shg: number;
  vrf: number;
}

/* A configured route's next hops are as they were added (no swIfIndex
 * where none was given, the weight given); the others' are where the route
 * forwards, weighted by load-balance buckets. */
export interface RouteInfo {
  prefix: string;
  source: 'configured' | 'connected' | 'local' | 'neighbor' | 'default';
  action?: 'drop' | 'prohibit';
  nextHops: { via?: string; swIfIndex?: number; weight: number }[];
}

export interface BridgeDomainInfo {
  bdId: number;
  learn: boolean;
  flood: boolean;
  uuFlood: boolean;
  macAge: number; /* seconds, 0 = never */
  macLimit: number;
  learned: number;
  ports: { swIfIndex: number; shg: number; bvi: boolean }[];
}

/* `pcap trace`: what to capture (at least one of rx, tx, drop), how many
 * frames at most (1..1000000), where to write them when turned off, and on
 * which interface only (default: every one). */
export interface PcapTraceOptions {
  rx?: boolean;
  tx?: boolean;
  drop?: boolean;
  max: number;
  file: string;
  interface?: string;
}

export interface PcapTraceStatus {
  on: boolean;
  rx: boolean;
  tx: boolean;
  drop: boolean;
  max: number;
  captured: number;
  file: string;
  interface?: string;
}

export interface PingReply {
  from: string;
  seq: number;
  bytes: number; /* ICMP bytes (header and payload), as ping prints */
  ttl: number;
  rttMs: number;
}

export interface PingOptions {
  count?: number; /* requests (default 5) */
  intervalMs?: number; /* between requests (default 1000) */
  timeoutMs?: number; /* how long to wait for replies after the last request (default 1000) */
  vrf?: number;
  source?: string; /* default: the output interface's address */
  size?: number; /* ICMP payload bytes, 0..1472 (default 56) */
  onReply?: (r: PingReply) => void;
}

export interface PingResult {
  sent: number;
  received: number; /* requests answered (a duplicate answer counts once) */
  replies: PingReply[];
  rttMs: { min: number; avg: number; max: number } | null;
}

export interface BufferPoolInfo {
  total: number;
  free: number; /* on the shared free list */
  cached: number; /* in the threads' caches; in use: total - free - cached */
  dataSize: number;
  bufferSize: number;
  backing: string; /* hugetlb, thp or 4k */
}

export interface ThreadInfo {
  index: number;
  name: string;
  cpu: number | null; /* the core it is pinned to */
  tid: number | null; /* its Linux thread id while running */
}

const VG_PCAP_RX = 1;
const VG_PCAP_TX = 2;
const VG_PCAP_DROP = 4;

/* Identifiers of this process's pings: one per ping(), starting at a value
 * of this process so two agents on one box do not share them. */
let lastPingId = Math.imul(process.pid, 0x9e3779b1) >>> 16;
function nextPingId(): number {
  lastPingId = (lastPingId + 1) & 0xffff;
  return lastPingId;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/* Sets the serial line behind fd: raw, baud, mode "8N1" (7E1, 7O1, 8E1,
 * 8O1, 8N2). Needs the library only, not a dataplane. */
export function configureTty(fd: number, baud: number, mode = '8N1'): void {
  Binding.load(selectVariant().libraryPath).call('vg_tty_configure', fd, baud, mode);
}

export { ip4Text };

function macText(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ip4ToNumber(text: string): number {
  const n = parseIp4(text);
  if (n === undefined) throw new VecgateError('BAD_IP4', `${text} is not an IPv4 address`);
  return n;
}

/* "a.b.c.d/len" (or a bare address: /32). */
export function parsePrefix(text: string): { addr: number; len: number } {
  const slash = text.indexOf('/');
  if (slash < 0) return { addr: ip4ToNumber(text), len: 32 };
  const lenText = text.slice(slash + 1);
  const len = Number(lenText);
  if (lenText.length === 0 || lenText.length > 2 || !Number.isInteger(len) || len < 0 || len > 32 || lenText.includes('.')) {
    throw new VecgateError('BAD_PREFIX', `${text}: prefix length must be 0..32`);
  }
  return { addr: ip4ToNumber(text.slice(0, slash)), len };
}

function macBytes(mac: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new VecgateError('BAD_MAC', `${mac} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

/* Dataplane threads must not outlive the process's teardown (they would run
 * on while the library and the heap go away: a crash on exit). A process
 * that exits with dataplanes running stops them first. */
const running = new Set<Dataplane>();
let exitHook = false;

function stopAllOnExit(dp: Dataplane): void {
  running.add(dp);
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const d of running) d.stop();
  });
}

export class Dataplane {
  private handle: DpHandle | null;
  private statsSegment?: StatsSegment;
  /* ping() calls waiting for replies, by identifier: the replies are read
   * (and drained) once for all of them. */
  private readonly pingWaiters = new Map<number, (r: PingReply) => void>();

  private constructor(
    private readonly lib: Binding,
    handle: DpHandle,
    readonly variantInfo: VariantInfo,
  ) {
    this.handle = handle;
  }

  static open(opts: OpenOptions = {}): Dataplane {
    const info = selectVariant({ variant: opts.variant });
    const lib = Binding.load(info.libraryPath);
    return new Dataplane(lib, lib.create(opts.options ?? ''), info);
  }

  get apiVersion(): number {
    return this.lib.apiVersion();
  }

  /* What the loaded library says it was compiled for. */
  get libraryVariant(): string {
    return this.lib.variantName();
  }

  get closed(): boolean {
    return this.handle === null;
  }

  private get dp(): DpHandle {
    if (this.handle === null) throw new VecgateError('DATAPLANE_CLOSED', 'the dataplane has been destroyed');
    return this.handle;
  }

  private call(name: Parameters<Binding['call']>[0], ...args: unknown[]): number {
    return this.lib.call(name, this.dp, ...args);
  }

  start(): void {
    this.call('vg_dp_start');
    stopAllOnExit(this);
  }

  stop(): void {
    if (this.handle === null) return;
    this.call('vg_dp_stop');
    running.delete(this);
  }

  isRunning(): boolean {
    return this.call('vg_dp_is_running') !== 0;
  }

  /* Runs the graph on this thread until finite inputs are done; blocks the
   * event loop, which is what benchmarks and tests want. */
  runUntilIdle(maxLoops = 0): number {
    return this.call('vg_dp_run_until_idle', maxLoops);
  }

  /* Stops the dataplane threads if needed and frees everything. Idempotent. */
  close(): void {
    if (this.handle === null) return;
    this.stop();
    this.lib.raw.vg_dp_destroy(this.handle);
    this.handle = null;
    this.statsSegment = undefined;
  }

  destroy(): void {
    this.close();
  }

  bufferBacking(): string {
    return this.lib.raw.vg_buffer_backing(this.dp);
  }

  get stats(): StatsSegment {
    this.statsSegment ??= new StatsSegment(this.lib.statsSegment(this.dp));
    return this.statsSegment;
  }

  statsClear(what: 'runtime' | 'errors' | 'interfaces' | 'all' = 'all'): void {
    this.call('vg_stats_clear', what);
  }

  runtime(): NodeRuntime[] {
    return readRuntime(this.stats);
  }

  errors(): ErrorCount[] {
    return readErrors(this.stats);
  }

  interfaceCounters(): InterfaceCounters[] {
    return readInterfaces(this.stats);
  }

  pcapInterfaceCreate(name: string, opts: PcapInterfaceOptions = {}): number {
    return this.call('vg_pcap_interface_create', name, opts.rx ?? null, opts.rxLoops ?? 1, opts.tx ?? null);
  }

  /* Owns the Linux interface hostIf (a NIC or veth end) through mmapped
   * AF_PACKET rings. options: "rx-frames=N tx-frames=N qdisc-bypass=0|1". */
  afPacketCreate(name: string, hostIf: string, options = ''): number {
    return this.call('vg_af_packet_create', name, hostIf, options);
  }

  /* Creates the Linux TAP device hostIf, the host's view of a dataplane port. */
  tapCreate(name: string, hostIf: string, options = ''): number {
    return this.call('vg_tap_create', name, hostIf, options);
  }

  /* sw_if_index, or undefined when there is no such interface. */
  interfaceFind(name: string): number | undefined {
    const rc = this.lib.raw.vg_interface_find(this.dp, name) as number;
    return rc === VG_E_NOTFOUND ? undefined : this.lib.check('vg_interface_find', rc);
  }

  interfaceDelete(swIfIndex: number): void {
    this.call('vg_interface_delete', swIfIndex);
  }

  interfaceSetAdmin(swIfIndex: number, up: boolean): void {
    this.call('vg_interface_set_admin', swIfIndex, up ? 1 : 0);
  }

  interfaceFlush(swIfIndex: number): void {
    this.call('vg_interface_flush', swIfIndex);
  }

  pgStreamAdd(spec: string | PgStreamSpec): number {
    return this.call('vg_pg_stream_add', typeof spec === 'string' ? spec : formatPgSpec(spec));
  }

  pgStreamEnable(stream: number, enable = true): void {
    this.call('vg_pg_stream_enable', stream, enable ? 1 : 0);
  }

  pgStreamDelete(stream: number): void {
    this.call('vg_pg_stream_delete', stream);
  }

  pgStreamStatus(stream: number): PgStatus {
    return this.lib.pgStatus(this.dp, stream);
  }

  /* Frames of `ethertype` leave by txSwIfIndex; null removes the redirect. */
  ethernetRedirect(ethertype: number, txSwIfIndex: number | null): void {
    this.call('vg_ethernet_redirect', ethertype, txSwIfIndex ?? NO_INTERFACE);
  }

  traceAdd(inputNode: string, count: number): void {
    this.call('vg_trace_add', inputNode, count);
  }

  traceClear(): void {
    this.call('vg_trace_clear');
  }

  traceFormat(): string {
    return this.lib.formatText('vg_trace_format', this.dp);
  }

  /* Text of `show vlib graph`: "name next1,next2" per line. */
  graph(): string {
    return this.lib.formatText('vg_graph_format', this.dp);
  }

  nodeCount(): number {
    return this.call('vg_node_count');
  }

  loopbackCreate(name: string): number {
    return this.call('vg_loopback_create', name);
  }

  /* options: "learn=0|1 flood=0|1 uu-flood=0|1 mac-age=SECONDS mac-limit=N" */
  bridgeDomainAdd(bdId: number, options = ''): void {
    this.call('vg_bridge_domain_add', bdId, options);
  }

  bridgeDomainDelete(bdId: number): void {
    this.call('vg_bridge_domain_delete', bdId);
  }

  /* bdId null returns the port to L3. */
  bridgePortSet(swIfIndex: number, bdId: number | null, opts: { shg?: number; bvi?: boolean } = {}): void {
    this.call('vg_bridge_port_set', swIfIndex, bdId ?? NO_DOMAIN, opts.shg ?? 0, opts.bvi ? 1 : 0);
  }

  l2fibAdd(bdId: number, mac: string, swIfIndex: number, isStatic = true): void {
    this.call('vg_l2fib_add', bdId, macBytes(mac), swIfIndex, isStatic ? 1 : 0);
  }

  l2fibDelete(bdId: number, mac: string): void {
    this.call('vg_l2fib_delete', bdId, macBytes(mac));
  }

  /* One entry a line; bdId null: every domain. */
  l2fib(bdId: number | null = null): string {
    return this.lib.formatText('vg_l2fib_format', this.dp, bdId ?? NO_DOMAIN);
  }

  bridgeDomains(bdId: number | null = null): string {
    return this.lib.formatText('vg_bridge_domain_format', this.dp, bdId ?? NO_DOMAIN);
  }

  /* sw_if_index -> name, for the tunnel dumps (which carry only the index). */
  private interfaceNames(): Map<number, string> {
    return new Map(this.interfaces().map((i) => [i.swIfIndex, i.name]));
  }

  /* ---- VXLAN tunnels (RFC 7348): interfaces of type "vxlan" ---- */

  /* src: an address of this box in encapVrf (default 0); dport default 4789.
   * name "" takes the first free vxlan_tunnelN. Returns the sw_if_index. */
  vxlanTunnelAdd(name: string, opts: { src: string; dst: string; vni: number; encapVrf?: number; dport?: number }): number {
    const options = opts.dport === undefined ? '' : `dport=${opts.dport}`;
    return this.call('vg_vxlan_tunnel_add', name, ip4ToNumber(opts.src), ip4ToNumber(opts.dst), opts.vni, opts.encapVrf ?? 0, options);
  }

  vxlanTunnelDelete(swIfIndex: number): void {
    this.call('vg_vxlan_tunnel_delete', swIfIndex);
  }

  vxlanTunnels(): { swIfIndex: number; name: string; src: string; dst: string; vni: number; encapVrf: number; dport: number }[] {
    const names = this.interfaceNames();
    return this.lib.dumpTable('vg_vxlan_tunnel_dump', 'vg_vxlan_tunnel_info_t', this.dp).map((r) => ({
      swIfIndex: r.sw_if_index as number,
      name: names.get(r.sw_if_index as number) ?? '',
      src: ip4Text(r.src as number),
      dst: ip4Text(r.dst as number),
      vni: r.vni as number,
      encapVrf: r.encap_vrf as number,
      dport: r.dport as number,
    }));
  }

  /* ---- IPsec ESP (RFC 4303): SAs, ipsec tunnel interfaces, SPDs ---- */

  ipsecSaAdd(saId: number, sa: IpsecSaSpec): void {
    this.call('vg_ipsec_sa_add', saId, saConfigStruct(sa));
  }

  ipsecSaDelete(saId: number): void {
    this.call('vg_ipsec_sa_delete', saId);
  }

  /* Keys included: for the agent's read-back, never for display. */
  ipsecSas(): IpsecSaInfo[] {
    return this.lib.dumpTable('vg_ipsec_sa_dump', 'vg_ipsec_sa_info_t', this.dp).map(saInfoOf);
  }

  /* A point-to-point interface of type "ipsec" (name "": the first free
   * ipsecN); src must be an address of the box in vrf. */
  ipsecTunnelAdd(name: string, src: string, dst: string, vrf = 0): number {
    return this.call('vg_ipsec_tunnel_add', name, ip4ToNumber(src), ip4ToNumber(dst), vrf);
  }

  ipsecTunnelDelete(swIfIndex: number): void {
    this.call('vg_ipsec_tunnel_delete', swIfIndex);
  }

  /* Sets or replaces (a rekey) the tunnel's SAs. */
  ipsecTunnelProtect(swIfIndex: number, saOut: number, saIn: number[]): void {
    this.call('vg_ipsec_tunnel_protect', swIfIndex, saOut, Uint32Array.from(saIn), saIn.length);
  }

  ipsecTunnelUnprotect(swIfIndex: number): void {
    this.call('vg_ipsec_tunnel_unprotect', swIfIndex);
  }

  ipsecTunnels(): IpsecTunnelInfo[] {
    const names = this.interfaceNames();
    return this.lib.dumpTable('vg_ipsec_tunnel_dump', 'vg_ipsec_tunnel_info_t', this.dp).map((r) => ({
      swIfIndex: r.sw_if_index as number,
      name: names.get(r.sw_if_index as number) ?? '',
      src: ip4Text(r.src as number),
      dst: ip4Text(r.dst as number),
      vrf: r.vrf as number,
      saOut: r.sa_out === NO_SA ? null : (r.sa_out as number),
      saIn: (r.sa_in as number[]).slice(0, r.n_sa_in as number),
    }));
  }

  ipsecSpdAdd(spdId: number): void {
    this.call('vg_ipsec_spd_add', spdId);
  }

  ipsecSpdDelete(spdId: number): void {
    this.call('vg_ipsec_spd_delete', spdId);
  }

  /* spdId null unbinds. */
  ipsecSpdBind(swIfIndex: number, spdId: number | null): void {
    this.call('vg_ipsec_spd_bind', swIfIndex, spdId ?? NO_SA);
  }

  /* Returns the entry's id in the SPD. */
  ipsecSpdEntryAdd(spdId: number, policy: IpsecPolicySpec): number {
    return this.call('vg_ipsec_spd_entry_add', spdId, policyStruct(policy));
  }

  ipsecSpdEntryDelete(spdId: number, entryId: number): void {
    this.call('vg_ipsec_spd_entry_delete', spdId, entryId);
  }

  ipsecSpds(): { spdId: number; entries: number; interfaces: number }[] {
    return this.lib.dumpTable('vg_ipsec_spd_dump', 'vg_ipsec_spd_info_t', this.dp).map((r) => ({
      spdId: r.spd_id as number,
      entries: r.n_entries as number,
      interfaces: r.n_interfaces as number,
    }));
  }

  /* In match order. */
  ipsecSpdEntries(spdId: number): IpsecSpdEntryInfo[] {
    return this.lib.dumpTable('vg_ipsec_spd_entry_dump', 'vg_ipsec_spd_entry_info_t', this.dp, spdId).map((r) => ({
      entryId: r.entry_id as number,
      packets: Number(r.packets),
      ...policyOf(r.policy as Record<string, unknown>),
    }));
  }

  ipsecSpdBindings(): { swIfIndex: number; spdId: number }[] {
    return this.lib.dumpTable('vg_ipsec_spd_binding_dump', 'vg_ipsec_spd_binding_t', this.dp).map((r) => ({
      swIfIndex: r.sw_if_index as number,
      spdId: r.spd_id as number,
    }));
  }

  /* ---- interface settings ---- */

  interfaceSetMac(swIfIndex: number, mac: string): void {
    this.call('vg_interface_set_mac', swIfIndex, macBytes(mac));
  }

  interfaceMac(swIfIndex: number): string {
    const out = Buffer.alloc(6);
    this.call('vg_interface_get_mac', swIfIndex, out);
    return macText(out);
  }

  interfaceSetMtu(swIfIndex: number, mtu: number): void {
    this.call('vg_interface_set_mtu', swIfIndex, mtu);
  }

  subInterfaceCreate(parent: number, vlan: number): number {
    return this.call('vg_sub_interface_create', parent, vlan);
  }

  /* ---- IPv4: addresses as "10.1.0.1/24" or "10.1.0.1" ---- */

  interfaceSetVrf(swIfIndex: number, vrf: number): void {
    this.call('vg_interface_set_vrf', swIfIndex, vrf);
  }

  interfaceAddIp4(swIfIndex: number, cidr: string): void {
    const { addr, len } = parsePrefix(cidr);
    this.call('vg_interface_add_ip4', swIfIndex, addr, len);
  }

  interfaceDelIp4(swIfIndex: number, cidr: string): void {
    const { addr, len } = parsePrefix(cidr);
    this.call('vg_interface_del_ip4', swIfIndex, addr, len);
  }

  /* Next hops: an address, an interface or both; none with `drop`/`prohibit`. */
  ip4RouteAdd(prefix: string, nextHops: NextHop[], opts: { vrf?: number; action?: 'drop' | 'prohibit' } = {}): void {
    const { addr, len } = parsePrefix(prefix);
    const nh = nextHops.map(nextHopOf);
    this.call('vg_ip4_route_add', opts.vrf ?? 0, addr, len, nh.length ? nh : null, nh.length, routeFlags(opts.action));
  }

  /* ip4RouteAdd for each route, one barrier for each ROUTES_PER_CALL of
   * them: what each threw, undefined where the route went in. */
  ip4RouteAddMany(routes: readonly RouteSpec[]): (Error | undefined)[] {
    const errors: (Error | undefined)[] = [];
    for (let at = 0; at < routes.length; at += ROUTES_PER_CALL) errors.push(...this.ip4RouteSlice(routes.slice(at, at + ROUTES_PER_CALL)));
    return errors;
  }

  private ip4RouteSlice(routes: readonly RouteSpec[]): (Error | undefined)[] {
    const errors: (Error | undefined)[] = new Array(routes.length).fill(undefined);
    const hops = routes.reduce((n, r) => n + r.nextHops.length, 0);
    const req = new Uint32Array(routes.length * ROUTE_REQ_WORDS);
    const nh = new Uint32Array(Math.max(hops, 1) * NEXT_HOP_WORDS);
    const sent: number[] = []; /* routes[sent[k]] is the call's k-th */
    let h = 0;
    routes.forEach((r, i) => {
      try {
        const { addr, len } = parsePrefix(r.prefix);
        const words = r.nextHops.map(nextHopOf).flatMap((n) => [n.addr, n.sw_if_index, n.weight]);
        req.set([r.vrf ?? 0, addr, len, routeFlags(r.action), h, r.nextHops.length], sent.length * ROUTE_REQ_WORDS);
        nh.set(words, h * NEXT_HOP_WORDS);
        h += r.nextHops.length;
        sent.push(i);
      } catch (e) {
        errors[i] = e as Error;
      }
    });
    if (!sent.length) return errors;
    const results = new Int32Array(sent.length);
    const added = this.call('vg_ip4_route_add_many', req, sent.length, nh, h, results);
    /* vg_last_error names the last failure only: each failed route is tried
     * again alone for its own error. */
    if (added < sent.length) sent.forEach((i, k) => results[k]! < 0 && (errors[i] = this.routeError(routes[i]!)));
    return errors;
  }

  private routeError(r: RouteSpec): Error | undefined {
    try {
      this.ip4RouteAdd(r.prefix, r.nextHops, { vrf: r.vrf, action: r.action });
      return undefined;
    } catch (e) {
      return e as Error;
    }
  }

  ip4RouteDelete(prefix: string, vrf = 0): void {
    const { addr, len } = parsePrefix(prefix);
    this.call('vg_ip4_route_delete', vrf, addr, len);
  }

  ip4NeighborAdd(swIfIndex: number, address: string, mac: string, isStatic = true): void {
    this.call('vg_ip4_neighbor_add', swIfIndex, ip4ToNumber(address), macBytes(mac), isStatic ? 1 : 0);
  }

  ip4NeighborDelete(swIfIndex: number, address: string): void {
    this.call('vg_ip4_neighbor_delete', swIfIndex, ip4ToNumber(address));
  }

  proxyArpAdd(first: string, last: string, vrf = 0): void {
    this.call('vg_proxy_arp_add', vrf, ip4ToNumber(first), ip4ToNumber(last));
  }

  /* `show ip fib`: one route a line. */
  ip4Fib(vrf = 0): string {
    return this.lib.formatText('vg_ip4_fib_format', this.dp, vrf);
  }

  /* `show ip neighbors`: one entry a line. */
  ip4Neighbors(): string {
    return this.lib.formatText('vg_ip4_neighbor_format', this.dp);
  }

  /* ---- tables read back (the agent's resync compares these) ---- */

  interfaces(): InterfaceInfo[] {
    return this.lib.dumpTable('vg_interface_dump', 'vg_interface_info_t', this.dp).map((r) => ({
      swIfIndex: r.sw_if_index as number,
      name: r.name as string,
      type: r.type as string,
      hostIf: (r.host_if as string) || undefined,
      mac: macText(r.mac as ArrayLike<number>),
      macSet: (r.mac_set as number) !== 0,
      adminUp: (r.admin_up as number) !== 0,
      isBvi: (r.is_bvi as number) !== 0,
      mtu: r.mtu as number,
      parent: (r.sup_sw_if_index as number) === (r.sw_if_index as number) ? undefined : (r.sup_sw_if_index as number),
      vlan: r.vlan as number,
      bridgeDomain: (r.bd_id as number) === NO_DOMAIN ? undefined : (r.bd_id as number),
      shg: r.shg as number,
      vrf: r.vrf as number,
    }));
  }

  ip4Addresses(): { swIfIndex: number; address: string }[] {
    return this.lib
      .dumpTable('vg_ip4_address_dump', 'vg_ip4_address_info_t', this.dp)
      .map((r) => ({ swIfIndex: r.sw_if_index as number, address: `${ip4Text(r.addr as number)}/${r.len as number}` }));
  }

  /* The VRFs the dataplane has (0 and each one made since). */
  ip4Vrfs(): number[] {
    return Array.from(this.lib.dumpTable('vg_ip4_vrf_dump', 'uint32_t', this.dp) as unknown as Uint32Array);
  }

  ip4Routes(vrf = 0): RouteInfo[] {
    const sources = ['configured', 'connected', 'local', 'neighbor', 'default'] as const;
    return this.lib.dumpTable('vg_ip4_route_dump', 'vg_ip4_route_info_t', this.dp, vrf).map((r) => {
      const p = r.paths as Uint32Array; /* (addr, sw_if_index, weight) triples */
      const nextHops: RouteInfo['nextHops'] = [];
      for (let i = 0; i < (r.n_paths as number); i++) {
        const [addr, sw, weight] = [p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!];
        nextHops.push({ via: addr ? ip4Text(addr) : undefined, swIfIndex: sw === NO_INTERFACE ? undefined : sw, weight });
      }
      const flags = r.flags as number;
      return {
        prefix: `${ip4Text(r.prefix as number)}/${r.len as number}`,
        source: sources[r.source as number] ?? 'configured',
        action: flags === 1 ? 'drop' : flags === 2 ? 'prohibit' : undefined,
        nextHops,
      };
    });
  }

  ip4NeighborTable(): { swIfIndex: number; address: string; mac: string; isStatic: boolean }[] {
    return this.lib.dumpTable('vg_ip4_neighbor_dump', 'vg_ip4_neighbor_info_t', this.dp).map((r) => ({
      swIfIndex: r.sw_if_index as number,
      address: ip4Text(r.addr as number),
      mac: macText(r.mac as ArrayLike<number>),
      isStatic: (r.is_static as number) !== 0,
    }));
  }

  /* Each domain's settings, and its ports as the interface table has them. */
  bridgeDomainTable(): BridgeDomainInfo[] {
    const ports = this.interfaces().filter((i) => i.bridgeDomain !== undefined);
    return this.lib.dumpTable('vg_bridge_domain_dump', 'vg_bridge_domain_info_t', this.dp).map((r) => ({
      bdId: r.bd_id as number,
      learn: (r.learn as number) !== 0,
      flood: (r.flood as number) !== 0,
      uuFlood: (r.uu_flood as number) !== 0,
      macAge: r.mac_age as number,
      macLimit: r.mac_limit as number,
      learned: r.n_learned as number,
      ports: ports
        .filter((i) => i.bridgeDomain === r.bd_id)
        .map((i) => ({ swIfIndex: i.swIfIndex, shg: i.shg, bvi: i.isBvi })),
    }));
  }

  /* Node index, or undefined when there is no such node. */
  nodeFind(name: string): number | undefined {
    const rc = this.lib.raw.vg_node_find(this.dp, name) as number;
    return rc === VG_E_NOTFOUND ? undefined : this.lib.check('vg_node_find', rc);
  }

  /* ---- what the console's show commands read ---- */

  /* `show buffers` */
  bufferPool(): BufferPoolInfo {
    const out: Record<string, number | string> = {};
    this.call('vg_buffer_pool_info', out);
    return {
      total: out.total as number,
      free: out.free as number,
      cached: out.cached as number,
      dataSize: out.data_size as number,
      bufferSize: out.buffer_size as number,
      backing: out.backing as string,
    };
  }

  /* `show threads` */
  threads(): ThreadInfo[] {
    return this.lib.dumpTable('vg_thread_dump', 'vg_thread_info_t', this.dp).map((r) => ({
      index: r.index as number,
      name: r.name as string,
      cpu: (r.cpu as number) < 0 ? null : (r.cpu as number),
      tid: (r.tid as number) === 0 ? null : (r.tid as number),
    }));
  }

  /* `show hardware-interfaces`: the driver's lines for one interface. */
  hardwareInterface(swIfIndex: number): string {
    return this.lib.formatText('vg_interface_format_hw', this.dp, swIfIndex);
  }

  /* ---- packet capture ---- */

  pcapTraceOn(opts: PcapTraceOptions): void {
    const what = (opts.rx ? VG_PCAP_RX : 0) | (opts.tx ? VG_PCAP_TX : 0) | (opts.drop ? VG_PCAP_DROP : 0);
    const sw = opts.interface === undefined ? NO_INTERFACE : this.call('vg_interface_find', opts.interface);
    this.call('vg_pcap_trace_on', what, opts.max, opts.file, sw);
  }

  /* Stops the capture and writes the file; how many frames it holds. */
  pcapTraceOff(): { file: string; packets: number } {
    const { file } = this.pcapTraceStatus();
    const packets = this.call('vg_pcap_trace_off');
    return { file, packets };
  }

  pcapTraceStatus(): PcapTraceStatus {
    const out: Record<string, number | string> = {};
    this.call('vg_pcap_trace_status', out);
    const what = out.what as number;
    const sw = out.sw_if_index as number;
    const status: PcapTraceStatus = {
      on: (out.on as number) !== 0,
      rx: (what & VG_PCAP_RX) !== 0,
      tx: (what & VG_PCAP_TX) !== 0,
      drop: (what & VG_PCAP_DROP) !== 0,
      max: out.max_packets as number,
      captured: out.captured as number,
      file: out.path as string,
    };
    if (status.on && sw !== NO_INTERFACE) {
      status.interface = this.interfaces().find((i) => i.swIfIndex === sw)?.name ?? `sw_if_index ${sw}`;
    }
    return status;
  }

  /* ---- ping ---- */

  /* Queues one echo request (the dataplane sends it on its next loop). */
  pingSend(dst: string, opts: { id: number; seq: number; vrf?: number; source?: string; size?: number }): void {
    const src = opts.source ? ip4ToNumber(opts.source) : 0;
    this.call('vg_ip4_ping_send', opts.vrf ?? 0, ip4ToNumber(dst), src, opts.id, opts.seq, opts.size ?? 56);
  }

  /* Replies received since the last read, oldest first (each read once:
   * while a ping() runs, it is the one that should read them). */
  pingReplies(): (PingReply & { id: number })[] {
    return this.lib.pingReplies(this.dp).map((r) => ({
      from: ip4Text(r.src as number),
      id: r.id as number,
      seq: r.seq as number,
      bytes: r.bytes as number,
      ttl: r.ttl as number,
      rttMs: Number(r.rtt_ns as bigint | number) / 1e6,
    }));
  }

  /* Hands each waiting reply to the ping() that sent its request. A
   * stopped dataplane is run until idle first, so it sends and receives. */
  private pumpPings(): void {
    if (!this.isRunning()) this.runUntilIdle();
    for (const r of this.pingReplies()) this.pingWaiters.get(r.id)?.({ from: r.from, seq: r.seq, bytes: r.bytes, ttl: r.ttl, rttMs: r.rttMs });
  }

  /* Like VPP's ping: count requests intervalMs apart, then up to timeoutMs
   * for the last replies. Rejects when a request cannot be sent (no route:
   * a DataplaneError naming the destination). */
  async ping(dst: string, opts: PingOptions = {}): Promise<PingResult> {
    const count = opts.count ?? 5;
    const intervalMs = opts.intervalMs ?? 1000;
    const timeoutMs = opts.timeoutMs ?? 1000;
    if (!Number.isInteger(count) || count < 1 || count > 0xffff) {
      throw new VecgateError('BAD_PING_COUNT', `ping: count ${count} is outside 1..65535`);
    }
    const id = nextPingId();
    const replies: PingReply[] = [];
    const answered = new Set<number>();
    this.pingWaiters.set(id, (r) => {
      if (answered.has(r.seq)) return; /* a duplicate */
      answered.add(r.seq);
      replies.push(r);
      opts.onReply?.(r);
    });
    let sent = 0;
    const tickMs = 5;
    try {
      const start = Date.now();
      for (let seq = 1; seq <= count; seq++) {
        this.pingSend(dst, { id, seq, vrf: opts.vrf, source: opts.source, size: opts.size });
        sent++;
        const until = seq < count ? start + seq * intervalMs : Date.now() + timeoutMs;
        do {
          await sleep(Math.max(0, Math.min(tickMs, until - Date.now())));
          this.pumpPings();
        } while (Date.now() < until && !(seq === count && answered.size === count));
      }
    } finally {
      this.pingWaiters.delete(id);
    }
    const rtts = replies.map((r) => r.rttMs);
    return {
      sent,
      received: replies.length,
      replies,
      rttMs: rtts.length
        ? { min: Math.min(...rtts), avg: rtts.reduce((a, b) => a + b, 0) / rtts.length, max: Math.max(...rtts) }
        : null,
    };
  }
}

/* A next hop as vg_next_hop_t: no address 0, no interface NO_DOMAIN, weight 1. */
function nextHopOf(h: NextHop): { addr: number; sw_if_index: number; weight: number } {
  return { addr: h.via ? ip4ToNumber(h.via) : 0, sw_if_index: h.swIfIndex ?? NO_DOMAIN, weight: h.weight ?? 1 };
}

/* VG_ROUTE_DROP, VG_ROUTE_PROHIBIT, or 0 for a route with next hops. */
function routeFlags(action: RouteSpec['action']): number {
  return action === 'drop' ? 1 : action === 'prohibit' ? 2 : 0;
}
