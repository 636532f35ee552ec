import * as assert from 'node:assert/strict';

import { Agent } from '../../src/agent/agent';
import { StateReport } from '../../src/agent/state-report';
import { rawDocument } from '../../src/agent/store';
import { defaultRegistry } from '../../src/descriptors';
import { validateDocument } from '../../src/models/document';
import { VecgateError } from '../../src/errors';
import { encodeCbor } from '../../src/transport/codec';
import { baseDoc, brokerSuite, makeAgent, Operator, readBack, tempDir } from './fixture';

/* The second document: one route more, one less, another MTU and hostname. */
function changedDoc(version: number) {
  const d = baseDoc(version);
  d.items['interfaces/wan0'] = { type: 'loopback', mac: '02:00:00:00:00:01', mtu: 1400, addresses: ['192.0.2.1/24'] };
  d.items['routes/0/192.168.77.0/24'] = { action: 'drop' };
  delete d.items['routes/0/203.0.113.0/24'];
  d.items['system/settings'] = { hostname: 'gw2' };
  return d;
}

function refusal(code: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof VecgateError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  };
}

describe('agent config history and rollback', function () {
  const h = brokerSuite();
  let op: Operator;

  async function start(over: Parameters<typeof makeAgent>[0] = {}): Promise<Agent> {
    const a = h.agent(over);
    op = await h.operator(a.topics.device);
    a.boot();
    a.connect({ url: h.broker.url, backoff: { minMs: 100, maxMs: 500 } });
    return a;
  }

  /* Pushes a document and waits until its state is out; the transaction that applied it. */
  async function push(a: Agent, doc: { version: number }): Promise<number> {
    return (await pushed(a, doc)).transaction;
  }

  async function pushed(a: Agent, doc: { version: number }): Promise<StateReport> {
    await op.push(doc);
    const s = await op.state((st) => st.version === doc.version && !st.rollback);
    assert.equal(a.configHistory().at(-1)!.seq, s.transaction);
    return s;
  }

  it('lists the transactions with their trigger, version and items by result', async () => {
    const a = await start();
    const s1 = await pushed(a, baseDoc(1));
    const t1 = s1.transaction;
    const pending = changedDoc(2);
    pending.items['routes/0/10.99.0.0/16'] = { nextHops: [{ via: '10.50.0.2', interface: 'uplink0' }] };
    const t2 = await push(a, pending);
    const h1 = a.configHistory();
    assert.deepEqual(
      h1.map((t) => [t.seq, t.trigger, t.version, t.canRollBack]),
      [
        [1, 'boot', 0, false],
        [t1, 'mqtt', 1, true],
        [t2, 'mqtt', 2, true],
      ],
    );
    assert.deepEqual(h1[1]!.counts, { CONFIGURED: Object.keys(s1.items).length }, 'every item of the first document went in');
    /* wan0 re-created for its MTU (delete + create), its address and what
     * sits on it again, the new route in, the old one out, one pending. */
    assert.equal(h1[2]!.counts.PENDING, 1);
    assert.equal(h1[2]!.counts.REMOVED, a.scheduler.history().at(-1)!.items.filter((i) => i.result === 'REMOVED').length);
    assert.ok(h1[2]!.counts.REMOVED! >= 1 && h1[2]!.counts.CONFIGURED! >= 2, JSON.stringify(h1[2]!.counts));
    assert.ok(h1.every((t) => !Number.isNaN(Date.parse(t.started)) && t.durationMs >= 0));
  });

  it('rolls back to an earlier transaction: the dataplane, the state, the history and the saved file', async () => {
    const a = await start();
    const t1 = await push(a, baseDoc(1));
    const first = readBack(a.dataplane);
    await push(a, changedDoc(2));
    assert.notDeepEqual(readBack(a.dataplane), first);

    const state = op.state((s) => s.rollback !== undefined);
    const txn = a.rollback(t1);
    assert.equal(txn.trigger, 'rollback');
    assert.equal(txn.version, 1);
    const back = readBack(a.dataplane);
    assert.deepEqual(back, first, 'the dataplane holds what it held after the first document');
    assert.equal(a.dataplane.interfaces().find((i) => i.name === 'wan0')!.mtu, 9000);
    assert.ok(a.dataplane.ip4Routes().some((r) => r.prefix === '203.0.113.0/24' && r.action === 'prohibit'));
    assert.ok(!a.dataplane.ip4Routes().some((r) => r.prefix === '192.168.77.0/24'));

    const s: StateReport = await state;
    assert.equal(s.transaction, txn.seq);
    assert.deepEqual(s.rollback && { to: s.rollback.toTransaction, txn: s.rollback.transaction }, { to: t1, txn: txn.seq });
    assert.equal(s.version, 1);
    assert.equal(s.hostname, 'gw1');
    assert.deepEqual(s.sources.map((x) => x.version), [1]);
    assert.ok(Object.values(s.items).every((i) => i.state === 'CONFIGURED' || i.state === 'REMOVED'), JSON.stringify(s.items));
    assert.equal(s.items['routes/0/192.168.77.0/24']?.state, 'REMOVED');

    const last = a.configHistory().at(-1)!;
    assert.deepEqual([last.seq, last.trigger, last.version, last.canRollBack], [txn.seq, 'rollback', 1, true]);
    assert.equal(a.store.load()!.saved.document.version, 1, 'the rollback is what a reboot comes back to');
    assert.equal((a.store.load()!.saved.document.items['system/settings'] as { hostname: string }).hostname, 'gw1');
  });

  it('refuses an unknown transaction, one whose configuration is not kept, and one with none', async () => {
    const a = await start({ scheduler: { historySize: 6 }, rollbackKept: { documents: 3 } });
    const seqs: number[] = [];
    for (let v = 1; v <= 6; v++) {
      const d = baseDoc(v);
      d.items['system/settings'] = { hostname: `gw-v${v}` };
      seqs.push(await push(a, d));
    }
    const before = { dp: readBack(a.dataplane), history: a.configHistory().length, last: a.configHistory().at(-1)!.seq };
    for (const seq of [0, -1, 1.5, before.last + 1, 10_000]) assert.throws(() => a.rollback(seq), refusal('ROLLBACK_UNKNOWN', new RegExp(`transaction ${seq}: there is no such transaction \\(the last is ${before.last}\\)`)));
    /* Out of the scheduler's history of 6: the boot and the first document. */
    assert.throws(() => a.rollback(1), refusal('ROLLBACK_NOT_KEPT', /transaction 1: it is older than the history kept \(transactions 2 to 7\)/));
    /* In the history, but only the last 3 configurations are kept. */
    assert.deepEqual(a.configHistory().map((t) => [t.seq, t.canRollBack]), [[2, false], [3, false], [4, false], [5, true], [6, true], [7, true]]);
    assert.throws(() => a.rollback(seqs[2]!), refusal('ROLLBACK_NOT_KEPT', new RegExp(`transaction ${seqs[2]}: its configuration is no longer kept \\(the last 3 configurations`)));
    assert.deepEqual(readBack(a.dataplane), before.dp, 'a refusal changes nothing');
    assert.equal(a.configHistory().length, before.history);
    assert.equal(a.configHistory().at(-1)!.seq, before.last);
    assert.equal(a.rollback(seqs[3]!).version, 4, 'the oldest kept one can be gone back to');

    const fresh = h.agent();
    fresh.boot();
    assert.throws(() => fresh.rollback(1), refusal('ROLLBACK_NOT_KEPT', /transaction 1: no configuration was applied then/));
  });

  it('keeps configurations within the item budget, each counted once', async () => {
    const a = await start({ rollbackKept: { items: 25 } });
    const items = Object.keys(baseDoc(1).items).length; /* 9: two fit, three do not */
    assert.ok(2 * items <= 25 && 3 * items > 25);
    const t1 = await push(a, baseDoc(1));
    const t2 = await push(a, baseDoc(2));
    assert.deepEqual([t1, t2].map((t) => a.configHistory().find((x) => x.seq === t)!.canRollBack), [true, true]);
    const t3 = await push(a, baseDoc(3));
    assert.deepEqual([t1, t2, t3].map((t) => a.configHistory().find((x) => x.seq === t)!.canRollBack), [false, true, true]);
    /* Back to 2: the same configuration, counted once, so 3 stays. */
    const back = a.rollback(t2).seq;
    assert.deepEqual([t1, t2, t3, back].map((t) => a.configHistory().find((x) => x.seq === t)!.canRollBack), [false, true, true, true]);
  });

  it('refuses while a commit-confirm window is open, and changes nothing', async () => {
    const stateDir = tempDir();
    const a = h.agent({ stateDir });
    a.store.save({
      document: rawDocument(validateDocument(baseDoc(5), defaultRegistry())), /* as the agent saves it */
      sources: [{ source: 'device', version: 5, sha256: 'ab'.repeat(32) }],
      savedAt: new Date().toISOString(),
      confirm: { seconds: 600, appliedAt: new Date().toISOString(), previous: null },
    });
    const txn = a.boot()!;
    assert.equal(a.report().commitConfirm?.state, 'waiting');
    assert.equal(a.configHistory().at(-1)!.canRollBack, true);
    const before = readBack(a.dataplane);
    assert.throws(() => a.rollback(txn.seq), refusal('ROLLBACK_CONFIRM_OPEN', new RegExp(`transaction ${txn.seq} while a commit-confirm window is open \\(until .*Z\\)`)));
    assert.deepEqual(readBack(a.dataplane), before);
    assert.equal(a.configHistory().length, 1);
  });

  it('the fleet replaces a rollback: a new document, and a re-publish of the one it ran before', async () => {
    const a = await start();
    const t1 = await push(a, baseDoc(1));
    const first = readBack(a.dataplane);
    const second = encodeCbor(changedDoc(2));
    await op.pushBytes(second);
    await op.state((s) => s.version === 2);
    const latest = readBack(a.dataplane);

    /* The same bytes again, retained as before: applied again over the rollback. */
    a.rollback(t1);
    await op.state((s) => s.rollback !== undefined);
    assert.deepEqual(readBack(a.dataplane), first);
    await op.pushBytes(second);
    const s2 = await op.state((s) => s.version === 2);
    assert.equal(s2.rollback, undefined, 'no longer a rollback');
    assert.deepEqual(readBack(a.dataplane), latest);
    assert.equal(a.configHistory().at(-1)!.trigger, 'mqtt');
    assert.equal(a.store.load()!.saved.document.version, 2);

    /* Without a rollback, the same bytes again are nothing new. */
    const n = a.configHistory().length;
    await op.pushBytes(second);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.configHistory().length, n);

    /* A new document after another rollback. */
    a.rollback(t1);
    await op.state((s) => s.rollback !== undefined);
    const third = baseDoc(3);
    third.items['routes/0/192.168.88.0/24'] = { action: 'drop' };
    await op.push(third);
    const s3 = await op.state((s) => s.version === 3);
    assert.equal(s3.rollback, undefined);
    assert.ok(readBack(a.dataplane).routes.includes('192.168.88.0/24 drop'));
  });
});
