import * as assert from 'node:assert/strict';

import { Agent } from '../../src/agent/agent';
import { TcpProxy } from '../peers/tcp-proxy';
import { baseDoc, brokerSuite, Operator, readBack, tempDir } from './fixture';

describe('agent commit-confirm', function () {
  const h = brokerSuite();
  let proxy: TcpProxy;
  let agent: Agent | undefined;
  let op: Operator | undefined;

  beforeEach(async () => {
    proxy = new TcpProxy(h.broker.port);
    await proxy.listen();
  });
  afterEach(async () => {
    await proxy.close();
  });

  async function start(stateDir = tempDir()): Promise<Agent> {
    agent = h.agent({ stateDir });
    op = await h.operator(agent.topics.device);
    agent.boot();
    agent.connect({ url: proxy.url, backoff: { minMs: 100, maxMs: 200 } });
    return agent;
  }

  it('reverts to the previous configuration when the broker is cut off after a change', async () => {
    const stateDir = tempDir();
    const a = await start(stateDir);
    await op!.push(baseDoc(1));
    await op!.state((s) => s.version === 1);
    const good = readBack(a.dataplane);

    const change = baseDoc(2);
    change.items['system/settings'] = { hostname: 'cut-here' };
    change.items['routes/0/192.168.77.0/24'] = { action: 'drop' };
    delete change.items['routes/0/203.0.113.0/24'];
    const cut = proxy.cutAfter('cut-here');
    const applied = new Promise<void>((resolve) => a.once('applied', () => resolve()));
    const reverted = new Promise<string>((resolve) => a.once('reverted', resolve));
    await op!.push({ ...change, commitConfirm: { seconds: 1 } });
    await cut;
    await applied;
    assert.ok(readBack(a.dataplane).routes.includes('192.168.77.0/24 drop'), 'the change was applied');
    const reason = await reverted;
    assert.match(reason, /broker unreachable for 1 s after applying version 2/);
    assert.deepEqual(readBack(a.dataplane), good, 'back to version 1 in the dataplane');

    await proxy.restore();
    const s = await op!.state((st) => st.commitConfirm?.state === 'reverted');
    assert.equal(s.version, 1);
    assert.match(s.commitConfirm!.reason!, /unreachable/);
    /* The reverted document is still retained on the broker: it is not applied again. */
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(readBack(a.dataplane), good);
    assert.equal(a.report().version, 1);
    /* And the revert is what a reboot comes back to. */
    assert.equal(a.store.load()!.saved.document.version, 1);
  });

  it('keeps a change once the broker is reached within the window', async () => {
    const a = await start();
    await op!.push(baseDoc(1));
    await op!.state((s) => s.version === 1);
    const change = baseDoc(2);
    change.items['routes/0/192.168.77.0/24'] = { action: 'drop' };
    await op!.push({ ...change, commitConfirm: { seconds: 1 } });
    const s = await op!.state((st) => st.version === 2 && st.commitConfirm?.state === 'confirmed');
    assert.equal(s.commitConfirm!.seconds, 1);
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(a.report().version, 2);
    assert.ok(readBack(a.dataplane).routes.includes('192.168.77.0/24 drop'));
    assert.equal(a.store.load()!.saved.confirm, undefined, 'the confirmed change is saved without a pending window');
  });
});
