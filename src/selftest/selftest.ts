/* The box's self-test: a dataplane with generator ports only (no root, no
 * NIC), a short stream through each forwarding path, and the counters that
 * prove each packet went where it should. Small counts, one thread: it must
 * finish in seconds under qemu-user too.
 *
 *   ip4:     pg0 -> ethernet-input -> ip4-input -> ip4-lookup -> ip4-rewrite -> sink0 tx
 *            (sink0 is the BVI of a domain whose one port, wire0, counts and frees)
 *   l2:      pg1 -> ethernet-input -> l2-input -> l2-learn -> l2-fwd -> l2-output -> out0 | out1 tx
 *   no route: pg0 -> ... -> ip4-lookup -> drop, counted as an error */
import { Dataplane } from '../dataplane/dataplane';
import { ErrorCount, InterfaceCounters } from '../dataplane/counters';
import { VecgateError } from '../errors';

export interface SelftestOptions {
  variant?: string; /* pin; default: VECGATE_VARIANT or the best */
  options?: string; /* vg_dp_create options (the board's pools) */
  packets?: number; /* per path; the no-route stream sends a tenth */
}

export interface PathCheck {
  path: 'ip4' | 'l2' | 'no-route';
  sent: number;
  expected: number; /* packets that should arrive where this path ends */
  got: number;
  problems: string[];
}

export interface SelftestResult {
  ok: boolean;
  variant: string;
  arch: string;
  pinned: boolean;
  node: string;
  nodePath: string; /* the Node that ran it: an image runs its own */
  paths: PathCheck[];
  seconds: number;
}

export const DEFAULT_PACKETS = 1000;
const ROUTES = 16; /* 1.0.0.0/24 .. 1.0.15.0/24 */
const L2_OUTPUTS = 2;

function counters(dp: Dataplane): Map<string, InterfaceCounters> {
  return new Map(dp.interfaceCounters().map((c) => [c.name, c]));
}

function nodePackets(dp: Dataplane, name: string): number {
  return dp.runtime().find((n) => n.name === name)?.packets ?? 0;
}

/* Counters that count events, not drops. */
const INFO_COUNTERS = new Set(['l2-learn/MAC learned']);

function drops(dp: Dataplane): ErrorCount[] {
  return dp.errors().filter((e) => !INFO_COUNTERS.has(`${e.node}/${e.reason}`));
}

function errorText(errors: ErrorCount[]): string {
  return errors.map((e) => `${e.node}/${e.reason} ${e.count}`).join(', ');
}

/* Sends `count` frames on this thread; the counters start from zero. */
function send(dp: Dataplane, name: string, count: number, frame: string): number {
  dp.statsClear('all');
  const stream = dp.pgStreamAdd(`name=${name} count=${count} ${frame}`);
  dp.runUntilIdle();
  const status = dp.pgStreamStatus(stream);
  dp.pgStreamDelete(stream);
  return status.packetsSent;
}

/* A disabled one-packet stream creates the generator port `ifName`. */
function pgPort(dp: Dataplane, ifName: string): number {
  const s = dp.pgStreamAdd(`name=create-${ifName} count=1 enable=0 if=${ifName}`);
  dp.pgStreamDelete(s);
  const sw = dp.interfaceFind(ifName);
  if (sw === undefined) throw new VecgateError('SELFTEST_SETUP', `the generator did not create ${ifName}`);
  return sw;
}

function setUpIp4(dp: Dataplane): void {
  const pg0 = pgPort(dp, 'pg0');
  dp.interfaceSetMac(pg0, '02:00:00:00:00:02');
  dp.interfaceAddIp4(pg0, '192.168.0.1/24');
  dp.interfaceSetAdmin(pg0, true);
  /* A loopback outside a domain drops what it is sent; as a BVI it hands
   * the frames to its domain, where wire0 is a port to nowhere. */
  const sinkBd = 2;
  dp.bridgeDomainAdd(sinkBd);
  const sink = dp.loopbackCreate('sink0');
  dp.bridgePortSet(sink, sinkBd, { bvi: true });
  dp.interfaceAddIp4(sink, '192.168.255.1/24');
  dp.interfaceSetAdmin(sink, true);
  const wire = dp.loopbackCreate('wire0');
  dp.bridgePortSet(wire, sinkBd);
  dp.interfaceSetAdmin(wire, true);
  dp.l2fibAdd(sinkBd, '02:00:00:00:ff:02', wire);
  dp.ip4NeighborAdd(sink, '192.168.255.2', '02:00:00:00:ff:02');
  for (let i = 0; i < ROUTES; i++) dp.ip4RouteAdd(`1.0.${i}.0/24`, [{ via: '192.168.255.2', swIfIndex: sink }]);
}

const IP4_FRAME = 'size=64 if=pg0 eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02 ip4.src=192.168.0.2 l4=udp udp.sport=1024 udp.dport=1024';

function checkIp4(dp: Dataplane, packets: number): PathCheck {
  const sent = send(dp, 'selftest-ip4', packets, `${IP4_FRAME} ip4.dst=1.0.0.1-1.0.${ROUTES - 1}.254/random`);
  const c = counters(dp);
  const got = c.get('sink0')?.txPackets ?? 0;
  const problems: string[] = [];
  if (sent !== packets) problems.push(`generator sent ${sent} of ${packets}`);
  if ((c.get('pg0')?.rxPackets ?? 0) !== sent) problems.push(`pg0 received ${c.get('pg0')?.rxPackets ?? 0} of ${sent}`);
  if (got !== sent) problems.push(`sink0 sent ${got} of ${sent}`);
  if ((c.get('wire0')?.txPackets ?? 0) !== sent) problems.push(`wire0 sent ${c.get('wire0')?.txPackets ?? 0} of ${sent}`);
  for (const node of ['ip4-input', 'ip4-lookup', 'ip4-rewrite']) {
    const n = nodePackets(dp, node);
    if (n !== sent) problems.push(`${node} handled ${n} of ${sent}`);
  }
  const errors = drops(dp);
  if (errors.length) problems.push(`drops: ${errorText(errors)}`);
  return { path: 'ip4', sent, expected: packets, got, problems };
}

