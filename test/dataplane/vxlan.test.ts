import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { DataplaneError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';
import { hasCommands, isRoot, sh } from '../peers/netns';

/* VXLAN (RFC 7348) against Linux. Namespace U is the underlay peer and the
 * remote VTEP: a veth to the dataplane's af_packet port "underlay"
 * (10.77.0.1 on the dataplane, 10.77.0.2 in U) and a Linux vxlan device vx0
 * (VNI 42, port 4789) whose address 192.168.77.2 is the host behind the
 * tunnel. Namespace B is the local host, 192.168.77.1, on the dataplane's
 * af_packet port "lan". The dataplane bridges "lan" and the tunnel in
 * bridge domain 10, so B and the host behind vx0 share one segment. */
const hasVxlan =
  isRoot &&
  hasCommands('ip', 'ping') &&
  spawnSync('sh', ['-c', `ip link add vgxprobe${process.pid} type vxlan id 1 dstport 4789 local 127.0.0.1 && ip link del vgxprobe${process.pid}`])
    .status === 0;
const reason = !isRoot ? 'needs root' : !hasCommands('ip', 'ping') ? 'needs iproute2 (ip) and ping' : !hasVxlan ? 'the kernel has no vxlan devices' : '';

function pings(ns: string, dst: string, extra: string[] = []): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', ...extra, dst]).status === 0;
}

