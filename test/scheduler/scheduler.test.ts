import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { ConfigError } from '../../src/models/check';
import { formatPlan, Scheduler } from '../../src/scheduler/scheduler';
import { withoutVariantPin } from '../helpers';

/* Routes come first on purpose: the scheduler, not the document, orders.
 * No default route: deleting 0.0.0.0/0 crashes the native FIB (cover_of
 * finds no cover for a /0), reported to the native side. */
function baseDoc(version = 1): { version: number; items: Record<string, unknown> } {
  return {
    version,
    items: {
      'routes/0/172.16.0.0/12': { nextHops: [{ via: '192.0.2.254' }] },
      'routes/0/198.51.100.0/24': { nextHops: [{ via: '192.0.2.254', weight: 3 }, { via: '10.1.0.9', interface: 'lan0' }] },
      'routes/0/203.0.113.0/24': { action: 'prohibit' },
      'neighbors/wan0/192.0.2.254': { mac: '02:00:00:00:00:fe' },
      'bridge-domains/10': { macAge: 60, ports: [{ interface: 'bvi0', bvi: true }, { interface: 'lo2', shg: 2 }] },
      'interfaces/wan0.100': { type: 'sub-interface', parent: 'wan0', vlan: 100, addresses: ['198.18.0.1/24'] },
      'interfaces/wan0': { type: 'loopback', mtu: 9000, mac: '02:00:00:00:00:01', addresses: ['192.0.2.1/24'] },
      'interfaces/lan0': { type: 'loopback', addresses: ['10.1.0.1/24'] },
      'interfaces/bvi0': { type: 'loopback' },
      'interfaces/lo2': { type: 'loopback' },
      'system/settings': { hostname: 'gw1' },
    },
  };
}

/* The dataplane's own tables: what a test compares before and after. */
function tables(dp: Dataplane): string {
  return [dp.ip4Fib(), dp.ip4Neighbors(), dp.bridgeDomains(), dp.l2fib()].join('\n--\n');
}

