/* Dataplane commands, named and laid out as vppctl names and lays them out. */
import * as os from 'node:os';
import * as path from 'node:path';

import { versionInfo } from '../../cli/version';
import type { Dataplane, InterfaceInfo } from '../../dataplane/dataplane';
import { maskOf, parseIp4 } from '../../net/ip4';
import { ConsoleContext } from '../context';
import { ConsoleError } from '../errors';
import { fields, fixed, table } from '../table';
import { Args, CommandSpec, distance } from '../tree';

type Spec = CommandSpec<ConsoleContext>;

const VRF = { name: 'vrf', help: 'VRF (table) id', value: { name: 'vrf', type: 'uint' as const, help: 'VRF id', max: 0xfffffffe } };

function ifaceByName(dp: Dataplane, name: string): InterfaceInfo {
  const i = dp.interfaces().find((x) => x.name === name);
  if (!i) throw new ConsoleError(`no interface '${name.slice(0, 64)}' (have: ${dp.interfaces().map((x) => x.name).join(', ') || 'none'})`);
  return i;
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hms = [Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join(':');
  return d ? `${d}d ${hms}` : hms;
}

const showVersion: Spec = {
  path: 'show version',
  help: 'agent, Node and dataplane versions',
  run(ctx) {
    const dp = ctx.dataplane();
    const v = versionInfo(dp.libraryVariant);
    const data = { ...v, board: ctx.board ?? null, uptimeSeconds: Math.floor((Date.now() - ctx.startedAt) / 1000), bufferBacking: dp.bufferBacking() };
    const text = fields([
      ['vecgate', v.version],
      ['node', v.node],
      ['dataplane', `${dp.libraryVariant} (api ${dp.apiVersion})`],
      ['built variants', v.dataplane.built.join(' ')],
      ['cpu', `${v.dataplane.arch}: ${v.dataplane.cpuFeatures.join(' ')}`],
      ['board', ctx.board ?? '-'],
      ['uptime', uptime(Date.now() - ctx.startedAt)],
    ]);
    return { text, data };
  },
};

const showInterface: Spec = {
  path: 'show interface',
  help: 'interfaces with their state and counters',
  args: [{ name: 'interface', type: 'interface', help: 'interface name', optional: true }],
  options: [{ name: 'address', help: 'their IPv4 addresses and bridge domains instead of counters' }],
  run(ctx, a) {
    const dp = ctx.dataplane();
    const all = a.interface ? [ifaceByName(dp, String(a.interface))] : dp.interfaces();
    if (a.address) {
      const addrs = dp.ip4Addresses();
      const out = all.map((i) => {
        const lines = [`${i.name} (${i.adminUp ? 'up' : 'dn'}):`];
        if (i.bridgeDomain !== null && i.bridgeDomain !== undefined) lines.push(`  L2 bridge bd-id ${i.bridgeDomain} idx ${i.bridgeDomain} shg ${i.shg}${i.isBvi ? ' bvi' : ''}`);
        for (const x of addrs.filter((x) => x.swIfIndex === i.swIfIndex)) lines.push(`  L3 ${x.address}${i.vrf ? ` ip4 table-id ${i.vrf}` : ''}`);
        return lines.join('\n');
      });
      return { text: out.join('\n'), data: all.map((i) => ({ ...i, addresses: addrs.filter((x) => x.swIfIndex === i.swIfIndex).map((x) => x.address) })) };
    }
    const counters = new Map(dp.interfaceCounters().map((c) => [c.name, c]));
    const rows: (string | number)[][] = [];
    const data = all.map((i) => ({ ...i, counters: counters.get(i.name) ?? null }));
    for (const i of all) {
      const c = counters.get(i.name);
      const list: [string, number][] = c
        ? ([
            ['rx packets', c.rxPackets],
            ['rx bytes', c.rxBytes],
            ['tx packets', c.txPackets],
            ['tx bytes', c.txBytes],
            ['drops', c.drops],
            ['rx-error', c.rxErrors],
          ] as [string, number][]).filter(([, n]) => n > 0)
        : [];
      const first = list.shift();
      rows.push([i.name, i.swIfIndex, i.adminUp ? 'up' : 'down', `${i.mtu}/0/0/0`, first?.[0] ?? '', first?.[1] ?? '']);
      for (const [k, n] of list) rows.push(['', '', '', '', k, n]);
    }
    return { text: table(['Name', 'Idx', 'State', 'MTU (L3/IP4/IP6/MPLS)', 'Counter', 'Count'], rows), data };
  },
};

const showHardware: Spec = {
  path: 'show hardware-interfaces',
  help: 'interfaces as their drivers see them',
  args: [{ name: 'interface', type: 'interface', help: 'interface name', optional: true }],
  run(ctx, a) {
    const dp = ctx.dataplane();
    const all = a.interface ? [ifaceByName(dp, String(a.interface))] : dp.interfaces();
    const drivers = all.map((i) => dp.hardwareInterface(i.swIfIndex).trimEnd());
    const [head, ...lines] = table(
      ['Name', 'Idx', 'Link', 'Hardware'],
      all.map((i) => [i.name, i.swIfIndex, i.adminUp ? 'up' : 'down', `${i.type}${i.hostIf ? ` ${i.hostIf}` : ''} ${i.mac}`]),
    ).split('\n');
    /* Each interface's row, then what its driver says, indented under it. */
    const text = [head!, ...lines.map((l, n) => l + (drivers[n] ? '\n' + indent(drivers[n]!, 4) : ''))].join('\n');
    return { text, data: all.map((i, n) => ({ ...i, driver: drivers[n] })) };
  },
};

const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => ' '.repeat(n) + l.trimStart())
    .join('\n');

