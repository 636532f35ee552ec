import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { Scheduler } from '../../src/scheduler/scheduler';
import { withoutVariantPin } from '../helpers';

const KEY = (n: number, bytes: number) => n.toString(16).padStart(2, '0').repeat(bytes);

/* IPsec items through the scheduler: ordered after what they need, read
 * back equal (a resync has nothing to do), rekeyed in place, re-made when
 * an SA changes, and removed dependents first. */
describe('ipsec items', () => {
  const sa = (spi: number, direction: 'inbound' | 'outbound', k: number) => ({
    spi,
    direction,
    crypto: 'aes-256-cbc',
    cryptoKey: KEY(k, 32),
    integrity: 'hmac-sha-256-128',
    integrityKey: KEY(k + 1, 32),
    tunnel: direction === 'outbound' ? { source: '192.0.2.1', destination: '198.51.100.7' } : { source: '198.51.100.7', destination: '192.0.2.1' },
    ...(direction === 'inbound' ? { esn: true, replayWindow: 2048 } : {}),
  });
  const base = (): Record<string, unknown> => ({
    'interfaces/wan0': { type: 'loopback', addresses: ['192.0.2.1/24'] },
    'interfaces/ipsec0': { type: 'ipsec', ipsec: { source: '192.0.2.1', destination: '198.51.100.7' }, addresses: ['169.254.10.1/30'] },
    'ipsec-sas/1': sa(0x1001, 'outbound', 1),
    'ipsec-sas/2': sa(0x1002, 'inbound', 3),
    'ipsec-protections/ipsec0': { outboundSa: 1, inboundSas: [2] },
    'routes/0/10.20.0.0/16': { nextHops: [{ interface: 'ipsec0' }] },
    'ipsec-sas/10': { spi: 0x3000, direction: 'outbound', mode: 'transport', crypto: 'aes-128-gcm', cryptoKey: KEY(9, 20) },
    'ipsec-spds/7': {
      interfaces: ['wan0'],
      policies: [
        { priority: 10, direction: 'outbound', action: 'protect', sa: 10, remote: '198.51.100.9', protocol: 'udp', remotePorts: '5000-5009' },
        { direction: 'outbound', action: 'bypass' },
        { priority: 5, direction: 'inbound', action: 'discard', remote: '203.0.113.0/24' },
      ],
    },
  });

  let dp: Dataplane;
  let sched: Scheduler;
  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=1024' });
    sched = new Scheduler(dp);
  });
  afterEach(() => {
    sched.close();
    dp.close();
  });

  it('applies SAs, a protected tunnel and an SPD in dependency order and reads them back equal', () => {
    /* The protection first alone: it waits for its interface and SAs. */
    sched.apply({ version: 1, items: { 'ipsec-protections/ipsec0': { outboundSa: 1, inboundSas: [2] } } });
    assert.match(sched.state().items['ipsec-protections/ipsec0']!.reason ?? '', /missing interfaces\/ipsec0/);

    const txn = sched.apply({ version: 2, items: base() });
    assert.ok(txn.items.every((i) => i.result === 'CONFIGURED'), JSON.stringify(txn.items.filter((i) => i.result !== 'CONFIGURED')));
    const sas = new Map(dp.ipsecSas().map((s) => [s.saId, s]));
    assert.deepEqual([...sas.keys()].sort((a, b) => a - b), [1, 2, 10]);
    assert.deepEqual([sas.get(2)!.spi, sas.get(2)!.inbound, sas.get(2)!.esn, sas.get(2)!.replayWindow, sas.get(2)!.tunnelSrc], [0x1002, true, true, 2048, '198.51.100.7']);
    const [t] = dp.ipsecTunnels();
    assert.deepEqual([t!.name, t!.src, t!.dst, t!.saOut, t!.saIn], ['ipsec0', '192.0.2.1', '198.51.100.7', 1, [2]]);
    const entries = dp.ipsecSpdEntries(7);
    assert.deepEqual(entries.map((e) => [e.direction, e.priority, e.action]), [['outbound', 10, 'protect'], ['outbound', 0, 'bypass'], ['inbound', 5, 'discard']]);
    assert.deepEqual(dp.ipsecSpdBindings().map((b) => b.spdId), [7]);

    /* Everything read back as the document says: a resync changes nothing. */
    assert.deepEqual(sched.resync(dp).items, []);
  });

  it('rekeys in place, re-makes what uses a changed SA, and removes dependents first', () => {
    sched.apply({ version: 1, items: base() });
    const sw = dp.interfaceFind('ipsec0');

    /* Rekey: new SAs beside the old, the protection moved to them in one step. */
    const v2 = { ...base(), 'ipsec-sas/3': sa(0x2001, 'outbound', 5), 'ipsec-sas/4': sa(0x2002, 'inbound', 7), 'ipsec-protections/ipsec0': { outboundSa: 3, inboundSas: [4, 2] } };
    let txn = sched.apply({ version: 2, items: v2 });
    assert.deepEqual(txn.items.map((i) => [i.key, i.operation]).sort(), [['ipsec-protections/ipsec0', 'update'], ['ipsec-sas/3', 'create'], ['ipsec-sas/4', 'create']]);
    assert.equal(dp.interfaceFind('ipsec0'), sw, 'the tunnel interface stays');
    assert.deepEqual([dp.ipsecTunnels()[0]!.saOut, dp.ipsecTunnels()[0]!.saIn], [3, [4, 2]]);

    /* A changed key is a new SA: the protection using it is re-made on it. */
    const v3 = { ...v2, 'ipsec-sas/3': sa(0x2001, 'outbound', 11) };
    txn = sched.apply({ version: 3, items: v3 });
    assert.deepEqual(txn.items.map((i) => `${i.key} ${i.operation}`).sort(), ['ipsec-protections/ipsec0 create', 'ipsec-protections/ipsec0 delete', 'ipsec-sas/3 create', 'ipsec-sas/3 delete']);
    assert.ok(txn.items.every((i) => i.result === 'CONFIGURED' || i.result === 'REMOVED'), JSON.stringify(txn.items));
    assert.equal(dp.ipsecSas().find((s) => s.saId === 3)!.cryptoKey, KEY(11, 32));
    assert.deepEqual(sched.resync(dp).items, []);

    /* Only the loopback left: tunnel, protection, SPD and SAs all gone. */
    txn = sched.apply({ version: 4, items: { 'interfaces/wan0': base()['interfaces/wan0'] } });
    assert.ok(txn.items.every((i) => i.result === 'REMOVED'), JSON.stringify(txn.items));
    assert.deepEqual([dp.ipsecSas(), dp.ipsecTunnels(), dp.ipsecSpds(), dp.ipsecSpdBindings()], [[], [], [], []]);
  });

  it('reports a refused SA as FAILED with the dataplane\'s reason and leaves the rest applied', () => {
    /* Two inbound SAs with one SPI and destination: the dataplane refuses the second. */
    const items = { ...base(), 'ipsec-sas/5': sa(0x1002, 'inbound', 13) };
    sched.apply({ version: 1, items });
    const states = sched.state().items;
    const failed = ['ipsec-sas/2', 'ipsec-sas/5'].filter((k) => states[k]!.state === 'FAILED');
    assert.equal(failed.length, 1, JSON.stringify(states));
    assert.match(states[failed[0]!]!.error ?? '', /SPI|spi|exists/);
    assert.equal(states['ipsec-sas/1']!.state, 'CONFIGURED');
  });
});
