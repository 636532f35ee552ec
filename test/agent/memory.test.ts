import * as assert from 'node:assert/strict';

import { collectGarbage } from '../../src/agent/memory';

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
});