/* An address finds the route that covers it (longest prefix); a prefix its own entry. */
function fibLines(dp: Dataplane, vrf: number, want?: string): string[] {
  const lines = dp.ip4Fib(vrf).split('\n').filter(Boolean);
  if (!want) return lines;
  let prefix = want;
  if (!want.includes('/')) {
    const addr = parseIp4(want)!;
    let best = -1;
    for (const r of dp.ip4Routes(vrf)) {
      const [p, l] = r.prefix.split('/');
      const len = Number(l);
      if (len > best && ((parseIp4(p!)! ^ addr) & maskOf(len)) >>> 0 === 0) {
        best = len;
        prefix = r.prefix;
      }
    }
  }
  return lines.filter((l) => l.split(' ')[0] === prefix);
}

const showIpFib: Spec = {
  path: 'show ip fib',
  help: 'the IPv4 forwarding table',
  args: [{ name: 'prefix', type: 'prefix', help: 'an address (the route that covers it) or a.b.c.d/len', optional: true }],
  options: [VRF],
  run(ctx, a) {
    const dp = ctx.dataplane();
    const vrf = Number(a.vrf ?? 0);
    if (!dp.ip4Vrfs().includes(vrf)) throw new ConsoleError(`no VRF ${vrf} (have: ${dp.ip4Vrfs().join(', ')})`);
    const lines = fibLines(dp, vrf, a.prefix as string | undefined);
    if (a.prefix && !lines.length) throw new ConsoleError(`no route for ${a.prefix} in VRF ${vrf}`);
    const routes = dp.ip4Routes(vrf).filter((r) => lines.some((l) => l.split(' ')[0] === r.prefix));
    return { text: [`ipv4-VRF:${vrf}`, ...lines].join('\n'), data: { vrf, routes } };
  },
};

const showNeighbors: Spec = {
  path: 'show ip neighbors',
  help: 'IPv4 neighbors (ARP)',
  run(ctx) {
    const dp = ctx.dataplane();
    const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
    const ns = dp.ip4NeighborTable();
    const rows = ns.map((n) => [n.address, n.isStatic ? 'S' : 'D', n.mac, names.get(n.swIfIndex) ?? String(n.swIfIndex)]);
    return { text: table(['IP', 'Flags', 'Ethernet', 'Interface'], rows), data: ns.map((n) => ({ ...n, interface: names.get(n.swIfIndex) })) };
  },
};