async function pingsWithin(ns: string, dst: string, ms: number, extra: string[] = []): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (pings(ns, dst, extra)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dataplane VXLAN tunnels', () => {
  let dp: Dataplane | undefined;
  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => {
    dp?.close();
    dp = undefined;
  });

  it('adds, dumps and deletes tunnels, and refuses bad ones naming why', () => {
    const d = dp!;
    const u = d.pcapInterfaceCreate('u0', { tx: '/dev/null' });
    d.interfaceAddIp4(u, '10.77.9.1/24');
    const t = d.vxlanTunnelAdd('vxlan0', { src: '10.77.9.1', dst: '10.77.9.2', vni: 42 });
    const t2 = d.vxlanTunnelAdd('', { src: '10.77.9.1', dst: '10.77.9.3', vni: 16777215, dport: 8472 });
    assert.deepEqual(d.vxlanTunnels(), [
      { swIfIndex: t, name: 'vxlan0', src: '10.77.9.1', dst: '10.77.9.2', vni: 42, encapVrf: 0, dport: 4789 },
      { swIfIndex: t2, name: 'vxlan_tunnel0', src: '10.77.9.1', dst: '10.77.9.3', vni: 16777215, encapVrf: 0, dport: 8472 },
    ]);
    assert.equal(d.interfaces().find((i) => i.swIfIndex === t)?.type, 'vxlan');
    const refused = (f: () => void, code: string, re: RegExp) =>
      assert.throws(f, (e: unknown) => e instanceof DataplaneError && e.errorName === code && re.test(e.message));
    refused(() => d.vxlanTunnelAdd('x', { src: '10.77.9.1', dst: '10.77.9.2', vni: 1 << 24 }), 'EINVAL', /VNI 16777216/);
    refused(() => d.vxlanTunnelAdd('x', { src: '10.77.9.9', dst: '10.77.9.2', vni: 5 }), 'ESTATE', /src 10\.77\.9\.9 is not an address of this box in VRF 0/);
    refused(() => d.vxlanTunnelAdd('x', { src: '10.77.9.1', dst: '10.77.9.2', vni: 42 }), 'EEXISTS', /vxlan0/);
    refused(() => d.vxlanTunnelDelete(u), 'EINVAL', /not a vxlan tunnel/);
    d.vxlanTunnelDelete(t2);
    assert.deepEqual(
      d.vxlanTunnels().map((x) => x.name),
      ['vxlan0'],
    );
  });

  describe('with a Linux VTEP in a namespace', function () {
    this.timeout(60_000);
    const id = process.pid % 100000;
    const nsU = `vgxu${id}`;
    const nsB = `vgxb${id}`;
    const hostU = `vgxu${id}h`;
    const hostB = `vgxb${id}h`;

    /* The dataplane's side: the underlay port 10.77.0.1, the LAN port and
     * the tunnel to U's VTEP bridged in domain 10; started. */
    const bridgeOverTunnel = (d: Dataplane, underlayMtu?: number) => {
      const underlay = d.afPacketCreate('underlay', hostU);
      d.interfaceAddIp4(underlay, '10.77.0.1/24');
      if (underlayMtu !== undefined) d.interfaceSetMtu(underlay, underlayMtu);
      const lan = d.afPacketCreate('lan', hostB);
      const vx = d.vxlanTunnelAdd('vxlan0', { src: '10.77.0.1', dst: '10.77.0.2', vni: 42 });
      d.bridgeDomainAdd(10);
      d.bridgePortSet(lan, 10);
      d.bridgePortSet(vx, 10);
      d.start();
    };

    const cleanup = () =>
      spawnSync('sh', ['-c', `ip link del ${hostU} 2>/dev/null; ip link del ${hostB} 2>/dev/null; ip netns del ${nsU} 2>/dev/null; ip netns del ${nsB} 2>/dev/null`]);

    before(function () {
      if (reason) {
        console.log(`      (skipped: ${reason})`);
        this.skip();
      }
      try {
        sh(`ip netns add ${nsU} && ip netns add ${nsB}`);
        sh(`ip link add ${hostU} type veth peer name eth0 netns ${nsU} && ip link set ${hostU} up`);
        sh(`ip link add ${hostB} type veth peer name eth0 netns ${nsB} && ip link set ${hostB} up`);
        sh(`ip -n ${nsU} addr add 10.77.0.2/24 dev eth0 && ip -n ${nsU} link set eth0 up && ip -n ${nsU} link set lo up`);
        sh(`ip -n ${nsU} link add vx0 type vxlan id 42 local 10.77.0.2 remote 10.77.0.1 dstport 4789 dev eth0`);
        sh(`ip -n ${nsU} addr add 192.168.77.2/24 dev vx0 && ip -n ${nsU} link set vx0 up`);
        sh(`ip -n ${nsB} addr add 192.168.77.1/24 dev eth0 && ip -n ${nsB} link set eth0 up && ip -n ${nsB} link set lo up`);
      } catch (e) {
        cleanup();
        throw e;
      }
    });
    after(() => {
      if (!reason) cleanup();
    });

    it('carries pings both ways between a host on the bridge domain and the host behind the Linux VTEP', async () => {
      const d = dp!;
      bridgeOverTunnel(d);
      assert.ok(await pingsWithin(nsB, '192.168.77.2', 10_000), 'B reaches the host behind the Linux VTEP');
      spawnSync('ip', ['-n', nsB, 'neigh', 'flush', 'all']);
      spawnSync('ip', ['-n', nsU, 'neigh', 'flush', 'dev', 'vx0']);
      assert.ok(await pingsWithin(nsU, '192.168.77.1', 10_000), 'the host behind the Linux VTEP reaches B');
      const remoteMac = sh(`ip netns exec ${nsU} cat /sys/class/net/vx0/address`).trim();
      const fib = d.l2fib(10);
      assert.match(fib, new RegExp(`${remoteMac} port vxlan0`), fib);
      const c = d.interfaceCounters().find((x) => x.name === 'vxlan0')!;
      assert.ok(c.rxPackets >= 2 && c.txPackets >= 2, JSON.stringify(c));
      assert.ok(c.rxBytes > 0 && c.txBytes > 0, JSON.stringify(c));
      /* The Linux side saw VXLAN from the dataplane's VTEP: its vxlan device received what it decapsulated. */
      assert.ok(Number(sh(`ip netns exec ${nsU} cat /sys/class/net/vx0/statistics/rx_packets`)) >= 2);
      d.stop();
    });

    /* Full-size inner frames (1500-byte IPv4, 1550 bytes once encapsulated)
     * with don't-fragment clear, over an underlay of MTU 1500 on both sides.
     * What the dataplane encapsulates leaves as two fragments that Linux
     * reassembles before its VTEP sees them; what Linux's VTEP sends Linux
     * fragments (its outer DF is clear by default), and the dataplane
     * reassembles it (ip4-reassembly) before vxlan-input. Linux caps a
     * vxlan device bound to a lower device at that device's MTU less 50,
     * so vx0 is made again unbound to take MTU 1500; and after its first
     * oversize packet to a host Linux lowers that host's path MTU to 1450
     * and fragments the inner packets instead, so the route through vx0
     * gets its MTU locked. Each ping crosses the tunnel once each way. */
    it('carries full-size frames both ways, fragmenting and reassembling over a 1500-byte underlay', async () => {
      sh(`ip -n ${nsU} link del vx0`);
      sh(`ip -n ${nsU} link add vx0 type vxlan id 42 local 10.77.0.2 remote 10.77.0.1 dstport 4789`);
      sh(`ip -n ${nsU} addr add 192.168.77.2/24 dev vx0 && ip -n ${nsU} link set vx0 mtu 1500 && ip -n ${nsU} link set vx0 up`);
      sh(`ip -n ${nsU} route replace 192.168.77.0/24 dev vx0 src 192.168.77.2 mtu lock 1500`);
      sh(`ip -n ${nsB} neigh flush all`); /* the new vx0 has a new MAC */
      const d = dp!;
      bridgeOverTunnel(d, 1500);
      const full = ['-s', '1472', '-M', 'dont'];
      assert.ok(await pingsWithin(nsB, '192.168.77.2', 10_000), 'small frames first (learning, ARP)');
      assert.ok(await pingsWithin(nsB, '192.168.77.2', 10_000, full), 'B reaches the host behind the Linux VTEP with 1500-byte packets');
      assert.ok(await pingsWithin(nsU, '192.168.77.1', 10_000, full), 'the host behind the Linux VTEP reaches B with 1500-byte packets');
      const count = (node: string, reason: string) => d.errors().find((e) => e.node === node && e.reason === reason)?.count ?? 0;
      assert.ok(count('ip4-frag', 'packets fragmented') >= 2, JSON.stringify(d.errors()));
      assert.equal(count('ip4-frag', 'fragments made'), 2 * count('ip4-frag', 'packets fragmented'));
      /* Linux's halves came in as fragments and left ip4-reassembly whole. */
      assert.ok(count('ip4-reassembly', 'datagrams reassembled') >= 2, JSON.stringify(d.errors()));
      const reasmDrops = d.errors().filter((e) => e.node === 'ip4-reassembly' && e.reason !== 'datagrams reassembled' && e.count > 0);
      assert.deepEqual(reasmDrops, [], JSON.stringify(reasmDrops));
      assert.equal(Number(sh(`ip netns exec ${nsU} cat /sys/class/net/eth0/mtu`)), 1500);
      const reasm = sh(`ip netns exec ${nsU} cat /proc/net/snmp`).split('\n').filter((l) => l.startsWith('Ip:'));
      const [names, values] = reasm.map((l) => l.split(/\s+/));
      assert.ok(Number(values[names.indexOf('ReasmOKs')]) >= 2, reasm.join('\n'));
      d.stop();
    });
  });
});
