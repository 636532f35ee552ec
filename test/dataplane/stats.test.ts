import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { STAT_COUNTER, STAT_NAME_VECTOR } from '../../src/dataplane/stats';
import { dropStream, withoutVariantPin } from '../helpers';

describe('dataplane/stats', () => {
  let dp: Dataplane;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  it('has the directory entries the agent reads', () => {
    const entries = new Map(dp.stats.entries().map((e) => [e.name, e]));
    for (const n of ['/nodes/names', '/err/names', '/if/names']) assert.equal(entries.get(n)?.type, STAT_NAME_VECTOR, n);
    for (const n of ['/nodes/calls', '/nodes/vectors', '/nodes/packets', '/nodes/clocks', '/err/counters']) {
      assert.equal(entries.get(n)?.type, STAT_COUNTER, n);
    }
    for (const n of ['/if/rx-packets', '/if/rx-bytes', '/if/tx-packets', '/if/tx-bytes', '/if/drops']) {
      assert.equal(entries.get(n)?.type, STAT_COUNTER, n);
    }
    assert.ok(dp.stats.clockHz > 0);
    assert.ok(dp.stats.nThreads >= 1);
  });

  it('resolves element names of a counter through names_entry', () => {
    assert.deepEqual(dp.stats.names('/nodes/calls'), dp.stats.names('/nodes/names'));
    assert.ok(dp.stats.names('/nodes/names').includes('ethernet-input'));
    assert.ok(dp.stats.names('/err/names').every((n) => n.includes('/')), 'error names are node/reason');
  });

  it('sees interfaces created after the view was taken (directory epoch)', () => {
    const before = dp.stats.names('/if/names');
    assert.ok(!before.includes('pg7'));
    dp.pgStreamAdd(`${dropStream('late', 10)} if=pg7`);
    dp.runUntilIdle();
    const names = dp.stats.names('/if/names');
    const i = names.indexOf('pg7');
    assert.ok(i >= 0, 'new interface is named');
    assert.equal(dp.stats.counter('/if/rx-packets')[i], 10n);
    assert.equal(dp.stats.perThread('/if/rx-packets').length, dp.stats.nThreads);
  });

  it('names a missing entry', () => {
    assert.throws(() => dp.stats.counter('/no/such'), { code: 'STATS_NO_ENTRY' });
    assert.throws(() => dp.stats.scalar('/nodes/calls'), { code: 'STATS_TYPE' });
  });
});
