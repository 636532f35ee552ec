import * as assert from 'node:assert/strict';

import { Console } from '../../src/console/console';
import { Dataplane } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';

const CRYPTO_KEY = 'c0ffee'.repeat(5) + '0102030405'; /* 16 bytes + 4-byte salt */
const INTEG_KEY = 'beef'.repeat(16);

/* show ipsec ...: what an engineer on the serial line sees of the SAs,
 * tunnels and SPDs, and never a key. */
describe('console: show ipsec', () => {
  let dp: Dataplane;
  let con: Console;

  before(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=1024' });
    const wan = dp.loopbackCreate('wan0');
    dp.interfaceAddIp4(wan, '192.0.2.1/24');
    dp.ipsecSaAdd(1, { spi: 0x1001, inbound: false, tunnel: true, crypto: 'aes-128-gcm', cryptoKey: CRYPTO_KEY, integrity: 'none', tunnelSrc: '192.0.2.1', tunnelDst: '198.51.100.7' });
    dp.ipsecSaAdd(2, { spi: 0x1002, inbound: true, tunnel: true, esn: true, antiReplay: true, replayWindow: 2048, crypto: 'aes-128-gcm', cryptoKey: CRYPTO_KEY, integrity: 'none', tunnelSrc: '198.51.100.7', tunnelDst: '192.0.2.1', initialSeq: (3n << 32n) + 9n });
    dp.ipsecSaAdd(3, { spi: 0x3000, inbound: false, tunnel: false, crypto: 'aes-256-cbc', cryptoKey: INTEG_KEY.slice(0, 64), integrity: 'hmac-sha-256-128', integrityKey: INTEG_KEY.slice(0, 64) });
    const t = dp.ipsecTunnelAdd('ipsec0', '192.0.2.1', '198.51.100.7');
    dp.ipsecTunnelProtect(t, 1, [2]);
    dp.ipsecSpdAdd(4);
    dp.ipsecSpdEntryAdd(4, { priority: 10, direction: 'outbound', action: 'protect', saId: 3, remote: { first: '198.51.100.9', last: '198.51.100.9' }, protocol: 17, remotePorts: { first: 5000, last: 5009 } });
    dp.ipsecSpdEntryAdd(4, { priority: 0, direction: 'outbound', action: 'bypass' });
    dp.ipsecSpdBind(wan, 4);
    con = new Console({ dataplane: () => dp, startedAt: Date.now() });
  });
  after(() => dp.close());

  it('lists the SAs as a table and one SA in detail, without keys', async () => {
    const list = await con.run('show ipsec sa');
    assert.ok(list.ok, list.error);
    const rows = list.text.split('\n');
    assert.match(rows[0]!, /^SA\s+SPI\s+Dir\s+Mode\s+Crypto\s+Integrity\s+Tunnel\s+Used-by\s+Seq/);
    assert.match(rows[1]!, /^\s*1\s+0x00001001\s+out\s+tunnel\s+aes-128-gcm\s+none\s+192\.0\.2\.1 > 198\.51\.100\.7\s+ipsec0\s+0\s/);
    assert.match(rows[3]!, /^\s*3\s+0x00003000\s+out\s+transport\s+aes-256-cbc\s+hmac-sha-256-128\s+-\s+1 policy/);

    const one = await con.run('sh ipsec sa 2');
    assert.ok(one.ok, one.error);
    assert.match(one.text, /^\[2\] spi 4098 \(0x00001002\) inbound tunnel/);
    assert.match(one.text, /flags:\s+esn, anti-replay 2048/);
    assert.match(one.text, /highest seq:\s+12884901897 \(high 3, low 9\)/);
    assert.match(one.text, /protects:\s+ipsec0/);

    const json = await con.run('show ipsec all');
    for (const out of [list.text, one.text, json.text, JSON.stringify(json.data)]) {
      assert.ok(!out.includes('c0ffee') && !out.includes('beef'), 'no key material');
    }
  });

  it('shows tunnels, SPD entries in match order, and refuses an unknown SA', async () => {
    const tunnels = await con.run('show ipsec tunnel');
    assert.match(tunnels.text.split('\n')[1]!, /^ipsec0\s+\d+\s+192\.0\.2\.1\s+198\.51\.100\.7\s+0\s+1\s+2\s+0\s+0$/);
    const spd = await con.run('show ipsec spd');
    const lines = spd.text.split('\n');
    assert.equal(lines[0], 'spd 4: 2 entries, bound to wan0');
    assert.match(lines[2]!, /outbound\s+10\s+protect sa 3\s+any\s+198\.51\.100\.9\s+17\s+any\s+5000-5009\s+0$/);
    assert.match(lines[3]!, /outbound\s+0\s+bypass\s+any\s+any\s+any\s+any\s+any\s+0$/);
    const bad = await con.run('show ipsec sa 9');
    assert.deepEqual([bad.ok, bad.error], [false, 'no SA 9']);
  });
});
