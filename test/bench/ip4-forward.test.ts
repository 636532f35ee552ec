import * as assert from 'node:assert/strict';

import { formatBench } from '../../src/bench/format';
import { SCENARIOS } from '../../src/bench/registry';
import { withoutVariantPin } from '../helpers';

describe('bench/ip4-forward', () => {
  beforeEach(withoutVariantPin);

  it('routes every frame through lookup and rewrite to the sink (smoke, no timing claim)', async () => {
    const r = await SCENARIOS['ip4-forward']!({ packets: 50_000, warmupPackets: 0, routes: 3000 });
    assert.equal(r.routes, 3000);
    const seen = Object.fromEntries(r.nodes.map((n) => [n.name, n.packets]));
    for (const node of ['ethernet-input', 'ip4-input', 'ip4-lookup', 'ip4-rewrite', 'interface-output']) {
      assert.equal(seen[node], 50_000, `${node} forwarded every frame`);
    }
    assert.deepEqual(r.errors, [], 'nothing dropped on the way');
    assert.match(formatBench(r), /^routes\s+3000$/m, 'the scenario\'s own figures follow the table');
  });

  it('refuses a route count it cannot lay out', async () => {
    await assert.rejects(async () => SCENARIOS['ip4-forward']!({ packets: 1, routes: 1 << 23 }), /--routes must be/);
  });
});