describe('KV scheduler against the real dataplane', () => {
  let dp: Dataplane;
  let sched: Scheduler;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=2048' });
    sched = new Scheduler(dp);
  });
  afterEach(() => {
    sched?.close();
    dp?.close();
  });

  it('applies a document in dependency order: every item CONFIGURED and in the tables', () => {
    const txn = sched.apply(baseDoc());
    const state = sched.state();
    assert.equal(state.version, 1);
    const notConfigured = Object.entries(state.items).filter(([, s]) => s.state !== 'CONFIGURED');
    assert.deepEqual(notConfigured, []);
    assert.ok(state.items['interfaces/wan0/address/192.0.2.1/24'], 'addresses are items of their own');
    assert.ok(state.items['bridge-domains/10/port/bvi0']);
    assert.ok(txn.items.every((i) => i.operation === 'create' && i.result === 'CONFIGURED'));
    const order = txn.items.map((i) => i.key);
    assert.ok(order.indexOf('interfaces/wan0') < order.indexOf('interfaces/wan0.100'));
    assert.ok(order.indexOf('interfaces/wan0/address/192.0.2.1/24') < order.indexOf('routes/0/172.16.0.0/12'));

    const fib = dp.ip4Fib();
    assert.match(fib, /^172\.16\.0\.0\/12 static neighbor via 192\.0\.2\.254 wan0$/m);
    assert.match(fib, /^198\.51\.100\.0\/24 static neighbor via 192\.0\.2\.254 wan0 neighbor via 10\.1\.0\.9 lan0/m);
    assert.match(fib, /^203\.0\.113\.0\/24 static prohibit$/m);
    assert.match(fib, /^198\.18\.0\.0\/24 connected glean wan0\.100$/m);
    assert.match(dp.ip4Neighbors(), /^192\.0\.2\.254 02:00:00:00:00:fe wan0 static/m);
    assert.equal(dp.interfaceMac(dp.interfaceFind('wan0')!), '02:00:00:00:00:01');
    assert.ok(dp.interfaceFind('wan0.100') !== undefined);
    assert.match(dp.bridgeDomains(10), /bd 10 port lo2 shg 2\n/);
    assert.match(dp.l2fib(10), /port bvi0 static/);
  });

  it('leaves a route over a missing interface PENDING, then configures it when the interface comes', () => {
    const doc = { version: 1, items: { 'routes/0/10.9.0.0/16': { nextHops: [{ via: '10.1.0.9', interface: 'x' }] } } };
    sched.apply(doc);
    assert.deepEqual(sched.state().items['routes/0/10.9.0.0/16'], { state: 'PENDING', reason: 'missing interfaces/x' });
    assert.doesNotMatch(dp.ip4Fib(), /10\.9\.0\.0/);

    const txn = sched.apply({ version: 2, items: { ...doc.items, 'interfaces/x': { type: 'loopback', addresses: ['10.1.0.1/24'] } } });
    assert.equal(sched.state().items['routes/0/10.9.0.0/16']!.state, 'CONFIGURED');
    assert.deepEqual(txn.items.map((i) => i.key).sort(), ['interfaces/x', 'interfaces/x/address/10.1.0.1/24', 'routes/0/10.9.0.0/16']);
    assert.equal(txn.items[0]!.key, 'interfaces/x');
    assert.match(dp.ip4Fib(), /^10\.9\.0\.0\/16 static neighbor via 10\.1\.0\.9 x /m);
  });

  it('a bare next hop waits for an address on its network', () => {
    sched.apply({ version: 1, items: { 'routes/0/10.9.0.0/16': { nextHops: [{ via: '192.0.2.9' }] }, 'interfaces/a': { type: 'loopback' } } });
    assert.match(sched.state().items['routes/0/10.9.0.0/16']!.reason!, /missing an address in VRF 0 on the network of 192\.0\.2\.9/);
    sched.apply({ version: 2, items: { 'routes/0/10.9.0.0/16': { nextHops: [{ via: '192.0.2.9' }] }, 'interfaces/a': { type: 'loopback', addresses: ['192.0.2.1/24'] } } });
    assert.equal(sched.state().items['routes/0/10.9.0.0/16']!.state, 'CONFIGURED');
    /* The address goes again: the route comes out first and waits. */
    const txn = sched.apply({ version: 3, items: { 'routes/0/10.9.0.0/16': { nextHops: [{ via: '192.0.2.9' }] }, 'interfaces/a': { type: 'loopback' } } });
    assert.deepEqual(txn.items.map((i) => `${i.operation} ${i.key} ${i.result}`), [
      'delete routes/0/10.9.0.0/16 PENDING',
      'delete interfaces/a/address/192.0.2.1/24 REMOVED',
    ]);
    assert.doesNotMatch(dp.ip4Fib(), /10\.9\.0\.0|192\.0\.2/);
  });

  it('removing items removes them from the dataplane, dependents first', () => {
    sched.apply(baseDoc());
    const txn = sched.apply({ version: 2, items: { 'system/settings': { hostname: 'gw1' } } });
    assert.ok(txn.items.every((i) => i.operation === 'delete' && i.result === 'REMOVED'));
    const order = txn.items.map((i) => i.key);
    assert.ok(order.indexOf('routes/0/172.16.0.0/12') < order.indexOf('interfaces/wan0/address/192.0.2.1/24'));
    assert.ok(order.indexOf('interfaces/wan0.100') < order.indexOf('interfaces/wan0'));
    assert.ok(order.indexOf('bridge-domains/10/port/lo2') < order.indexOf('bridge-domains/10'));
    assert.doesNotMatch(dp.ip4Fib(), /static/);
    assert.equal(dp.interfaceFind('wan0'), undefined);
    assert.equal(dp.bridgeDomains(), '');
    assert.equal(sched.state().items['interfaces/wan0']!.state, 'REMOVED');
    assert.deepEqual(Object.keys(sched.state().items).filter((k) => sched.state().items[k]!.state !== 'REMOVED'), ['system/settings']);
  });

  it('refuses a bad document whole, naming each path, and touches nothing', () => {
    sched.apply(baseDoc());
    const before = tables(dp);
    const state = JSON.stringify(sched.state());
    const bad = baseDoc(2);
    bad.items['routes/0/10.1.0.0/16'] = { nextHops: [{ via: '10.1.0.300' }] };
    bad.items['vxlan/tun0'] = {};
    bad.items['interfaces/lan0'] = { type: 'loopback', mtu: 20 };
    bad.items['neighbors/wan0/192.0.2.254'] = { mac: '02:00:00:00:00:fe', colour: 'red' };
    assert.throws(
      () => sched.apply(bad),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const paths = Object.fromEntries(e.problems.map((p) => [p.path, p.reason]));
        assert.equal(paths['items["routes/0/10.1.0.0/16"].nextHops[0].via'], 'not an IPv4 address');
        assert.match(paths['items["vxlan/tun0"]']!, /unknown kind vxlan/);
        assert.equal(paths['items["interfaces/lan0"].mtu'], 'must be an integer in 68..9000');
        assert.match(paths['items["neighbors/wan0/192.0.2.254"].colour']!, /unknown field/);
        return true;
      },
    );
    assert.equal(tables(dp), before);
    assert.equal(JSON.stringify(sched.state()), state);
    assert.equal(sched.history().length, 1);
  });

  it('changes in place are updates: MTU, admin state, route next hops', () => {
    sched.apply(baseDoc());
    const doc = baseDoc(2);
    doc.items['interfaces/wan0'] = { type: 'loopback', mtu: 1400, mac: '02:00:00:00:00:01', addresses: ['192.0.2.1/24'] };
    doc.items['routes/0/172.16.0.0/12'] = { nextHops: [{ via: '10.1.0.254' }] };
    const txn = sched.apply(doc);
    assert.deepEqual(txn.items.map((i) => `${i.operation} ${i.key} ${i.result}`).sort(), [
      'update interfaces/wan0 CONFIGURED',
      'update routes/0/172.16.0.0/12 CONFIGURED',
    ]);
    assert.match(dp.ip4Fib(), /^172\.16\.0\.0\/12 static neighbor via 10\.1\.0\.254 lan0 /m);
    assert.ok(dp.interfaceFind('wan0.100') !== undefined, 'the sub-interface stayed');
  });

  it('a change update cannot make re-creates the item and what sits on it', () => {
    sched.apply(baseDoc());
    const doc = baseDoc(2);
    doc.items['bridge-domains/10'] = { macAge: 120, ports: [{ interface: 'bvi0', bvi: true }, { interface: 'lo2', shg: 2 }] };
    const txn = sched.apply(doc);
    const ops = txn.items.map((i) => `${i.operation} ${i.key}`);
    assert.deepEqual(ops.slice(0, 3).sort(), ['delete bridge-domains/10', 'delete bridge-domains/10/port/bvi0', 'delete bridge-domains/10/port/lo2']);
    assert.equal(ops[2], 'delete bridge-domains/10', 'the ports come out first');
    assert.equal(ops[3], 'create bridge-domains/10', 'and go back in after');
    assert.deepEqual(ops.slice(4).sort(), ['create bridge-domains/10/port/bvi0', 'create bridge-domains/10/port/lo2']);
    assert.match(dp.bridgeDomains(10), /mac-age 120|age 120/);
    assert.match(dp.bridgeDomains(10), /port lo2 shg 2/);
  });

  it('dry-run shows the plan and changes nothing', () => {
    sched.apply(baseDoc());
    const before = tables(dp);
    const doc = baseDoc(2);
    delete doc.items['routes/0/203.0.113.0/24'];
    doc.items['routes/0/10.9.0.0/16'] = { nextHops: [{ interface: 'nope' }] };
    doc.items['interfaces/lan0'] = { type: 'loopback', mtu: 1400, addresses: ['10.1.0.1/24'] };
    const p = sched.dryRun(doc);
    assert.deepEqual(p.operations, [
      { key: 'routes/0/203.0.113.0/24', operation: 'delete' },
      { key: 'interfaces/lan0', operation: 'update' },
    ]);
    assert.deepEqual(p.pending, [{ key: 'routes/0/10.9.0.0/16', reason: 'missing interfaces/nope' }]);
    assert.match(formatPlan(p), /delete +routes\/0\/203\.0\.113\.0\/24\n.*update +interfaces\/lan0\n.*pending routes\/0\/10\.9\.0\.0\/16: missing interfaces\/nope/);
    assert.equal(tables(dp), before);
    assert.equal(sched.state().version, 1);
    assert.equal(sched.history().length, 1);
  });

  it('keeps a history: sequence, trigger, version and each operation', () => {
    sched.apply(baseDoc(), 'test');
    sched.apply({ version: 7, items: {} }, 'mqtt');
    const h = sched.history();
    assert.deepEqual(h.map((t) => [t.seq, t.trigger, t.version]), [[1, 'test', 1], [2, 'mqtt', 7]]);
    assert.equal(h[0]!.items.length, Object.keys(sched.state().items).length);
    assert.ok(h[1]!.items.every((i) => i.operation === 'delete' && i.result === 'REMOVED'));
  });

  it('a dataplane refusal is FAILED with its message; the rest goes on', () => {
    const doc = baseDoc();
    doc.items['routes/0/192.0.2.0/24'] = { action: 'drop' }; /* the connected route of wan0's address */
    sched.apply(doc);
    const s = sched.state().items['routes/0/192.0.2.0/24']!;
    assert.equal(s.state, 'FAILED');
    assert.match(s.error!, /belongs to an interface address/);
    assert.equal(s.retry, undefined, 'not retried: the dataplane said no, not "try later"');
    assert.equal(sched.state().items['routes/0/172.16.0.0/12']!.state, 'CONFIGURED');
  });

  it('resync re-creates everything on a fresh dataplane', () => {
    sched.apply(baseDoc());
    const before = tables(dp);
    dp.close();
    dp = Dataplane.open({ options: 'buffers=2048' });
    const txn = sched.resync(dp);
    assert.equal(txn.trigger, 'resync');
    assert.ok(txn.items.every((i) => i.result === 'CONFIGURED'));
    assert.equal(tables(dp), before);
    assert.equal(dp.interfaceMac(dp.interfaceFind('wan0')!), '02:00:00:00:00:01');
  });
});
