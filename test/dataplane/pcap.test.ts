import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { DataplaneError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';

/* pcap files the dataplane writes are read by tshark, an implementation
 * that is not ours; bad files are refused with the reason. */
describe('dataplane pcap interfaces', () => {
  let dp: Dataplane;
  let dir: string;

  beforeEach(() => {
    withoutVariantPin();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-pcap-'));
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => {
    dp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes frames that tshark decodes, field for field', () => {
    const out = path.join(dir, 'out.pcap');
    const tx = dp.pcapInterfaceCreate('out0', { tx: out });
    dp.ethernetRedirect(0x0800, tx);
    dp.pgStreamAdd('name=s size=128 count=300 vlan=7 ip4.src=192.168.7.1 ip4.dst=10.9.0.1-10.9.0.100 udp.dport=4789');
    assert.equal(dp.runUntilIdle(), 300);
    dp.interfaceFlush(tx);
    const r = spawnSync(
      'tshark',
      ['-n', '-r', out, '-T', 'fields', '-e', 'frame.len', '-e', 'vlan.id', '-e', 'ip.dst', '-e', 'ip.checksum.status',
        '-o', 'ip.check_checksum:TRUE'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, 300);
    rows.forEach(([len, vlan, dst, csum], i) => {
      assert.equal(len, '128');
      assert.equal(vlan, '7');
      assert.equal(dst, `10.9.0.${(i % 100) + 1}`);
      /* tshark's checksum status: 0 bad, 1 good, 2 unverified */
      assert.equal(csum, '1', `packet ${i + 1}: tshark finds the IPv4 checksum good`);
    });
  });

  it('refuses a truncated capture naming the record, and a text file as not pcap', () => {
    const good = path.join(dir, 'good.pcap');
    const tx = dp.pcapInterfaceCreate('w', { tx: good });
    dp.ethernetRedirect(0x0800, tx);
    dp.pgStreamAdd('name=s count=3');
    dp.runUntilIdle();
    dp.interfaceFlush(tx);
    const bytes = fs.readFileSync(good);
    const cut = path.join(dir, 'cut.pcap');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    assert.throws(
      () => dp.pcapInterfaceCreate('in', { rx: cut }),
      (e: unknown) => e instanceof DataplaneError && e.errorName === 'EFORMAT' && /record 3 at offset \d+ is truncated/.test(e.message),
    );
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'these are not packets, just words in a file');
    assert.throws(() => dp.pcapInterfaceCreate('in', { rx: text }), /not a pcap file/);
    assert.equal(dp.interfaceFind('in'), undefined, 'a refused file leaves no interface behind');
  });
});