const showBridgeDomain: Spec = {
  path: 'show bridge-domain',
  help: 'bridge domains, their settings and ports',
  args: [{ name: 'bd-id', type: 'uint', help: 'bridge domain id', optional: true, max: 0xfffffffe }],
  options: [{ name: 'detail', help: 'with the ports of the domain' }],
  run(ctx, a) {
    const dp = ctx.dataplane();
    let bds = dp.bridgeDomainTable();
    if (a['bd-id'] !== undefined) {
      bds = bds.filter((b) => b.bdId === a['bd-id']);
      if (!bds.length) throw new ConsoleError(`no bridge domain ${a['bd-id']}`);
    }
    const onOff = (b: boolean) => (b ? 'on' : 'off');
    const head = table(
      ['BD-ID', 'Learning', 'U-Forwrd', 'Flooding', 'UU-Flood', 'MAC-Age', 'Learned', 'Ports'],
      bds.map((b) => [b.bdId, onOff(b.learn), 'on', onOff(b.flood), onOff(b.uuFlood), b.macAge ? `${b.macAge}s` : 'off', b.learned, b.ports.length]),
    );
    if (!a.detail) return { text: head, data: bds };
    const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
    const ports = bds.map(
      (b) => `\nbd ${b.bdId}:\n` + table(['Interface', 'If-idx', 'BVI', 'SHG'], b.ports.map((p) => [names.get(p.swIfIndex) ?? '?', p.swIfIndex, p.bvi ? '*' : '-', p.shg]), { indent: 2 }),
    );
    return { text: head + ports.join(''), data: bds };
  },
};

/* The native dump is one entry a line: "bd <id> <mac> port <if> static|dynamic ...". */
const showL2fib: Spec = {
  path: 'show l2fib',
  help: 'the MAC tables of the bridge domains',
  options: [{ name: 'bd', help: 'one bridge domain', value: { name: 'bd-id', type: 'uint', help: 'bridge domain id', max: 0xfffffffe } }],
  run(ctx, a) {
    const dp = ctx.dataplane();
    const entries = dp
      .l2fib(a.bd === undefined ? null : Number(a.bd))
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = /^bd (\d+) (\S+) port (\S+)\s*(.*)$/.exec(l);
        return m ? { bdId: Number(m[1]), mac: m[2]!, interface: m[3]!, flags: m[4]!.trim() } : { bdId: NaN, mac: l, interface: '', flags: '' };
      });
    const rows = entries.map((e) => [e.mac, e.bdId, e.interface, e.flags.includes('static') ? '*' : '-', e.flags.replace('static', '').trim()]);
    return { text: table(['Mac-Address', 'BD-Idx', 'If-Idx', 'Static', 'Age/Flags'], rows) + `\n${entries.length} l2fib entries`, data: entries };
  },
};

const showRuntime: Spec = {
  path: 'show runtime',
  help: 'per-node calls, vectors and clocks',
  run(ctx) {
    const dp = ctx.dataplane();
    const nodes = dp.runtime().filter((n) => n.calls > 0);
    const packets = nodes.reduce((s, n) => s + n.packets, 0);
    const vectors = nodes.reduce((s, n) => s + n.vectors, 0);
    const rows = nodes.map((n) => [n.name, n.calls, n.packets, fixed(n.clocksPerPacket, 2), fixed(n.vectorsPerCall, 2)]);
    const head = `Time ${fixed((Date.now() - ctx.startedAt) / 1000, 1)}, average vectors/node ${fixed(vectors ? packets / vectors : 0)}`;
    return { text: head + '\n' + table(['Name', 'Calls', 'Vectors', 'Clocks', 'Vectors/Call'], rows), data: nodes };
  },
};

const showErrors: Spec = {
  path: 'show errors',
  help: 'drop and error counters by node and reason',
  run(ctx) {
    const errs = ctx.dataplane().errors().filter((e) => e.count > 0);
    return { text: table(['Count', 'Node', 'Reason'], errs.map((e) => [e.count, e.node, e.reason])), data: errs };
  },
};

const showBuffers: Spec = {
  path: 'show buffers',
  help: 'the packet buffer pool',
  run(ctx) {
    const b = ctx.dataplane().bufferPool();
    const used = b.total - b.free - b.cached;
    return {
      text: table(['Pool', 'Size', 'Data Size', 'Total', 'Avail', 'Cached', 'Used', 'Backing'], [['default', b.bufferSize, b.dataSize, b.total, b.free, b.cached, used, b.backing]]),
      data: { ...b, used },
    };
  },
};

const showThreads: Spec = {
  path: 'show threads',
  help: 'the dataplane threads',
  run(ctx) {
    const ts = ctx.dataplane().threads();
    return { text: table(['ID', 'Name', 'LWP', 'Core'], ts.map((t) => [t.index, t.name, t.tid ?? '-', t.cpu ?? '-'])), data: ts };
  },
};

