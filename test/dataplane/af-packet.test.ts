import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { DataplaneError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';
import { netnsReason, sh } from '../peers/netns';

/* The af_packet and tap interfaces against real Linux interfaces: a veth
 * pair into a namespace made for the run, and a TAP device. Traffic comes
 * from the kernel itself (an ARP request for an unused address) and from
 * the packet generator, so no tool beyond iproute2 and bash (its /dev/udp) is needed. */

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('dataplane af_packet and tap interfaces', () => {
  let dp: Dataplane;
  const ns = `vgmocha-${process.pid}`;
  const host = `vgm${process.pid}h`;
  const peer = `vgm${process.pid}p`;
  const tap = `vgmt${process.pid}`;

  const counters = (name: string) => dp.interfaceCounters().find((c) => c.name === name)!;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  it('refuses a host interface that does not exist, and an unknown option, naming them', () => {
    assert.throws(
      () => dp.afPacketCreate('wan0', 'vgnosuch0'),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'ENOTFOUND' && /host interface vgnosuch0 does not exist/.test(e.message),
    );
    assert.throws(() => dp.afPacketCreate('wan0', 'lo', 'ring=9'), /unknown option 'ring'/);
    assert.throws(() => dp.tapCreate('tap0', 'vgtapx', 'mode=1'), /unknown option 'mode'/);
    assert.equal(dp.interfaceFind('wan0'), undefined);
  });

  describe('with a veth pair into a namespace', function () {
    before(function () {
      if (netnsReason) {
        console.log(`      (skipped: ${netnsReason})`);
        this.skip();
      }
      sh(`ip netns add ${ns}`);
      sh(`ip link add ${host} type veth peer name ${peer} netns ${ns}`);
      sh(`ip -n ${ns} addr add 192.168.234.2/24 dev ${peer} && ip -n ${ns} link set ${peer} up`);
    });
    after(() => {
      if (!netnsReason) spawnSync('sh', ['-c', `ip link del ${host} 2>/dev/null; ip netns del ${ns} 2>/dev/null`]);
    });

    it('counts what the namespace sends in and what the dataplane sends out', async () => {
      const a = dp.afPacketCreate('host0', host, 'rx-frames=256 tx-frames=64');
      assert.equal(dp.interfaceFind('host0'), a);
      dp.ethernetRedirect(0x88b5, a);
      dp.start();
      /* the namespace asks who has an unused address: an ARP request the dataplane receives */
      sh(`ip netns exec ${ns} bash -c 'echo x > /dev/udp/192.168.234.9/9' 2>/dev/null || true`);
      await until('rx counter moves', () => counters('host0').rxPackets >= 1);
      assert.ok(counters('host0').rxBytes >= 42, 'an ARP request is at least 42 bytes');
      dp.pgStreamAdd('name=s count=25 size=100 eth.type=0x88b5');
      await until('25 frames sent', () => counters('host0').txPackets === 25);
      assert.equal(counters('host0').txBytes, 2500);
      const seen = Number(sh(`ip netns exec ${ns} cat /sys/class/net/${peer}/statistics/rx_packets`));
      assert.ok(seen >= 25, `the namespace's end received ${seen} frames`);
      dp.stop();
    });

    it('makes a TAP device on the host, takes what the host sends into it and removes it on delete', async () => {
      const t = dp.tapCreate('tap0', tap);
      assert.match(sh(`ip link show ${tap}`), /UP/);
      sh(`ip addr add 192.168.235.1/24 dev ${tap}`);
      dp.start();
      sh(`bash -c 'echo x > /dev/udp/192.168.235.9/9' 2>/dev/null || true`);
      await until('tap rx counter moves', () => counters('tap0').rxPackets >= 1);
      dp.stop();
      dp.interfaceDelete(t);
      assert.notEqual(spawnSync('ip', ['link', 'show', tap]).status, 0, 'the TAP device is gone');
    });
  });
});
