import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { Agent } from '../../src/agent/agent';
import { brokerSuite, Operator, readBack, tempDir } from './fixture';
import { hasCommands, isRoot, sh } from '../peers/netns';

/* The agent's configuration carries real traffic: two Linux hosts in
 * namespaces, each behind an af_packet port the document creates, ping
 * each other through the dataplane's router. Then the box is "power
 * cycled" with its broker gone, and must forward again from disk alone. */

describe('agent-configured forwarding between Linux hosts', function () {
  this.timeout(30_000);
  const id = process.pid % 100000;
  const ns = [`vgfa${id}`, `vgfb${id}`];
  const host = [`vgfa${id}h`, `vgfb${id}h`];
  const h = brokerSuite();
  let agent: Agent | undefined;
  let op: Operator | undefined;

  const doc = (version: number) => ({
    version,
    items: {
      'interfaces/lan0': { type: 'af_packet', hostIf: host[0], addresses: ['10.71.1.1/24'] },
      'interfaces/lan1': { type: 'af_packet', hostIf: host[1], addresses: ['10.71.2.1/24'] },
    },
  });

  /* One ping from host A to host B through the dataplane; returns the TTL seen. */
  function ping(): number | undefined {
    const r = spawnSync('ip', ['netns', 'exec', ns[0]!, 'ping', '-c', '1', '-W', '1', '10.71.2.2'], { encoding: 'utf8' });
    return r.status === 0 ? Number(/ttl=(\d+)/.exec(r.stdout)?.[1]) : undefined;
  }

  async function pingsWithin(ms: number): Promise<number | undefined> {
    const end = Date.now() + ms;
    for (;;) {
      const ttl = ping();
      if (ttl !== undefined || Date.now() > end) return ttl;
    }
  }

  before(function () {
    if (!isRoot || !hasCommands('ping', 'ip')) this.skip();
    [0, 1].forEach((i) => {
      const n = i + 1;
      sh(`ip netns add ${ns[i]}`);
      sh(`ip link add ${host[i]} type veth peer name eth0 netns ${ns[i]}`);
      sh(`ip link set ${host[i]} up`);
      sh(`ip -n ${ns[i]} addr add 10.71.${n}.2/24 dev eth0 && ip -n ${ns[i]} link set eth0 up && ip -n ${ns[i]} link set lo up`);
      sh(`ip -n ${ns[i]} route add default via 10.71.${n}.1`);
    });
  });
  after(async () => {
    for (let i = 0; i < 2; i++) spawnSync('sh', ['-c', `ip link del ${host[i]} 2>/dev/null; ip netns del ${ns[i]} 2>/dev/null`]);
  });

  it('routes between the hosts once the document is applied, and again after a cold start with the broker down', async () => {
    const stateDir = tempDir();
    agent = h.agent({ stateDir });
    op = await h.operator(agent.topics.device);
    agent.boot();
    assert.equal(ping(), undefined, 'nothing forwards before the document');
    agent.connect({ url: h.broker.url });
    await op.push(doc(1));
    const s = await op.state((st) => st.version === 1);
    assert.ok(Object.values(s.items).every((i) => i.state === 'CONFIGURED'), JSON.stringify(s.items));
    assert.equal(await pingsWithin(5000), 63, 'host B answers through the router (TTL 64 - 1)');
    const device = agent.topics.device;
    await agent.stop();
    agent.closeDataplane();
    assert.equal(ping(), undefined, 'the box is off');

    agent = h.agent({ stateDir, device });
    agent.connect({ url: 'mqtt://127.0.0.1:1', backoff: { minMs: 50, maxMs: 100 } });
    agent.boot();
    assert.equal(agent.mqtt!.connected, false);
    assert.equal(await pingsWithin(5000), 63, 'forwarding again from the persisted document, no broker');
    assert.deepEqual(readBack(agent.dataplane).addresses, ['lan0 10.71.1.1/24', 'lan1 10.71.2.1/24']);
  });

  it('forwards again after a dataplane restart, the resync having put every item back', async () => {
    agent = h.agent();
    op = await h.operator(agent.topics.device);
    agent.boot();
    agent.connect({ url: h.broker.url });
    await op.push(doc(2));
    await op.state((st) => st.version === 2);
    assert.equal(await pingsWithin(5000), 63);
    const txn = agent.restartDataplane();
    assert.ok(txn.items.every((i) => i.result === 'CONFIGURED'));
    assert.equal(await pingsWithin(5000), 63, 'the fresh dataplane routes as the old one did');
  });
});
