import * as assert from 'node:assert/strict';

import { collectGarbage } from '../../src/agent/memory';
import { rawDocument, trustedDocument } from '../../src/agent/store';
import { defaultRegistry } from '../../src/descriptors';
import { validateDocument } from '../../src/models/document';
import { RouteConfig } from '../../src/models/route';
import { Dataplane } from '../../src/dataplane/dataplane';
import { Scheduler } from '../../src/scheduler/scheduler';
import { withoutVariantPin } from '../helpers';

function routes(n: number): Record<string, unknown> {
  const items: Record<string, unknown> = { 'interfaces/lan0': { type: 'loopback', addresses: ['198.18.0.1/24'] } };
  for (let i = 0; i < n; i++) items[`routes/0/10.${i >> 8}.${i & 255}.0/24`] = { nextHops: [{ via: '198.18.0.9', interface: 'lan0' }] };
  items['routes/0/192.0.2.0/24'] = { nextHops: [{ via: '198.18.0.10', interface: 'lan0' }] };
  return items;
}

describe('agent memory', () => {
  it('collectGarbage frees what nothing holds, without --expose-gc', () => {
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `item ${i}` }));
    const held = process.memoryUsage().heapUsed;
    garbage = undefined;
    void garbage;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    assert.ok(held - after > 5 * 1024 * 1024, `only ${((held - after) / 1048576).toFixed(1)} MB freed`);
  });

  /* A large table costs its keys, not a copy of the same next hops per route. */
  it('routes over the same next hops share one frozen list, validated or read back from the saved file', () => {
    const registry = defaultRegistry();
    const hops = (items: Map<string, { value: unknown }>, key: string) => (items.get(key)!.value as RouteConfig).nextHops;
    for (const doc of [validateDocument({ version: 1, items: routes(100) }, registry), trustedDocument(JSON.parse(JSON.stringify(rawDocument(validateDocument({ version: 1, items: routes(100) }, registry)))), registry)]) {
      const a = hops(doc.items, 'routes/0/10.0.1.0/24');
      assert.equal(hops(doc.items, 'routes/0/10.0.99.0/24'), a);
      assert.notEqual(hops(doc.items, 'routes/0/192.0.2.0/24'), a);
      assert.deepEqual(a, [{ via: '198.18.0.9', interface: 'lan0', weight: 1 }]);
      assert.ok(Object.isFrozen(a) && Object.isFrozen(a[0]));
    }
  });

  it('the scheduler keeps one dependency list per distinct set of keys', () => {
    withoutVariantPin();
    const dp = Dataplane.open({ options: 'buffers=1024' });
    const sched = new Scheduler(dp);
    try {
      sched.apply({ version: 1, items: routes(50) });
      const applied = (sched as unknown as { applied: Map<string, { item: { deps: unknown[] }; depKeys: string[] }> }).applied;
      const a = applied.get('routes/0/10.0.1.0/24')!, b = applied.get('routes/0/10.0.2.0/24')!;
      assert.deepEqual(a.depKeys, ['interfaces/lan0']);
      assert.equal(a.depKeys, b.depKeys);
      assert.equal(a.item.deps, b.item.deps);
      assert.equal(sched.state().items['routes/0/10.0.1.0/24']!.state, 'CONFIGURED');
    } finally {
      sched.close();
      dp.close();
    }
  });
});
