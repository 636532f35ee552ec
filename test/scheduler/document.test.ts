import * as assert from 'node:assert/strict';

import { defaultRegistry } from '../../src/descriptors';
import { ConfigError } from '../../src/models/check';
import { validateDocument } from '../../src/models/document';

/* Each model's checks: a refusal names the exact path and says why. */
describe('config document validation', () => {
  const registry = defaultRegistry();

  function problem(items: Record<string, unknown>): string {
    try {
      validateDocument({ version: 1, items }, registry);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.problems.length, 1, e.message);
      return `${e.problems[0]!.path}: ${e.problems[0]!.reason}`;
    }
    assert.fail('accepted');
  }

  it('accepts every kind and fills defaults', () => {
    const v = validateDocument(
      {
        version: 3,
        items: {
          'interfaces/eth0': { type: 'af_packet', hostIf: 'veth0', addresses: ['10.0.0.1/24'] },
          'interfaces/eth0.7': { type: 'sub-interface', parent: 'eth0', vlan: 7, vrf: 2 },
          'bridge-domains/1': { ports: [{ interface: 'eth0.7' }] },
          'routes/2/10.8.0.0/16': { vrf: 2, prefix: '10.8.0.0/16', nextHops: [{ interface: 'eth0.7' }] },
          'neighbors/eth0/10.0.0.2': { mac: '02:AA:00:00:00:01' },
          'system/settings': {},
        },
      },
      registry,
    );
    assert.equal(v.version, 3);
    assert.deepEqual(v.items.get('interfaces/eth0')!.value, { type: 'af_packet', hostIf: 'veth0', adminUp: true, vrf: 0, addresses: ['10.0.0.1/24'] });
    assert.deepEqual(v.items.get('bridge-domains/1')!.value, { id: 1, learn: true, flood: true, uuFlood: true, ports: [{ interface: 'eth0.7', shg: 0, bvi: false }] });
    assert.deepEqual(v.items.get('neighbors/eth0/10.0.0.2')!.value, { interface: 'eth0', address: '10.0.0.2', mac: '02:aa:00:00:00:01' });
  });

  it('names the path of each kind of mistake', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ 'vxlan/t0': {} }, 'items["vxlan/t0"]: unknown kind vxlan'],
      [{ 'interfaces/a': { type: 'loopback', speed: 1 } }, 'items["interfaces/a"].speed: unknown field'],
      [{ 'interfaces/a': { type: 'ethernet' } }, 'items["interfaces/a"].type: must be one of'],
      [{ 'interfaces/a': { type: 'loopback', mtu: 9001 } }, 'items["interfaces/a"].mtu: must be an integer in 68..9000'],
      [{ 'interfaces/a': { type: 'tap' } }, 'items["interfaces/a"].hostIf: required for type tap'],
      [{ 'interfaces/a': { type: 'loopback', addresses: ['10.0.0.0/24'] } }, 'items["interfaces/a"].addresses[0]: the network or broadcast'],
      [{ 'interfaces/a.5': { type: 'sub-interface', parent: 'a', vlan: 6 } }, 'items["interfaces/a.5"]: a sub-interface is named <parent>.<vlan>'],
      [{ 'interfaces/a.5000': { type: 'sub-interface', parent: 'a', vlan: 5000 } }, 'items["interfaces/a.5000"].vlan: must be an integer in 1..4094'],
      [{ 'routes/0/10.1.0.0/16': { nextHops: [{ via: '10.1.0.300' }] } }, 'items["routes/0/10.1.0.0/16"].nextHops[0].via: not an IPv4 address'],
      [{ 'routes/0/10.1.0.1/16': { action: 'drop' } }, 'items["routes/0/10.1.0.1/16"]: host bits set: the network is 10.1.0.0/16'],
      [{ 'routes/0/10.1.0.0/16': {} }, 'items["routes/0/10.1.0.0/16"].nextHops: give at least one next hop'],
      [{ 'routes/0/10.1.0.0/16': { vrf: 1, action: 'drop' } }, 'items["routes/0/10.1.0.0/16"].vrf: must match the key'],
      [{ 'routes/0/10.1.0.0/16': { action: 'drop', nextHops: [{ interface: 'a' }] } }, 'items["routes/0/10.1.0.0/16"].action: a route has next hops or an action'],
      [{ 'bridge-domains/x': {} }, 'items["bridge-domains/x"]: key must be bridge-domains/<id'],
      [{ 'bridge-domains/1': { ports: [{ interface: 'a', bvi: true }, { interface: 'b', bvi: true }] } }, 'items["bridge-domains/1"].ports[1].bvi: a domain has at most one BVI'],
      [{ 'bridge-domains/1': { ports: [{ interface: 'a', shg: 256 }] } }, 'items["bridge-domains/1"].ports[0].shg: must be an integer in 0..255'],
      [{ 'neighbors/a/10.0.0.1': { mac: '02:00:00:00:00' } }, 'items["neighbors/a/10.0.0.1"].mac: not a MAC address'],
      [{ 'system/other': {} }, 'items["system/other"]: the only system key is system/settings'],
      [{ 'system/settings': { hostname: 'bad_name' } }, 'items["system/settings"].hostname: not a hostname'],
    ];
    for (const [items, expected] of cases) assert.ok(problem(items).startsWith(expected), `${problem(items)} (wanted ${expected})`);
  });

  it('reports every bad item of a document, and a bad envelope', () => {
    assert.throws(
      () => validateDocument({ version: 1, items: { 'a/b': 1, 'interfaces/x': { type: 'loopback', mtu: 1 } } }, registry),
      (e: ConfigError) => e.problems.length === 2 && /items\["a\/b"\].*items\["interfaces\/x"\]\.mtu/.test(e.message),
    );
    assert.throws(() => validateDocument({ items: {} }, registry), /version: must be an integer/);
    assert.throws(() => validateDocument({ version: 1, items: {}, extra: 1 }, registry), /document\.extra: unknown field/);
    assert.throws(() => validateDocument([], registry), /document: must be an object/);
  });
});
