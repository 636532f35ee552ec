import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { ConfigError } from '../../src/models/check';
import { Scheduler } from '../../src/scheduler/scheduler';
import { dropStream, withoutVariantPin } from '../helpers';

/* Resync as a diff: the scheduler reads the dataplane back and moves it to
 * the desired document, whatever it held before, and leaves alone what is
 * not the agent's (the board's port, derived routes, learned entries). */

/* Every kind, with the cases a read-back could get wrong: weights the
 * load-balance buckets cannot keep, a bare next hop, a second VRF, a drop
 * route, a sub-interface, an interface down, defaults written out. */
function fullDoc(version = 1): { version: number; items: Record<string, unknown> } {
  return {
    version,
    items: {
      'interfaces/wan0': { type: 'loopback', mtu: 9000, mac: '02:00:00:00:00:01', addresses: ['192.0.2.1/24'] },
      'interfaces/wan0.100': { type: 'sub-interface', parent: 'wan0', vlan: 100, addresses: ['198.18.0.1/24'] },
      'interfaces/lan0': { type: 'loopback', addresses: ['10.1.0.1/24', '10.2.0.1/24'] },
      'interfaces/mgmt0': { type: 'loopback', vrf: 5, addresses: ['10.5.0.1/24'] },
      'interfaces/bvi0': { type: 'loopback' },
      'interfaces/lo2': { type: 'loopback' },
      'interfaces/lo3': { type: 'loopback', adminUp: false, mtu: 1500 },
      'bridge-domains/10': { macAge: 60, ports: [{ interface: 'bvi0', bvi: true }, { interface: 'lo2', shg: 2 }] },
      'bridge-domains/20': { learn: false, macAge: 300, macLimit: 65536, ports: [{ interface: 'lo3' }] },
      'routes/0/172.16.0.0/12': { nextHops: [{ via: '192.0.2.254' }] },
      'routes/0/198.51.100.0/24': { nextHops: [{ via: '192.0.2.254', weight: 2 }, { via: '10.1.0.9', interface: 'lan0' }] },
      'routes/0/203.0.113.0/24': { action: 'prohibit' },
      'routes/5/10.55.0.0/16': { nextHops: [{ via: '10.5.0.254', interface: 'mgmt0' }] },
      'routes/5/10.66.0.0/16': { action: 'drop' },
      'neighbors/wan0/192.0.2.254': { mac: '02:00:00:00:00:fe' },
      'system/settings': { hostname: 'gw1' },
    },
  };
}

/* The board's port, as src/board/apply.ts makes the sim board's. */
function boardPort(dp: Dataplane): number {
  dp.pgStreamAdd(`${dropStream('board', 1)} if=pg0`);
  const pg0 = dp.interfaceFind('pg0')!;
  dp.interfaceSetAdmin(pg0, true);
  return pg0;
}

/* Everything the dataplane reports, by names rather than indices (a new
 * dataplane numbers its interfaces afresh), through the Dataplane API. */
