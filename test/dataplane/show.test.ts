import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { DataplaneError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { testDir, withoutVariantPin } from '../helpers';

/* What `show buffers`, `show threads` and `show hardware-interfaces` read. */
describe('dataplane show buffers, threads and hardware', () => {
  let dp: Dataplane;

  beforeEach(() => withoutVariantPin());
  afterEach(() => dp?.close());

  it('tells the buffer pool, free and cached adding up to the total while idle', () => {
    dp = Dataplane.open({ options: 'buffers=4096' });
    const b = dp.bufferPool();
    assert.deepEqual({ ...b, free: 0, cached: 0 }, { total: 4096, free: 0, cached: 0, dataSize: 2048, bufferSize: 2304, backing: dp.bufferBacking() });
    assert.equal(b.free + b.cached, 4096);
    dp.pgStreamAdd('name=s count=1000 size=64');
    dp.runUntilIdle();
    const after = dp.bufferPool();
    assert.ok(after.cached > 0, 'the thread that ran keeps a cache');
    assert.equal(after.free + after.cached, 4096, 'every buffer came back');
  });

  it('names each thread, its core and, while running, its Linux thread id', () => {
    dp = Dataplane.open({ options: 'buffers=4096 threads=2 cpus=0' });
    assert.deepEqual(dp.threads(), [
      { index: 0, name: 'vg-dp-0', cpu: 0, tid: null },
      { index: 1, name: 'vg-dp-1', cpu: null, tid: null },
    ]);
    dp.start();
    const running = dp.threads();
    for (const t of running) {
      assert.ok(t.tid !== null && t.tid !== process.pid);
      assert.equal(fs.readFileSync(`/proc/self/task/${t.tid}/comm`, 'utf8').trim(), t.name, 'the kernel knows the thread by that name');
    }
    dp.stop();
    assert.deepEqual(dp.threads().map((t) => t.tid), [null, null]);
  });

  it("tells each interface's driver state", () => {
    dp = Dataplane.open({ options: 'buffers=4096' });
    const dir = testDir('show-hw');
    const tx = path.join(dir, 'out.pcap');
    const out = dp.pcapInterfaceCreate('out0', { tx });
    dp.ethernetRedirect(0x88b5, out);
    dp.pgStreamAdd('name=gen count=3 size=64 eth.type=0x88b5');
    dp.runUntilIdle();
    assert.equal(dp.hardwareInterface(out), `  rx file: none\n  tx file ${tx}: 3 frames written\n`);
    assert.match(dp.hardwareInterface(dp.interfaceFind('pg0')!), /^ {2}stream 0 gen: done, 3 of 3 packets sent, as fast as possible/);
    const sub = dp.subInterfaceCreate(out, 100);
    assert.equal(dp.hardwareInterface(sub), '  802.1Q sub-interface of out0 (sw_if_index 0), vlan 100\n');
    const lo = dp.loopbackCreate('loop0');
    assert.match(dp.hardwareInterface(lo), /in no bridge domain/);
    if (process.getuid?.() === 0) {
      const af = dp.afPacketCreate('lo-af', 'lo', 'rx-frames=256 tx-frames=64');
      const text = dp.hardwareInterface(af);
      assert.match(text, /^ {2}host interface lo, ifindex 1, mtu \d+\n/);
      assert.match(text, /rx ring: 8 blocks of 64 KB/);
      assert.match(text, /tx ring: 64 frames of \d+ bytes .*qdisc bypass on/);
      assert.match(text, /kernel rx: \d+ packets, \d+ dropped \(rx ring full\)/);
    }
    assert.throws(
      () => dp.hardwareInterface(99),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'ENOTFOUND' && /no interface with sw_if_index 99/.test(e.message),
    );
  });
});
