import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { DataplaneError } from '../../src/errors';
import { Dataplane, PingReply } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';
import { netnsReason, sh } from '../peers/netns';

/* Ping from the dataplane: round trips through the box's own ip4-local,
 * and to a real Linux host in a namespace behind an af_packet port, whose
 * kernel counts the requests it answered. */

/* The namespace kernel's ICMP counters (/proc/net/snmp is per namespace). */
function icmpCounters(ns: string): Record<string, number> {
  const lines = sh(`ip netns exec ${ns} cat /proc/net/snmp`).split('\n').filter((l) => l.startsWith('Icmp:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

function checkReplies(replies: PingReply[], from: string, bytes: number, ttl: number): void {
  for (const r of replies) {
    assert.equal(r.from, from);
    assert.equal(r.bytes, bytes);
    assert.equal(r.ttl, ttl);
    assert.ok(r.rttMs > 0 && r.rttMs < 1000, `rtt ${r.rttMs} ms`);
  }
  const seqs = replies.map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'replies in order of their requests');
}

describe('dataplane ping', () => {
  let dp: Dataplane;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  it("pings the box's own address round the graph, stopped (ping runs it) and running", async () => {
    const lo = dp.loopbackCreate('loop0');
    dp.interfaceAddIp4(lo, '10.55.0.1/24');
    const seen: PingReply[] = [];
    const r = await dp.ping('10.55.0.1', { count: 3, intervalMs: 20, onReply: (p) => seen.push(p) });
    assert.equal(r.sent, 3);
    assert.equal(r.received, 3);
    assert.deepEqual(r.replies.map((p) => p.seq), [1, 2, 3]);
    assert.deepEqual(seen, r.replies, 'onReply saw each reply as it came');
    checkReplies(r.replies, '10.55.0.1', 64, 64);
    assert.ok(r.rttMs && r.rttMs.min <= r.rttMs.avg && r.rttMs.avg <= r.rttMs.max);
    dp.start();
    const big = await dp.ping('10.55.0.1', { count: 2, intervalMs: 10, size: 1472 });
    assert.equal(big.received, 2);
    checkReplies(big.replies, '10.55.0.1', 1480, 64);
    const counted = dp.errors().find((e) => e.node === 'ip4-local' && e.reason === 'echo replies to our pings');
    assert.equal(counted?.count, 5);
  });

  it('refuses a destination without a route, and bad arguments, naming them', async () => {
    await assert.rejects(
      dp.ping('192.0.2.1', { count: 1 }),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'ENOTFOUND' && /ping 192\.0\.2\.1: no route in VRF 0/.test(e.message),
    );
    await assert.rejects(dp.ping('192.0.2.1', { vrf: 7 }), /no VRF 7/);
    await assert.rejects(dp.ping('10.0.0.300'), /not an IPv4 address/);
    await assert.rejects(dp.ping('10.0.0.1', { count: 0 }), /count 0 is outside 1\.\.65535/);
    const lo = dp.loopbackCreate('loop0');
    dp.interfaceAddIp4(lo, '10.55.0.1/24');
    await assert.rejects(dp.ping('10.55.0.1', { size: 1473 }), /size 1473: the ICMP payload is 0\.\.1472 bytes/);
  });

  it('sends one request and reads its reply with the low-level calls', () => {
    const lo = dp.loopbackCreate('loop0');
    dp.interfaceAddIp4(lo, '10.55.0.1/24');
    dp.pingSend('10.55.0.1', { id: 4321, seq: 17, size: 0 });
    assert.deepEqual(dp.pingReplies(), [], 'nothing before the graph runs');
    dp.runUntilIdle();
    const [r, ...rest] = dp.pingReplies();
    assert.equal(rest.length, 0);
    assert.deepEqual({ ...r!, rttMs: 0 }, { from: '10.55.0.1', id: 4321, seq: 17, bytes: 8, ttl: 64, rttMs: 0 });
    assert.deepEqual(dp.pingReplies(), [], 'drained as read');
  });

  describe('a Linux host in a namespace over veth, behind an af_packet port', function () {
    const ns = `vgping-${process.pid}`;
    const host = `vgp${process.pid}h`;

    before(function () {
      if (netnsReason) {
        console.log(`      (skipped: ${netnsReason})`);
        this.skip();
      }
      sh(`ip netns add ${ns}`);
      sh(`ip link add ${host} type veth peer name eth0 netns ${ns}`);
      sh(`ip -n ${ns} addr add 10.77.0.2/24 dev eth0 && ip -n ${ns} link set eth0 up && ip -n ${ns} link set lo up`);
    });
    after(() => {
      if (!netnsReason) spawnSync('sh', ['-c', `ip link del ${host} 2>/dev/null; ip netns del ${ns} 2>/dev/null`]);
    });

    it('gets echo replies from the host, whose kernel answered each request', async () => {
      const port = dp.afPacketCreate('host0', host, 'rx-frames=256 tx-frames=64');
      dp.interfaceAddIp4(port, '10.77.0.1/24');
      dp.start();
      const before = icmpCounters(ns);
      /* The first request finds no ARP entry and becomes an ARP request, as
       * a forwarded packet would; the rest go out. */
      const r = await dp.ping('10.77.0.2', { count: 4, intervalMs: 200, timeoutMs: 2000 });
      const after = icmpCounters(ns);
      assert.equal(r.sent, 4);
      assert.ok(r.received >= 3, `${r.received} of 4 answered`);
      checkReplies(r.replies, '10.77.0.2', 64, 64); /* Linux answers with TTL 64, one hop away */
      assert.equal(after.InEchos! - before.InEchos!, r.received, 'the host received the requests');
      assert.equal(after.OutEchoReps! - before.OutEchoReps!, r.received, 'and answered each');
      assert.ok(dp.ip4NeighborTable().some((n) => n.address === '10.77.0.2'), 'the host was learned by ARP');
      /* Now resolved: none is lost, and a stopped dataplane is run by ping itself. */
      dp.stop();
      const again = await dp.ping('10.77.0.2', { count: 3, intervalMs: 50, size: 100 });
      assert.equal(again.received, 3);
      checkReplies(again.replies, '10.77.0.2', 108, 64);
    });

    it('counts requests that nobody answers as lost', async () => {
      const port = dp.afPacketCreate('host0', host, 'rx-frames=256 tx-frames=64');
      dp.interfaceAddIp4(port, '10.77.0.1/24');
      dp.ip4NeighborAdd(port, '10.77.0.9', '02:00:00:00:77:09'); /* no such host */
      dp.start();
      const r = await dp.ping('10.77.0.9', { count: 2, intervalMs: 50, timeoutMs: 200 });
      assert.deepEqual({ sent: r.sent, received: r.received, rttMs: r.rttMs }, { sent: 2, received: 0, rttMs: null });
    });
  });
});
