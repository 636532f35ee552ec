import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { DataplaneError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { testDir, withoutVariantPin } from '../helpers';

/* `pcap trace rx tx drop`: the file the capture writes is read back by
 * tshark, a reader that is not ours, which must count exactly the frames
 * captured and see each kind where it was taken. */
const hasTshark = spawnSync('tshark', ['-v']).status === 0;

/* (frame length, ethertype) of every frame of a capture, as tshark reads them. */
function tsharkFrames(file: string): { len: number; type: string }[] {
  const r = spawnSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'eth.type'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [len, type] = l.split('\t');
      return { len: Number(len), type: type ?? '' };
    });
}

/* capinfos's count of the frames in a file (the header's view, not ours). */
function capinfosCount(file: string): number | undefined {
  const r = spawnSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' });
  if (r.error) return undefined; /* not installed with this tshark */
  assert.equal(r.status, 0, r.stderr);
  const m = /Number of packets:\s*(\d+)/.exec(r.stdout);
  assert.ok(m, `capinfos printed no count:\n${r.stdout}`);
  return Number(m[1]);
}

function checkWithTshark(file: string, expect: (frames: { len: number; type: string }[]) => void, count: number): void {
  if (!hasTshark) {
    console.log('      (tshark is not installed: the file was not checked by an independent reader)');
    return;
  }
  const frames = tsharkFrames(file);
  assert.equal(frames.length, count, 'tshark reads exactly the frames captured');
  const counted = capinfosCount(file);
  if (counted !== undefined) assert.equal(counted, count, 'capinfos counts them too');
  expect(frames);
}

describe('dataplane pcap trace', () => {
  let dp: Dataplane;
  let dir: string;

  beforeEach(() => {
    withoutVariantPin();
    dir = testDir('pcap-trace');
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  /* pg0 sends 20 frames of 0x88b5 out of out0 and 7 of 0x1234, which ethernet-input drops. */
  function traffic(): number {
    const out = dp.pcapInterfaceCreate('out0', { tx: path.join(dir, 'out0.pcap') });
    dp.ethernetRedirect(0x88b5, out);
    dp.pgStreamAdd('name=fwd count=20 size=100 eth.type=0x88b5 enable=0');
    dp.pgStreamAdd('name=bad count=7 size=80 eth.type=0x1234 enable=0');
    return out;
  }
  function send(): void {
    dp.pgStreamEnable(0);
    dp.pgStreamEnable(1);
    assert.equal(dp.runUntilIdle(), 27);
  }

  it('captures what is received, sent and dropped, and writes a file tshark reads frame for frame', () => {
    traffic();
    const file = path.join(dir, 'all.pcap');
    assert.deepEqual(dp.pcapTraceStatus(), { on: false, rx: false, tx: false, drop: false, max: 0, captured: 0, file: '' });
    dp.pcapTraceOn({ rx: true, tx: true, drop: true, max: 1000, file });
    assert.deepEqual(dp.pcapTraceStatus(), { on: true, rx: true, tx: true, drop: true, max: 1000, captured: 0, file });
    send();
    assert.equal(dp.pcapTraceStatus().captured, 54, '27 received, 20 sent, 7 dropped');
    assert.deepEqual(dp.pcapTraceOff(), { file, packets: 54 });
    assert.equal(dp.pcapTraceStatus().on, false);
    checkWithTshark(
      file,
      (frames) => {
        assert.equal(frames.filter((f) => f.type === '0x88b5' && f.len === 100).length, 40, 'received and sent');
        assert.equal(frames.filter((f) => f.type === '0x1234' && f.len === 80).length, 14, 'received and dropped');
      },
      54,
    );
  });

  it('takes only the interface and kinds asked, stops at max, and refuses what it cannot do', () => {
    traffic();
    const file = path.join(dir, 'tx.pcap');
    dp.pcapTraceOn({ tx: true, max: 1000, file, interface: 'out0' });
    assert.equal(dp.pcapTraceStatus().interface, 'out0');
    send();
    assert.deepEqual(dp.pcapTraceOff(), { file, packets: 20 });
    checkWithTshark(file, (frames) => assert.ok(frames.every((f) => f.type === '0x88b5')), 20);

    const few = path.join(dir, 'few.pcap');
    dp.pcapTraceOn({ rx: true, drop: true, max: 5, file: few });
    send();
    assert.equal(dp.pcapTraceStatus().captured, 5);
    assert.equal(dp.pcapTraceOff().packets, 5);
    checkWithTshark(few, () => undefined, 5);

    assert.throws(() => dp.pcapTraceOn({ max: 10, file }), /what=0x0: give rx \(1\), tx \(2\), drop \(4\)/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 0, file }), /max 0 packets is outside 1\.\.1000000/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 2_000_000, file }), /outside 1\.\.1000000/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 10, file: '' }), /give a file/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 10, file: 'x'.repeat(300) }), /too long/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 10, file, interface: 'nope' }), /no interface named nope/);
    assert.throws(() => dp.pcapTraceOn({ rx: true, max: 10, file: path.join(dir, 'no', 'such', 'dir.pcap') }), /No such file or directory/);
    assert.throws(
      () => dp.pcapTraceOff(),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'ESTATE' && /no capture is on/.test(e.message),
    );
    dp.pcapTraceOn({ rx: true, max: 10, file });
    assert.throws(
      () => dp.pcapTraceOn({ rx: true, max: 10, file }),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'ESTATE' && /already on/.test(e.message),
    );
  });

  it('captures while the dataplane threads run', async () => {
    dp.close();
    dp = Dataplane.open({ options: 'buffers=4096 threads=2' });
    const out = dp.pcapInterfaceCreate('out0', { tx: '/dev/null' });
    dp.ethernetRedirect(0x88b5, out);
    const w0 = dp.pgStreamAdd('name=w0 worker=0 rate=5k size=70 eth.type=0x88b5');
    const w1 = dp.pgStreamAdd('name=w1 worker=1 rate=5k size=90 eth.type=0x88b5');
    dp.start();
    /* Both sending before the capture starts; 500 frames then take 50 ms. */
    const started = Date.now() + 5000;
    while ((!dp.pgStreamStatus(w0).packetsSent || !dp.pgStreamStatus(w1).packetsSent) && Date.now() < started) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const file = path.join(dir, 'running.pcap');
    dp.pcapTraceOn({ rx: true, tx: true, max: 500, file });
    const end = Date.now() + 5000;
    while (dp.pcapTraceStatus().captured < 500 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(dp.pcapTraceStatus().captured, 500);
    assert.equal(dp.pcapTraceOff().packets, 500);
    dp.stop();
    checkWithTshark(
      file,
      (frames) => {
        assert.ok(frames.some((f) => f.len === 70) && frames.some((f) => f.len === 90), "both threads' frames");
        assert.ok(frames.every((f) => f.len === 70 || f.len === 90));
      },
      500,
    );
  });
});