const traceAdd: Spec = {
  path: 'trace add',
  help: 'trace the next packets an input node takes in',
  args: [
    { name: 'node', type: 'node', help: 'input node (pg-input, af-packet-input ...)' },
    { name: 'count', type: 'uint', help: 'packets', min: 1, max: 100_000 },
  ],
  run(ctx, a) {
    const dp = ctx.dataplane();
    if (dp.nodeFind(String(a.node)) === undefined) throw new ConsoleError(`no node '${String(a.node).slice(0, 64)}'`, closestNode(dp, String(a.node)));
    dp.traceAdd(String(a.node), Number(a.count));
    return { text: '', data: { node: a.node, count: a.count } };
  },
};

function closestNode(dp: Dataplane, name: string): string | undefined {
  const names = nodeNames(dp).filter((n) => n.endsWith('-input'));
  const best = names.map((n) => ({ n, d: distance(name, n) })).sort((x, y) => x.d - y.d)[0];
  return best ? `trace add ${best.n} <count>` : undefined;
}

/* The stats segment names every node: no call into the library, no text to parse. */
export function nodeNames(dp: Dataplane): string[] {
  return dp.runtime().map((n) => n.name);
}

const showTrace: Spec = {
  path: 'show trace',
  help: 'the packets traced, node by node',
  run(ctx) {
    const text = ctx.dataplane().traceFormat();
    return { text: text.trimEnd() || 'No packets in trace buffer' };
  },
};

const clearTrace: Spec = {
  path: 'clear trace',
  help: 'empty the trace buffer and stop tracing',
  run(ctx) {
    ctx.dataplane().traceClear();
    return { text: '' };
  },
};

function clearStats(what: 'interfaces' | 'errors' | 'runtime', help: string): Spec {
  return {
    path: `clear ${what}`,
    help,
    run(ctx) {
      ctx.dataplane().statsClear(what);
      return { text: '' };
    },
  };
}

const showVxlan: Spec = {
  path: 'show vxlan tunnel',
  help: 'VXLAN tunnels: endpoints, VNI, encapsulation VRF and counters',
  run(ctx) {
    const dp = ctx.dataplane();
    const counters = new Map(dp.interfaceCounters().map((c) => [c.name, c]));
    const names = new Map(dp.interfaces().map((i) => [i.swIfIndex, i.name]));
    const ts = dp.vxlanTunnels().map((t) => ({ ...t, name: names.get(t.swIfIndex) ?? String(t.swIfIndex), counters: counters.get(names.get(t.swIfIndex) ?? '') ?? null }));
    const rows = ts.map((t) => [t.name, t.swIfIndex, t.src, t.dst, t.vni, t.encapVrf, t.dport, t.counters?.rxPackets ?? 0, t.counters?.txPackets ?? 0]);
    return { text: table(['Name', 'Idx', 'Src', 'Dst', 'VNI', 'Encap-VRF', 'Port', 'Rx', 'Tx'], rows), data: ts };
  },
};

const PCAP_DEFAULT_MAX = 100;

