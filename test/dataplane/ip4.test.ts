import * as assert from 'node:assert/strict';

import { Dataplane, parsePrefix, RouteSpec } from '../../src/dataplane/dataplane';
import { DataplaneError, VecgateError } from '../../src/errors';
import { withoutVariantPin } from '../helpers';

/* The IPv4 calls of the binding against the real library: tables as the
 * dataplane reports them, refusals as typed errors naming what is wrong. */
describe('dataplane IPv4 through the binding', () => {
  let dp: Dataplane;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=2048' });
  });
  afterEach(() => dp?.close());

  function port(name: string): number {
    return dp.pcapInterfaceCreate(name, { tx: '/dev/null' });
  }

  it('addresses, routes, ECMP, neighbors and VRFs show in the tables', () => {
    const a = port('wan0');
    const b = port('lan0');
    dp.interfaceAddIp4(a, '192.0.2.1/24');
    dp.interfaceAddIp4(b, '10.1.0.1/24');
    dp.ip4NeighborAdd(a, '192.0.2.254', '02:00:00:00:00:fe');
    dp.ip4RouteAdd('0.0.0.0/0', [{ via: '192.0.2.254' }]);
    dp.ip4RouteAdd('198.51.100.0/24', [{ via: '192.0.2.254', weight: 3 }, { via: '10.1.0.9', swIfIndex: b }]);
    dp.ip4RouteAdd('203.0.113.0/24', [], { action: 'prohibit' });
    const fib = dp.ip4Fib();
    assert.match(fib, /^192\.0\.2\.0\/24 connected glean wan0$/m);
    assert.match(fib, /^192\.0\.2\.1\/32 local local$/m);
    assert.match(fib, /^0\.0\.0\.0\/0 static neighbor via 192\.0\.2\.254 wan0$/m);
    assert.match(fib, /^198\.51\.100\.0\/24 static neighbor via 192\.0\.2\.254 wan0 neighbor via 10\.1\.0\.9 lan0 \(unresolved\)$/m);
    assert.match(fib, /^203\.0\.113\.0\/24 static prohibit$/m);
    assert.match(dp.ip4Neighbors(), /^192\.0\.2\.254 02:00:00:00:00:fe wan0 static age \d+s$/m);
    dp.ip4RouteDelete('203.0.113.0/24');
    assert.doesNotMatch(dp.ip4Fib(), /203\.0\.113/);
    const v = port('mgmt0');
    dp.interfaceSetVrf(v, 5);
    dp.interfaceAddIp4(v, '10.1.0.1/24'); /* the same network, another VRF */
    assert.match(dp.ip4Fib(5), /^10\.1\.0\.0\/24 connected glean mgmt0$/m);
    assert.doesNotMatch(dp.ip4Fib(5), /198\.51\.100/);
  });

  it('reads the tables back as structured data', () => {
    const a = port('wan0');
    const sub = dp.subInterfaceCreate(a, 7);
    dp.interfaceSetVrf(sub, 3);
    dp.interfaceAddIp4(a, '192.0.2.1/24');
    dp.interfaceAddIp4(sub, '10.7.0.1/24');
    dp.ip4NeighborAdd(a, '192.0.2.254', '02:00:00:00:00:fe');
    dp.ip4RouteAdd('198.51.100.0/24', [{ via: '192.0.2.254', weight: 2 }, { via: '192.0.2.253', swIfIndex: a, weight: 1 }]);
    dp.interfaceSetMac(sub, '02:00:00:00:07:07');
    const itfs = dp.interfaces();
    assert.deepEqual(
      itfs.map(({ name, type, parent, vlan, vrf }) => ({ name, type, parent, vlan, vrf })),
      [
        { name: 'wan0', type: 'pcap', parent: undefined, vlan: 0, vrf: 0 },
        { name: 'wan0.7', type: 'sub', parent: a, vlan: 7, vrf: 3 },
      ],
    );
    assert.equal(itfs[0]!.mac, dp.interfaceMac(a));
    assert.deepEqual(
      itfs.map(({ mac, macSet, hostIf }) => ({ mac, macSet, hostIf })),
      [
        { mac: dp.interfaceMac(a), macSet: false, hostIf: undefined },
        { mac: '02:00:00:00:07:07', macSet: true, hostIf: undefined },
      ],
    );
    assert.deepEqual(dp.ip4Vrfs(), [0, 3]);
    assert.deepEqual(dp.ip4Addresses(), [
      { swIfIndex: a, address: '192.0.2.1/24' },
      { swIfIndex: sub, address: '10.7.0.1/24' },
    ]);
    const route = dp.ip4Routes().find((r) => r.prefix === '198.51.100.0/24');
    assert.deepEqual(route, {
      prefix: '198.51.100.0/24',
      source: 'configured',
      action: undefined,
      nextHops: [
        /* as added: no interface where none was named, the weights given (not the 3:1 buckets) */
        { via: '192.0.2.254', swIfIndex: undefined, weight: 2 },
        { via: '192.0.2.253', swIfIndex: a, weight: 1 },
      ],
    });
    assert.deepEqual(
      dp.ip4Routes(3).find((r) => r.prefix === '10.7.0.0/24'),
      { prefix: '10.7.0.0/24', source: 'connected', action: undefined, nextHops: [{ via: undefined, swIfIndex: sub, weight: 1 }] },
    );
    assert.deepEqual(dp.ip4NeighborTable(), [{ swIfIndex: a, address: '192.0.2.254', mac: '02:00:00:00:00:fe', isStatic: true }]);
  });

  it('refuses bad configuration with the reason, leaving the tables as they were', () => {
    const a = port('wan0');
    dp.interfaceAddIp4(a, '192.0.2.1/24');
    const before = dp.ip4Fib();
    const refused = (fn: () => void, re: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof DataplaneError && re.test(e.message));
    refused(() => dp.interfaceAddIp4(a, '192.0.2.0/24'), /network address of its \/24/);
    refused(() => dp.interfaceAddIp4(port('x'), '192.0.2.77/25'), /overlaps 192\.0\.2\.1\/24 on wan0/);
    refused(() => dp.ip4RouteAdd('10.9.0.0/16', [{ via: '172.16.0.1' }]), /172\.16\.0\.1 is not on an attached network/);
    refused(() => dp.ip4RouteDelete('192.0.2.0/24'), /no configured route/);
    refused(() => dp.interfaceDelete(a), /has IPv4 addresses/);
    refused(() => dp.interfaceSetMtu(a, 20), /MTU 20 is outside 68\.\.9000/);
    assert.throws(() => dp.ip4RouteAdd('10.0.0.0/33', []), VecgateError);
    assert.throws(() => parsePrefix('10.0.0.256/8'), /not an IPv4 address/);
    assert.equal(dp.ip4Fib(), before);
  });

  it('adds many routes a slice to a call on a running dataplane, each refusal with its own reason', () => {
    const a = port('wan0');
    dp.interfaceAddIp4(a, '192.0.2.1/24');
    dp.ip4NeighborAdd(a, '192.0.2.254', '02:00:00:00:00:fe');
    dp.start();
    const via = [{ via: '192.0.2.254' }];
    const routes: RouteSpec[] = [];
    for (let i = 0; i < 600; i++) routes.push({ prefix: `10.${i >> 8}.${i & 255}.0/24`, nextHops: via });
    routes[3] = { prefix: '10.0.3.0/33', nextHops: via }; /* refused before the call */
    routes[300] = { prefix: '192.0.2.0/24', nextHops: [], action: 'drop' }; /* refused by the dataplane */
    routes[301] = { prefix: '10.1.45.0/24', nextHops: [{ via: '172.16.0.1' }] };
    routes[599] = { prefix: '198.51.100.0/24', nextHops: [{ via: '192.0.2.254', weight: 3 }, { via: '192.0.2.9', swIfIndex: a }], vrf: 0 };
    const errors = dp.ip4RouteAddMany(routes);
    assert.equal(errors.length, 600);
    assert.deepEqual(errors.flatMap((e, i) => (e ? [i] : [])), [3, 300, 301]);
    assert.ok(errors[3] instanceof VecgateError);
    assert.match(errors[300]!.message, /belongs to an interface address/);
    assert.match(errors[301]!.message, /172\.16\.0\.1 is not on an attached network/);
    const configured = dp.ip4Routes().filter((r) => r.source === 'configured');
    assert.equal(configured.length, 597);
    const ecmp = configured.find((r) => r.prefix === '198.51.100.0/24')!.nextHops;
    assert.deepEqual(ecmp.map((h) => [h.via, h.swIfIndex, h.weight]), [['192.0.2.254', undefined, 3], ['192.0.2.9', a, 1]]);
    assert.match(dp.ip4Fib(), /^10\.2\.86\.0\/24 static neighbor via 192\.0\.2\.254 wan0$/m);
    assert.deepEqual(dp.ip4RouteAddMany([]), []);
  });

  it('sub-interfaces and MACs', () => {
    const a = port('trunk0');
    const sub = dp.subInterfaceCreate(a, 100);
    assert.equal(dp.interfaceFind('trunk0.100'), sub);
    dp.interfaceSetMac(a, '02:12:34:56:78:9a');
    assert.equal(dp.interfaceMac(a), '02:12:34:56:78:9a');
    assert.throws(() => dp.subInterfaceCreate(a, 100), /already has a sub-interface for VLAN 100/);
    assert.throws(() => dp.interfaceSetMac(a, '01:00:5e:00:00:01'), /multicast MAC/);
    assert.ok(dp.interfaceCounters().some((c) => c.name === 'trunk0.100' && c.rxErrors === 0));
  });
});
