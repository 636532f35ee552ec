import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { defaultRegistry } from '../../src/descriptors';
import { ConfigError } from '../../src/models/check';
import { validateDocument } from '../../src/models/document';
import { Scheduler } from '../../src/scheduler/scheduler';
import { withoutVariantPin } from '../helpers';

/* A VXLAN tunnel is an interface of type vxlan: its model, and the
 * scheduler putting it in the dataplane once its source address exists. */
describe('vxlan interfaces', () => {
  const tunnel = { type: 'vxlan', vxlan: { source: '192.0.2.1', destination: '192.0.2.2', vni: 42 } };

  it('validates the tunnel settings, naming the field', () => {
    const problem = (vx: unknown, extra: Record<string, unknown> = {}) => {
      try {
        validateDocument({ version: 1, items: { 'interfaces/vx0': { type: 'vxlan', vxlan: vx, ...extra } } }, defaultRegistry());
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.problems.map((p) => `${p.path}: ${p.reason}`).join('; ');
      }
      assert.fail('accepted');
    };
    assert.match(problem({ source: '192.0.2.1', destination: '192.0.2.2', vni: 1 << 24 }), /interfaces\/vx0"\]\.vxlan\.vni: /);
    assert.match(problem({ source: '192.0.2.1', destination: '192.0.2.1', vni: 1 }), /vxlan\.destination: is the tunnel's own source/);
    assert.match(problem({ source: 'x', destination: '192.0.2.2', vni: 1 }), /vxlan\.source: /);
    assert.match(problem({ destination: '192.0.2.2', vni: 1 }), /vxlan\.source: required/);
    assert.match(problem({ source: '192.0.2.1', destination: '192.0.2.2', vni: 1, ttl: 3 }), /vxlan: unknown field ttl|vxlan\.ttl/);
    assert.match(problem(undefined), /\.vxlan: required for type vxlan/);
    assert.throws(() => validateDocument({ version: 1, items: { 'interfaces/lo0': { type: 'loopback', vxlan: tunnel.vxlan } } }, defaultRegistry()), /\.vxlan: only a vxlan interface has one/);
  });

  it('waits for its source address, then is made, read back as configured, and removed', () => {
    withoutVariantPin();
    const dp = Dataplane.open({ options: 'buffers=1024' });
    const sched = new Scheduler(dp);
    try {
      let txn = sched.apply({ version: 1, items: { 'interfaces/vx0': tunnel, 'bridge-domains/10': { ports: [{ interface: 'vx0' }] } } });
      assert.match(sched.state().items['interfaces/vx0']!.reason ?? '', /missing the address 192\.0\.2\.1 in VRF 0 \(the tunnel's source\)/);
      assert.equal(sched.state().items['bridge-domains/10/port/vx0']?.state, 'PENDING');
      assert.deepEqual(dp.vxlanTunnels(), []);

      txn = sched.apply({ version: 2, items: { 'interfaces/wan0': { type: 'loopback', addresses: ['192.0.2.1/24'] }, 'interfaces/vx0': tunnel, 'bridge-domains/10': { ports: [{ interface: 'vx0' }] } } });
      assert.ok(txn.items.every((i) => i.result === 'CONFIGURED'), JSON.stringify(txn.items));
      const [t] = dp.vxlanTunnels();
      assert.deepEqual({ src: t!.src, dst: t!.dst, vni: t!.vni, encapVrf: t!.encapVrf, dport: t!.dport }, { src: '192.0.2.1', dst: '192.0.2.2', vni: 42, encapVrf: 0, dport: 4789 });
      assert.equal(dp.interfaces().find((i) => i.name === 'vx0')?.bridgeDomain, 10);

      /* A resync onto the same dataplane finds it as configured: nothing to do. */
      txn = sched.resync(dp);
      assert.deepEqual(txn.items, []);

      sched.apply({ version: 3, items: { 'interfaces/wan0': { type: 'loopback', addresses: ['192.0.2.1/24'] } } });
      assert.deepEqual(dp.vxlanTunnels(), []);
      assert.equal(dp.interfaces().some((i) => i.name === 'vx0'), false);
    } finally {
      sched.close();
      dp.close();
    }
  });
});
