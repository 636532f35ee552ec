/* afpacket-forward: vecgate against the Linux kernel as the router between
 * two hosts, on the same veth topology, in the same run.
 *
 *   src ns (trafgen) --veth-- router --veth-- dst ns (counts what arrives)
 *
 * The router is first a namespace with ip_forward, then vecgate with
 * af_packet ports on the router ends. trafgen floods 64-byte UDP frames;
 * the delivered rate is the dst interface's rx_packets over the window. The
 * destination address is not dst's own, and dst does not forward, so dst
 * drops them without answering: only the router's work differs. Needs root,
 * iproute2 and trafgen (Debian netsniff-ng). trafgen runs on core 0 and the
 * dataplane thread on core 1, so the two runs place work the same way. */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { BenchOptions, BenchResult } from './scenario';

const WINDOW_S = 3;
const SETTLE_MS = 700;

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function nsSh(ns: string, ...args: string[]): string {
  return sh('ip', 'netns', 'exec', ns, ...args);
}

function macOf(ns: string | null, dev: string): string {
  const out = ns ? sh('ip', '-n', ns, '-o', 'link', 'show', dev) : sh('ip', '-o', 'link', 'show', dev);
  const m = /link\/ether ([0-9a-f:]{17})/.exec(out);
  if (!m) throw new VecgateError('BENCH_SETUP', `no MAC for ${dev}`);
  return m[1]!;
}

function rxPackets(ns: string, dev: string): number {
  return Number(nsSh(ns, 'cat', `/sys/class/net/${dev}/statistics/rx_packets`).trim());
}

