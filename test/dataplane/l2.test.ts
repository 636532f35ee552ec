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

  it('refuses bad input with the reason', () => {
    assert.throws(() => dp.bridgeDomainAdd(1, 'mac-limit=abc'), (e: DataplaneError) => /mac-limit=abc/.test(e.message));
    assert.throws(() => dp.l2fibAdd(1, 'nope', 0), VecgateError);
    assert.throws(() => dp.l2fib(5), (e: DataplaneError) => /no bridge domain 5/.test(e.message));
  });
});