function snapshot(dp: Dataplane) {
  const itfs = dp.interfaces();
  const name = (sw?: number) => (sw === undefined ? '-' : (itfs.find((i) => i.swIfIndex === sw)?.name ?? `#${sw}`));
  return {
    interfaces: itfs
      .map((i) => ({
        name: i.name,
        type: i.type,
        hostIf: i.hostIf,
        parent: i.parent === undefined ? undefined : name(i.parent),
        vlan: i.vlan,
        mac: i.macSet ? i.mac : 'default',
        mtu: i.mtu,
        adminUp: i.adminUp,
        vrf: i.vrf,
        port: i.bridgeDomain === undefined ? undefined : `${i.bridgeDomain} shg ${i.shg}${i.isBvi ? ' bvi' : ''}`,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    addresses: dp.ip4Addresses().map((a) => `${name(a.swIfIndex)} ${a.address}`).sort(),
    routes: dp
      .ip4Vrfs()
      .flatMap((vrf) => dp.ip4Routes(vrf).map((r) => `${vrf} ${r.prefix} ${r.source} ${r.action ?? r.nextHops.map((h) => `${h.via ?? '-'}@${name(h.swIfIndex)}*${h.weight}`).join(',')}`))
      .sort(),
    neighbors: dp.ip4NeighborTable().map((n) => `${name(n.swIfIndex)} ${n.address} ${n.mac} ${n.isStatic ? 'static' : 'learned'}`).sort(),
    bridgeDomains: dp.bridgeDomainTable().map((b) => ({ ...b, ports: b.ports.map((p) => `${name(p.swIfIndex)} shg ${p.shg}${p.bvi ? ' bvi' : ''}`).sort() })),
  };
}

const ops = (t: { items: { operation: string; key: string; result: string }[] }) => t.items.map((i) => `${i.operation} ${i.key} ${i.result}`);

describe('KV scheduler resync: desired against what the dataplane reports', () => {
  let dp: Dataplane;
  let sched: Scheduler;
  const open = () => Dataplane.open({ options: 'buffers=2048' });

  beforeEach(() => {
    withoutVariantPin();
    dp = open();
    boardPort(dp);
    sched = new Scheduler(dp, { unmanagedInterfaces: ['pg0'] });
  });
  afterEach(() => {
    sched?.close();
    dp?.close();
  });

  it('after a dataplane restart, brings every item back (read back through the Dataplane API)', () => {
    sched.apply(fullDoc());
    assert.ok(Object.values(sched.state().items).every((s) => s.state === 'CONFIGURED'));
    const before = snapshot(dp);
    assert.ok(before.routes.includes('0 198.51.100.0/24 configured 192.0.2.254@-*2,10.1.0.9@lan0*1'), before.routes.join('\n'));
    assert.ok(before.bridgeDomains.some((b) => b.bdId === 20 && !b.learn && b.ports[0] === 'lo3 shg 0'));

    dp.close();
    dp = open();
    boardPort(dp); /* the agent brings the board's ports up first, then resyncs */
    const txn = sched.resync(dp, 'dataplane-restart');
    assert.equal(txn.trigger, 'dataplane-restart');
    /* Everything in the dataplane was created; system/settings is not in it, so untouched. */
    assert.ok(txn.items.length > 20);
    assert.deepEqual(txn.items.filter((i) => i.operation !== 'create' || i.result !== 'CONFIGURED'), []);
    assert.ok(!txn.items.some((i) => i.key === 'system/settings'));
    assert.deepEqual(snapshot(dp), before);
    assert.ok(Object.values(sched.state().items).every((s) => s.state === 'CONFIGURED'));
  });

  it('against a dataplane that is already right, makes no operation', () => {
    sched.apply(fullDoc());
    const before = snapshot(dp);
    const txn = sched.resync(dp);
    assert.deepEqual(ops(txn), []);
    assert.deepEqual(snapshot(dp), before);

    /* An agent starting over a dataplane its last run configured: only the
     * kind that is not in the dataplane is applied. */
    const fresh = new Scheduler(dp, { unmanagedInterfaces: ['pg0'] });
    const boot = fresh.resync(dp, 'boot', fullDoc());
    fresh.close();
    assert.deepEqual(ops(boot), ['create system/settings CONFIGURED']);
    assert.equal(fresh.state().version, 1);
    assert.ok(Object.values(fresh.state().items).every((s) => s.state === 'CONFIGURED'));
    assert.deepEqual(snapshot(dp), before);
  });

  it('deletes what is not desired, fixes what differs, and leaves alone what is not the agent\'s', () => {
    sched.apply(fullDoc());
    const pg0 = dp.interfaceFind('pg0')!;
    const id = (name: string) => dp.interfaceFind(name)!;
    /* The board's port holds an address (so connected and local routes) and a static neighbor. */
    dp.interfaceAddIp4(pg0, '10.200.0.1/24');
    dp.ip4NeighborAdd(pg0, '10.200.0.9', '02:00:00:00:c8:09');
    /* A port of a kind the agent does make, named unmanaged: a board's own. */
    const board1 = dp.loopbackCreate('board1');
    dp.interfaceAddIp4(board1, '10.201.0.1/24');
    /* Learned entries: an ARP neighbor and a dynamic MAC on a port that stays. */
    dp.ip4NeighborAdd(id('wan0'), '192.0.2.88', '02:00:00:00:00:88', false);
    dp.l2fibAdd(10, '02:00:00:00:aa:01', id('bvi0'), false);
    /* Extras: an interface with an address, a route over it, a neighbor on
     * it, a domain it is a port of; a route and a neighbor on a wanted interface. */
    const stale = dp.loopbackCreate('stale0');
    dp.interfaceAddIp4(stale, '10.77.0.1/24');
    dp.ip4RouteAdd('10.78.0.0/16', [{ via: '10.77.0.9' }]);
    dp.ip4NeighborAdd(stale, '10.77.0.20', '02:00:00:00:4d:14');
    dp.bridgeDomainAdd(99);
    dp.bridgePortSet(stale, 99);
    dp.ip4RouteAdd('10.99.0.0/16', [{ via: '192.0.2.254' }]);
    dp.ip4NeighborAdd(id('wan0'), '192.0.2.77', '02:00:00:00:00:77');
    /* Changed: an MTU (an update), a route's next hop (an update), a
     * neighbor's MAC and a port's VRF (neither can change in place). */
    dp.interfaceSetMtu(id('lan0'), 1400);
    dp.ip4RouteAdd('172.16.0.0/12', [{ via: '10.1.0.254' }]);
    dp.ip4NeighborAdd(id('wan0'), '192.0.2.254', '02:00:00:00:00:ff');
    dp.bridgePortSet(id('lo2'), null);
    dp.interfaceSetVrf(id('lo2'), 7);
    dp.bridgePortSet(id('lo2'), 10, { shg: 2 });

    /* The agent starts again over this dataplane with its saved document. */
    const restarted = new Scheduler(dp, { unmanagedInterfaces: ['pg0', 'board1'] });
    const txn = restarted.resync(dp, 'boot', fullDoc());
    restarted.close();
    const done = ops(txn);
    assert.deepEqual([...done].sort(), [
      'create bridge-domains/10/port/lo2 CONFIGURED',
      'create interfaces/lo2 CONFIGURED',
      'create neighbors/wan0/192.0.2.254 CONFIGURED',
      'create system/settings CONFIGURED',
      'delete bridge-domains/10/port/lo2 REMOVED',
      'delete bridge-domains/99 REMOVED',
      'delete bridge-domains/99/port/stale0 REMOVED',
      'delete interfaces/lo2 REMOVED',
      'delete interfaces/stale0 REMOVED',
      'delete interfaces/stale0/address/10.77.0.1/24 REMOVED',
      'delete neighbors/stale0/10.77.0.20 REMOVED',
      'delete neighbors/wan0/192.0.2.254 REMOVED',
      'delete neighbors/wan0/192.0.2.77 REMOVED',
      'delete routes/0/10.78.0.0/16 REMOVED',
      'delete routes/0/10.99.0.0/16 REMOVED',
      'update interfaces/lan0 CONFIGURED',
      'update routes/0/172.16.0.0/12 CONFIGURED',
    ]);
    /* What sits on something comes out before it, and goes in after it. */
    const at = (op: string) => done.findIndex((d) => d.startsWith(op));
    assert.ok(at('delete routes/0/10.78.0.0/16') < at('delete interfaces/stale0/address/'));
    assert.ok(at('delete neighbors/stale0/') < at('delete interfaces/stale0 '));
    assert.ok(at('delete interfaces/stale0/address/') < at('delete interfaces/stale0 '));
    assert.ok(at('delete bridge-domains/99/port/stale0') < at('delete bridge-domains/99 '));
    assert.ok(at('delete bridge-domains/99/port/stale0') < at('delete interfaces/stale0 '));
    assert.ok(at('delete bridge-domains/10/port/lo2') < at('delete interfaces/lo2'));
    assert.ok(at('create interfaces/lo2') < at('create bridge-domains/10/port/lo2'));
    /* The history keeps the transaction as it ran. */
    assert.deepEqual(restarted.history().at(-1), txn);
    assert.equal(txn.trigger, 'boot');

    /* Now as a clean apply of the document leaves a fresh dataplane, plus what was not ours. */
    const after = snapshot(dp);
    const clean = open();
    boardPort(clean);
    const cleanSched = new Scheduler(clean, { unmanagedInterfaces: ['pg0'] });
    cleanSched.apply(fullDoc());
    const expected = snapshot(clean);
    cleanSched.close();
    clean.close();
    const notOurs = {
      addresses: ['board1 10.201.0.1/24', 'pg0 10.200.0.1/24'],
      routes: [
        '0 10.200.0.0/24 connected -@pg0*1',
        '0 10.200.0.1/32 local ',
        '0 10.201.0.0/24 connected -@board1*1',
        '0 10.201.0.1/32 local ',
        '0 10.200.0.9/32 neighbor 10.200.0.9@pg0*1',
        '0 192.0.2.88/32 neighbor 192.0.2.88@wan0*1',
        '7 0.0.0.0/0 default ', /* a VRF, once made, stays (empty) */
      ],
      neighbors: ['pg0 10.200.0.9 02:00:00:00:c8:09 static', 'wan0 192.0.2.88 02:00:00:00:00:88 learned'],
    };
    assert.deepEqual(after.interfaces.filter((i) => i.name !== 'board1'), expected.interfaces);
    assert.ok(after.interfaces.some((i) => i.name === 'board1'));
    assert.deepEqual(after.addresses, [...expected.addresses, ...notOurs.addresses].sort());
    assert.deepEqual(after.routes, [...expected.routes, ...notOurs.routes].sort());
    assert.deepEqual(after.neighbors, [...expected.neighbors, ...notOurs.neighbors].sort());
    assert.deepEqual(
      after.bridgeDomains.map(({ learned: _l, ...b }) => b),
      expected.bridgeDomains.map(({ learned: _l, ...b }) => b),
    );
    assert.match(dp.l2fib(10), /02:00:00:00:aa:01 port bvi0 dynamic/);
  });

  it('a document that does not validate is refused whole, the dataplane untouched', () => {
    sched.apply(fullDoc());
    const before = snapshot(dp);
    const bad = fullDoc(2);
    bad.items['interfaces/lan0'] = { type: 'loopback', mtu: 20 };
    assert.throws(() => sched.resync(dp, 'boot', bad), ConfigError);
    assert.deepEqual(snapshot(dp), before);
    assert.equal(sched.state().version, 1);
    assert.equal(sched.history().length, 1);
  });
});
