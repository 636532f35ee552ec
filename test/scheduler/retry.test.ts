import * as assert from 'node:assert/strict';

import { Dataplane } from '../../src/dataplane/dataplane';
import { defaultRegistry } from '../../src/descriptors';
import { object } from '../../src/models/check';
import { Descriptor } from '../../src/scheduler/descriptor';
import { Scheduler } from '../../src/scheduler/scheduler';
import { withoutVariantPin } from '../helpers';

/* A kind added from outside the scheduler (as vxlan or acl will be): it
 * puts a loopback in the dataplane, but fails "try later" the first times. */
function flakyKind(failures: number): Descriptor<Record<string, never>> & { calls: number } {
  const d = {
    name: 'flaky',
    calls: 0,
    validateName: () => undefined,
    validate: (v: unknown, path: string) => object(v, path, []) as Record<string, never>,
    dependencies: () => ['interfaces/lo0'],
    create(ctx: { dp: Dataplane }, key: string) {
      if (++d.calls <= failures) throw new Error('busy, try later');
      ctx.dp.loopbackCreate(key.replace('/', '-'));
    },
    delete: (ctx: { dp: Dataplane; ifIndex(n: string): number }, key: string) => ctx.dp.interfaceDelete(ctx.ifIndex(key.replace('/', '-'))),
    retriable: (e: unknown) => e instanceof Error && /try later/.test(e.message),
  };
  return d;
}

/* A kind that takes many items a call (as routes do): loopbacks, named by key. */
function batchKind(calls: string[][]): Descriptor<{ after?: string }> {
  const make = (ctx: { dp: Dataplane }, key: string) => {
    if (key.endsWith('/bad')) throw new Error(`${key} refused`);
    ctx.dp.loopbackCreate(key.replace('/', '-'));
  };
  return {
    name: 'batch',
    validateName: () => undefined,
    validate: (v: unknown, path: string) => object(v, path, ['after']) as { after?: string },
    dependencies: (_key, v) => (v.after ? [`batch/${v.after}`] : []),
    create(ctx, key) {
      calls.push([key]);
      make(ctx, key);
    },
    createMany(ctx, items) {
      calls.push(items.map((i) => i.key));
      return items.map(({ key }) => {
        try {
          make(ctx, key);
          return undefined;
        } catch (e) {
          return e;
        }
      });
    },
    delete: (ctx, key) => ctx.dp.interfaceDelete(ctx.ifIndex(key.replace('/', '-'))),
  };
}

describe('KV scheduler retries and new kinds', () => {
  let dp: Dataplane;
  let sched: Scheduler;
  const doc = { version: 1, items: { 'interfaces/lo0': { type: 'loopback' }, 'flaky/one': {} } };

  beforeEach(() => {
    withoutVariantPin();
    dp = Dataplane.open({ options: 'buffers=2048' });
  });
  afterEach(() => {
    sched?.close();
    dp?.close();
  });

  it('retries a retriable failure with backoff until it is CONFIGURED', async () => {
    const kind = flakyKind(2);
    sched = new Scheduler(dp, { registry: defaultRegistry().addKind(kind), retry: { baseMs: 10, maxMs: 40 } });
    sched.apply(doc);
    assert.deepEqual(sched.state().items['flaky/one'], { state: 'FAILED', error: 'busy, try later', retry: 1 });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(sched.state().items['flaky/one']!.state, 'CONFIGURED');
    assert.ok(dp.interfaceFind('flaky-one') !== undefined);
    assert.deepEqual(sched.history().map((t) => t.trigger), ['api', 'retry', 'retry']);
    assert.ok(sched.history()[2]!.started >= sched.history()[1]!.started);
  });

  it('gives up after the bounded attempts: FAILED with the error, no more retries', async () => {
    const kind = flakyKind(100);
    sched = new Scheduler(dp, { registry: defaultRegistry().addKind(kind), retry: { baseMs: 5, maxMs: 10, attempts: 3 } });
    sched.apply(doc);
    await new Promise((r) => setTimeout(r, 120));
    assert.deepEqual(sched.state().items['flaky/one'], { state: 'FAILED', error: 'busy, try later' });
    assert.equal(kind.calls, 3);
    /* A new document tries it again. */
    sched.apply({ ...doc, version: 2 });
    assert.equal(kind.calls, 4);
  });

  it('an unknown kind is refused until it is registered', () => {
    sched = new Scheduler(dp);
    assert.throws(() => sched.apply(doc), /items\["flaky\/one"\]: unknown kind flaky/);
  });

  it('hands createMany the creates whose dependencies are in, and settles each item on its own', () => {
    const calls: string[][] = [];
    sched = new Scheduler(dp, { registry: defaultRegistry().addKind(batchKind(calls)) });
    const txn = sched.apply({ version: 1, items: { 'batch/a': {}, 'batch/b': {}, 'batch/bad': {}, 'batch/c': { after: 'a' }, 'batch/d': { after: 'bad' } } });
    const together = calls.find((c) => c.length > 1)!;
    assert.deepEqual([...together].sort(), ['batch/a', 'batch/b', 'batch/bad']);
    for (const c of calls) assert.ok(!(c.includes('batch/a') && c.includes('batch/c')), 'c waits for a to be in');
    const state = sched.state().items;
    assert.deepEqual(['a', 'b', 'c'].map((k) => state[`batch/${k}`]!.state), ['CONFIGURED', 'CONFIGURED', 'CONFIGURED']);
    assert.equal(state['batch/bad']!.state, 'FAILED');
    assert.equal(state['batch/bad']!.error, 'batch/bad refused');
    assert.match(state['batch/d']!.reason!, /waiting for batch\/bad \(FAILED\)/);
    assert.equal(txn.items.filter((i) => i.result === 'CONFIGURED').length, 3);
    assert.ok(['batch-a', 'batch-b', 'batch-c'].every((n) => dp.interfaceFind(n) !== undefined));
  });
});
