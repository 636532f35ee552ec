import * as assert from 'node:assert/strict';

import { KeptConfigs, ROLLBACK_KEPT } from '../../src/agent/kept-configs';
import { AppliedConfig } from '../../src/agent/store';

function config(version: number, items = 1): AppliedConfig {
  const all: Record<string, unknown> = {};
  for (let i = 0; i < items; i++) all[`routes/0/10.${version}.${i}.0/24`] = { action: 'drop' };
  return { document: { version, items: all }, sources: [{ source: 'device', version, sha256: String(version) }] };
}

const kept = (k: KeptConfigs, seqs: number[]) => seqs.map((s) => k.get(s)?.document.version ?? k.get(s));

describe('agent/kept-configs', () => {
  it('keeps the configuration after each transaction by reference; null where none was applied', () => {
    const k = new KeptConfigs();
    const c = config(1);
    k.keep(1, null, 1);
    k.keep(2, c, 1);
    k.keep(3, c, 1); /* a retry: the same configuration */
    assert.equal(k.get(2), c, 'not a copy');
    assert.equal(k.get(3), c);
    assert.equal(k.get(1), null);
    assert.equal(k.get(4), undefined);
    assert.deepEqual(ROLLBACK_KEPT, { documents: 16, items: 20_480 });
  });

  it('forgets transactions the history no longer has', () => {
    const k = new KeptConfigs();
    for (let seq = 1; seq <= 5; seq++) k.keep(seq, config(seq), Math.max(1, seq - 2));
    assert.deepEqual(kept(k, [1, 2, 3, 4, 5]), [undefined, undefined, 3, 4, 5]);
  });

  it('keeps the last distinct configurations up to the limit, a repeated one counted once', () => {
    const k = new KeptConfigs({ documents: 3, items: 1000 });
    const c1 = config(1);
    k.keep(1, c1, 1);
    k.keep(2, c1, 1);
    k.keep(3, config(3), 1);
    k.keep(4, config(4), 1);
    assert.deepEqual(kept(k, [1, 2, 3, 4]), [1, 1, 3, 4]);
    k.keep(5, config(5), 1);
    assert.deepEqual(kept(k, [1, 2, 3, 4, 5]), [undefined, undefined, 3, 4, 5]);
  });

  it('keeps no more items than the limit, but always the applied configuration', () => {
    const k = new KeptConfigs({ documents: 16, items: 25 });
    const c1 = config(1, 10);
    k.keep(1, c1, 1);
    k.keep(2, config(2, 10), 1);
    assert.deepEqual(kept(k, [1, 2]), [1, 2]);
    k.keep(3, config(3, 10), 1);
    assert.deepEqual(kept(k, [1, 2, 3]), [undefined, 2, 3]);
    /* Larger than the limit alone: kept, as it is what runs. */
    k.keep(4, config(4, 40), 1);
    assert.deepEqual(kept(k, [2, 3, 4]), [undefined, undefined, 4]);
    /* Gone back to an old one (a rollback): its first entry may go, the configuration stays under the later seq. */
    const k2 = new KeptConfigs({ documents: 2, items: 1000 });
    k2.keep(1, c1, 1);
    k2.keep(2, config(2), 1);
    k2.keep(3, c1, 1);
    k2.keep(4, config(4), 1);
    assert.deepEqual(kept(k2, [1, 2, 3, 4]), [undefined, undefined, 1, 4]);
    k2.keep(5, c1, 1);
    assert.deepEqual(kept(k2, [1, 2, 3, 4, 5]), [undefined, undefined, 1, 4, 1]);
  });
});