/* A 64-byte (60 + FCS) UDP frame 10.81.0.2 -> 10.82.0.9 as trafgen config. */
function trafgenConfig(dstMac: string, srcMac: string): string {
  const ip = [0x45, 0, 0, 46, 0, 0, 0, 0, 64, 17, 0, 0, 10, 81, 0, 2, 10, 82, 0, 9];
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (ip[i]! << 8) | ip[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (~sum >> 8) & 0xff;
  ip[11] = ~sum & 0xff;
  const udp = [0x04, 0x00, 0x04, 0x00, 0, 26, 0, 0];
  const bytes = [
    ...dstMac.split(':').map((h) => parseInt(h, 16)),
    ...srcMac.split(':').map((h) => parseInt(h, 16)),
    0x08, 0x00, ...ip, ...udp, ...new Array(18).fill(0),
  ];
  return `{ ${bytes.map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }\n`;
}

interface Topology {
  tag: string;
  src: string;
  dst: string;
}

function link(a: string, aNs: string | null, b: string, bNs: string): void {
  sh('ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', bNs);
  if (aNs) sh('ip', 'link', 'set', a, 'netns', aNs);
}

function up(ns: string | null, dev: string, cidr?: string): void {
  const pre = ns ? ['ip', '-n', ns] : ['ip'];
  if (cidr) sh(...pre, 'addr', 'add', cidr, 'dev', dev);
  sh(...pre, 'link', 'set', dev, 'up');
  const conf = `/proc/sys/net/ipv6/conf/${dev}/disable_ipv6`;
  if (ns) nsSh(ns, 'sh', '-c', `echo 1 > ${conf}`);
  else fs.writeFileSync(conf, '1');
}

function hosts(t: Topology): void {
  for (const ns of [t.src, t.dst]) sh('ip', 'netns', 'add', ns);
}

function cleanup(t: Topology, rt?: string): void {
  for (const ns of [t.src, t.dst, rt]) if (ns) spawnQuiet('ip', 'netns', 'del', ns);
  for (const dev of [`${t.tag}r0`, `${t.tag}r1`]) spawnQuiet('ip', 'link', 'del', dev);
}

function spawnQuiet(...args: string[]): void {
  try {
    sh(...args);
  } catch {
    /* already gone */
  }
}

/* Floods from src for the window; returns the rate delivered at dst. */
async function flood(t: Topology, routerMac: string): Promise<number> {
  const cfg = path.join(os.tmpdir(), `${t.tag}.trafgen`);
  fs.writeFileSync(cfg, trafgenConfig(routerMac, macOf(t.src, 's0')));
  const gen = spawn('ip', ['netns', 'exec', t.src, 'taskset', '-c', '0', 'trafgen', '-i', cfg, '-o', 's0', '-P', '1', '-C'], {
    stdio: 'ignore',
  });
  const exited = new Promise((r) => gen.once('exit', r));
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const before = rxPackets(t.dst, 'd0');
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const got = rxPackets(t.dst, 'd0') - before;
    return got / (Number(process.hrtime.bigint() - t0) / 1e9);
  } finally {
    gen.kill('SIGINT');
    const late = setTimeout(() => gen.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(late);
    fs.rmSync(cfg, { force: true });
  }
}

async function kernelRun(tag: string): Promise<number> {
  const t: Topology = { tag, src: `${tag}s`, dst: `${tag}d` };
  const rt = `${tag}rt`;
  try {
    hosts(t);
    sh('ip', 'netns', 'add', rt);
    link(`${tag}r0`, rt, 's0', t.src);
    link(`${tag}r1`, rt, 'd0', t.dst);
    up(t.src, 's0', '10.81.0.2/24');
    up(t.dst, 'd0', '10.82.0.2/24');
    up(rt, `${tag}r0`, '10.81.0.1/24');
    up(rt, `${tag}r1`, '10.82.0.1/24');
    nsSh(rt, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
    sh('ip', '-n', rt, 'neigh', 'replace', '10.82.0.9', 'lladdr', macOf(t.dst, 'd0'), 'dev', `${tag}r1`, 'nud', 'permanent');
    return await flood(t, macOf(rt, `${tag}r0`));
  } finally {
    cleanup(t, rt);
  }
}

async function vecgateRun(
  tag: string,
  opts: BenchOptions,
): Promise<{ pps: number; dp: BenchResult['nodes']; errors: BenchResult['errors']; variant: string }> {
  const t: Topology = { tag, src: `${tag}s`, dst: `${tag}d` };
  let dp: Dataplane | undefined;
  try {
    hosts(t);
    link(`${tag}r0`, null, 's0', t.src);
    link(`${tag}r1`, null, 'd0', t.dst);
    up(t.src, 's0', '10.81.0.2/24');
    up(t.dst, 'd0', '10.82.0.2/24');
    up(null, `${tag}r0`);
    up(null, `${tag}r1`);
    dp = Dataplane.open({ variant: opts.variant, options: os.cpus().length > 1 ? 'cpus=1' : '' });
    const r0 = dp.afPacketCreate('r0', `${tag}r0`);
    const r1 = dp.afPacketCreate('r1', `${tag}r1`);
    dp.interfaceAddIp4(r0, '10.81.0.1/24');
    dp.interfaceAddIp4(r1, '10.82.0.1/24');
    dp.ip4NeighborAdd(r1, '10.82.0.9', macOf(t.dst, 'd0'));
    dp.start();
    const pps = await flood(t, dp.interfaceMac(r0));
    dp.stop();
    const nodes = dp
      .runtime()
      .filter((n) => n.packets > 0)
      .map(({ name, calls, vectors, packets, clocksPerPacket, vectorsPerCall }) => ({
        name, calls, vectors, packets, clocksPerPacket, vectorsPerCall,
      }));
    return { pps, dp: nodes, errors: dp.errors(), variant: dp.variantInfo.variant };
  } finally {
    dp?.close();
    cleanup(t);
  }
}

export async function afpacketForward(opts: BenchOptions): Promise<BenchResult> {
  if (process.getuid?.() !== 0) throw new VecgateError('BENCH_ROOT', 'afpacket-forward needs root (namespaces, veth)');
  try {
    sh('sh', '-c', 'command -v trafgen'); /* trafgen -v exits 1 */
  } catch {
    throw new VecgateError('BENCH_TOOL', 'afpacket-forward needs trafgen (Debian package netsniff-ng)');
  }
  const tag = `vgb${process.pid % 100000}`;
  const kernelPps = await kernelRun(tag);
  const v = await vecgateRun(tag, opts);
  return {
    scenario: 'afpacket-forward',
    variant: v.variant,
    packets: 0,
    seconds: WINDOW_S,
    mpps: v.pps / 1e6,
    generatorSeconds: WINDOW_S,
    clockHz: 0,
    nodes: v.dp,
    errors: v.errors, /* the dataplane's, e.g. a full tx ring */
    frameBytes: 64,
    vecgatePps: Math.round(v.pps),
    kernelPps: Math.round(kernelPps),
    ratio: v.pps / kernelPps,
  };
}