const pcapTrace: Spec = {
  path: 'pcap trace',
  help: 'capture received, sent and dropped packets to a pcap file',
  options: [
    { name: 'rx', help: 'packets as they are received' },
    { name: 'tx', help: 'packets as they are sent' },
    { name: 'drop', help: 'packets as they are dropped' },
    { name: 'max', help: `packets to capture (default ${PCAP_DEFAULT_MAX})`, value: { name: 'n', type: 'uint', help: 'packets', min: 1, max: 1_000_000 } },
    { name: 'file', help: 'file name (relative: in the temporary directory)', value: { name: 'file', type: 'file', help: 'pcap file' } },
    { name: 'intfc', help: 'only this interface', value: { name: 'interface', type: 'interface', help: 'interface name' } },
    { name: 'off', help: 'stop and write the file' },
    { name: 'status', help: 'what is being captured' },
  ],
  run(ctx, a) {
    const dp = ctx.dataplane();
    const starts = a.rx || a.tx || a.drop;
    if ([starts, a.off, a.status].filter(Boolean).length !== 1) throw new ConsoleError('give one of: rx/tx/drop (to start), off, status', 'pcap trace rx tx drop max 100 file trace.pcap');
    if (a.status) {
      const s = dp.pcapTraceStatus();
      const what = ['rx', 'tx', 'drop'].filter((k) => s[k as 'rx' | 'tx' | 'drop']).join(' ');
      return { text: s.on ? `pcap ${what} capture on: ${s.captured} of ${s.max} packets, file ${s.file}${s.interface ? `, interface ${s.interface}` : ''}` : 'pcap capture is off', data: s };
    }
    if (a.off) {
      const r = dp.pcapTraceOff();
      return { text: `Write ${r.packets} packets to ${r.file}, and stop capture...`, data: r };
    }
    const name = String(a.file ?? 'trace.pcap');
    const file = path.isAbsolute(name) ? name : path.join(os.tmpdir(), name);
    const max = Number(a.max ?? PCAP_DEFAULT_MAX);
    dp.pcapTraceOn({ rx: !!a.rx, tx: !!a.tx, drop: !!a.drop, max, file, ...(a.intfc ? { interface: String(a.intfc) } : {}) });
    return { text: `pcap ${['rx', 'tx', 'drop'].filter((k) => a[k]).join(' ')} capture on, max ${max} packets, file ${file}`, data: { file, max } };
  },
};

const ping: Spec = {
  path: 'ping',
  help: 'ICMP echo from the dataplane',
  args: [{ name: 'address', type: 'ip4', help: 'destination' }],
  options: [
    { name: 'count', help: 'requests to send (default 5)', value: { name: 'n', type: 'uint', help: 'requests', min: 1, max: 1000 } },
    { name: 'interval', help: 'milliseconds between requests (default 1000)', value: { name: 'ms', type: 'uint', help: 'milliseconds', min: 1, max: 60_000 } },
    { name: 'size', help: 'ICMP payload bytes (default 56)', value: { name: 'bytes', type: 'uint', help: 'bytes', max: 1472 } },
    { name: 'source', help: 'source address', value: { name: 'address', type: 'ip4', help: 'an address of the box' } },
    VRF,
  ],
  async run(ctx, a: Args) {
    const dp = ctx.dataplane();
    const dst = String(a.address);
    const count = Number(a.count ?? 5);
    const lines: string[] = [];
    const r = await dp.ping(dst, {
      count,
      intervalMs: Number(a.interval ?? 1000),
      ...(a.size !== undefined ? { size: Number(a.size) } : {}),
      ...(a.source ? { source: String(a.source) } : {}),
      vrf: Number(a.vrf ?? 0),
      onReply: (p) => {
        const line = `${p.bytes} bytes from ${p.from}: icmp_seq=${p.seq} ttl=${p.ttl} time=${fixed(p.rttMs, 4)} ms`;
        lines.push(line);
        ctx.progress?.(line);
      },
    });
    const loss = r.sent ? Math.round((100 * (r.sent - r.received)) / r.sent) : 0;
    const stats = `\nStatistics: ${r.sent} sent, ${r.received} received, ${loss}% packet loss` + (r.rttMs ? `\nround-trip min/avg/max = ${fixed(r.rttMs.min, 4)}/${fixed(r.rttMs.avg, 4)}/${fixed(r.rttMs.max, 4)} ms` : '');
    return { text: (ctx.progress ? '' : lines.join('\n')) + stats, data: r };
  },
};

export const DATAPLANE_COMMANDS: readonly Spec[] = [
  showVersion,
  showInterface,
  showHardware,
  showIpFib,
  showNeighbors,
  showBridgeDomain,
  showL2fib,
  showRuntime,
  showErrors,
  showBuffers,
  showThreads,
  showVxlan,
  traceAdd,
  showTrace,
  clearTrace,
  clearStats('interfaces', 'zero the interface counters'),
  clearStats('errors', 'zero the error counters'),
  clearStats('runtime', 'zero the node runtime counters'),
  pcapTrace,
  ping,
];

export const DATAPLANE_GROUPS: Readonly<Record<string, string>> = {
  show: 'show what the box holds',
  'show ip': 'IPv4 tables',
  'show vxlan': 'VXLAN',
  clear: 'zero counters',
  trace: 'packet tracing',
  pcap: 'packet capture',
};
