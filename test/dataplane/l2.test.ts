import * as assert from 'node:assert/strict';

import { DataplaneError, VecgateError } from '../../src/errors';
import { Dataplane } from '../../src/dataplane/dataplane';
import { withoutVariantPin } from '../helpers';

describe('dataplane L2 bridging (real library)', () => {
  let dp: Dataplane;

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=4096' });
  });
  afterEach(() => dp?.close());

  it('makes a domain with a BVI and static entries, shown as text', () => {
    dp.bridgeDomainAdd(10, 'mac-age=60');
    const bvi = dp.loopbackCreate('bvi0');
    const lo = dp.loopbackCreate('lo1');
    dp.bridgePortSet(bvi, 10, { bvi: true });
    dp.bridgePortSet(lo, 10, { shg: 2 });
    dp.l2fibAdd(10, '02:00:00:00:00:aa', lo);
    assert.match(dp.l2fib(10), /^bd 10 02:00:00:00:00:aa port lo1 static$/m);
    assert.match(dp.l2fib(), /port bvi0 static/);
    assert.match(dp.bridgeDomains(10), /bd 10 port lo1 shg 2\n/);
    dp.l2fibDelete(10, '02:00:00:00:00:aa');
    assert.doesNotMatch(dp.l2fib(10), /:aa/);
    dp.bridgePortSet(lo, null);
    dp.bridgePortSet(bvi, null);
    dp.bridgeDomainDelete(10);
  });

  it('reads domains back as structured data: settings and ports', () => {
    assert.deepEqual(dp.bridgeDomainTable(), []);
    dp.bridgeDomainAdd(10, 'learn=0 uu-flood=0 mac-age=60 mac-limit=500');
    dp.bridgeDomainAdd(11);
    const bvi = dp.loopbackCreate('bvi0');
    const lo = dp.loopbackCreate('lo1');
    dp.loopbackCreate('lo2'); /* not a port */
    dp.bridgePortSet(bvi, 10, { bvi: true });
    dp.bridgePortSet(lo, 10, { shg: 2 });
    assert.deepEqual(dp.bridgeDomainTable(), [
      {
        bdId: 10, learn: false, flood: true, uuFlood: false, macAge: 60, macLimit: 500, learned: 0,
        ports: [{ swIfIndex: bvi, shg: 0, bvi: true }, { swIfIndex: lo, shg: 2, bvi: false }],
      },
      { bdId: 11, learn: true, flood: true, uuFlood: true, macAge: 300, macLimit: 65536, learned: 0, ports: [] },
    ]);
  });

  it('refuses bad input with the reason', () => {
    assert.throws(() => dp.bridgeDomainAdd(1, 'mac-limit=abc'), (e: DataplaneError) => /mac-limit=abc/.test(e.message));
    assert.throws(() => dp.l2fibAdd(1, 'nope', 0), VecgateError);
    assert.throws(() => dp.l2fib(5), (e: DataplaneError) => /no bridge domain 5/.test(e.message));
  });
});