/* No route for 9.9.9.0/24: every packet is dropped by ip4-lookup, counted. */
function checkNoRoute(dp: Dataplane, packets: number): PathCheck {
  const sent = send(dp, 'selftest-noroute', packets, `${IP4_FRAME} ip4.dst=9.9.9.1-9.9.9.254`);
  const c = counters(dp);
  const errors = dp.errors();
  const got = errors.filter((e) => e.node === 'ip4-lookup').reduce((n, e) => n + e.count, 0);
  const problems: string[] = [];
  if (sent !== packets) problems.push(`generator sent ${sent} of ${packets}`);
  if (got !== sent) problems.push(`ip4-lookup counted ${got} of ${sent} as dropped (errors: ${errorText(errors) || 'none'})`);
  if ((c.get('sink0')?.txPackets ?? 0) !== 0) problems.push(`sink0 sent ${c.get('sink0')?.txPackets} unroutable packets`);
  return { path: 'no-route', sent, expected: packets, got, problems };
}

const l2Mac = (i: number) => `02:00:01:00:00:${i.toString(16).padStart(2, '0')}`;

function setUpL2(dp: Dataplane): void {
  const bd = 1;
  dp.bridgeDomainAdd(bd);
  const pg1 = pgPort(dp, 'pg1');
  dp.bridgePortSet(pg1, bd);
  dp.interfaceSetAdmin(pg1, true);
  for (let k = 0; k < L2_OUTPUTS; k++) {
    const out = dp.loopbackCreate(`out${k}`);
    dp.bridgePortSet(out, bd);
    dp.interfaceSetAdmin(out, true);
    dp.l2fibAdd(bd, l2Mac(k), out);
  }
}

/* Destinations alternate between the two static MACs: half the frames each. */
function checkL2(dp: Dataplane, packets: number): PathCheck {
  const frame = `size=64 if=pg1 eth.src=02:00:00:00:00:01 eth.dst=${l2Mac(0)}-${l2Mac(L2_OUTPUTS - 1)} eth.type=0x0800 l4=udp`;
  const sent = send(dp, 'selftest-l2', packets, frame);
  const c = counters(dp);
  const outs = Array.from({ length: L2_OUTPUTS }, (_, k) => c.get(`out${k}`)?.txPackets ?? 0);
  const got = outs.reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  if (sent !== packets) problems.push(`generator sent ${sent} of ${packets}`);
  if (got !== sent) problems.push(`the outputs sent ${got} of ${sent}`);
  outs.forEach((n, k) => {
    const want = Math.floor(sent / L2_OUTPUTS) + (k < sent % L2_OUTPUTS ? 1 : 0);
    if (n !== want) problems.push(`out${k} sent ${n}, expected ${want} (its MAC's share)`);
  });
  const fwd = nodePackets(dp, 'l2-fwd');
  if (fwd !== sent) problems.push(`l2-fwd handled ${fwd} of ${sent}`);
  const errors = drops(dp);
  if (errors.length) problems.push(`drops: ${errorText(errors)}`);
  return { path: 'l2', sent, expected: packets, got, problems };
}

export function runSelftest(opts: SelftestOptions = {}): SelftestResult {
  const packets = opts.packets ?? DEFAULT_PACKETS;
  if (!Number.isInteger(packets) || packets < 10 || packets > 10_000_000) {
    throw new VecgateError('SELFTEST_OPTION', `--packets must be an integer in 10..10000000, not ${packets}`);
  }
  const t0 = process.hrtime.bigint();
  const dp = Dataplane.open({ variant: opts.variant, options: opts.options });
  try {
    setUpIp4(dp);
    setUpL2(dp);
    const paths = [checkIp4(dp, packets), checkL2(dp, packets), checkNoRoute(dp, Math.max(1, Math.floor(packets / 10)))];
    const v = dp.variantInfo;
    return {
      ok: paths.every((p) => p.problems.length === 0),
      variant: v.variant,
      arch: v.arch,
      pinned: v.pinned,
      node: process.version,
      nodePath: process.execPath,
      paths,
      seconds: Number(process.hrtime.bigint() - t0) / 1e9,
    };
  } finally {
    dp.close();
  }
}

const VERBS: Record<PathCheck['path'], string> = { ip4: 'forwarded', l2: 'bridged', 'no-route': 'dropped' };

/* The one-line verdict. */
export function verdict(r: SelftestResult): string {
  const head = `selftest ${r.ok ? 'PASS' : 'FAIL'}: ${r.variant}${r.pinned ? ' (pinned)' : ''} on ${r.arch}, node ${r.node}`;
  if (!r.ok) {
    return `${head}: ${r.paths
      .filter((p) => p.problems.length)
      .map((p) => `${p.path}: ${p.problems.join('; ')}`)
      .join('; ')}`;
  }
  const paths = r.paths.map((p) => `${p.path} ${p.got}/${p.sent} ${VERBS[p.path]}`).join(', ');
  return `${head}: ${paths} in ${r.seconds.toFixed(2)} s`;
}
