import * as assert from 'node:assert/strict';

import { Agent } from '../../src/agent/agent';
import { encodeCbor } from '../../src/transport/codec';
import { TcpProxy } from '../peers/tcp-proxy';
import { baseDoc, brokerSuite, makeAgent, Operator, readBack, tempDir } from './fixture';

const allConfigured = (s: { items: Record<string, { state: string }> }) => Object.values(s.items).every((i) => i.state === 'CONFIGURED');

describe('agent over MQTT against a real mosquitto', function () {
  const h = brokerSuite();
  let agent: Agent | undefined;
  let op: Operator | undefined;


  async function start(over: Parameters<typeof makeAgent>[0] = {}): Promise<Agent> {
    agent = h.agent(over);
    op = await h.operator(agent.topics.device);
    agent.boot();
    agent.connect({ url: h.broker.url, backoff: { minMs: 100, maxMs: 500 } });
    return agent;
  }

  it('applies a retained device document, reports every item CONFIGURED, and the dataplane holds exactly that', async () => {
    const a = h.agent();
    op = await h.operator(a.topics.device);
    await op.push(baseDoc(7)); /* retained before the agent exists */
    agent = a;
    const online = op.next<{ state: string }>(op.topics.status, (v) => v.state === 'online');
    a.boot();
    a.connect({ url: h.broker.url });
    const s = await op.state((st) => st.version === 7);
    assert.equal(s.device, a.topics.device);
    assert.equal(s.hostname, 'gw1', 'system/settings is what the box reports as its name');
    assert.ok(allConfigured(s), JSON.stringify(s.items));
    assert.ok(s.items['interfaces/wan0/address/192.0.2.1/24'], 'derived items are reported too');
    assert.equal(s.counts.CONFIGURED, Object.keys(s.items).length);
    assert.equal((await online).state, 'online');
    const t = readBack(a.dataplane);
    assert.deepEqual(
      t.interfaces.map((i) => [i.name, i.mtu, i.mac]),
      [
        ['bvi0', 1500, '02:00:00:00:00:03'],
        ['lan0', 1500, '02:00:00:00:00:02'],
        ['wan0', 9000, '02:00:00:00:00:01'],
      ],
    );
    assert.deepEqual(t.addresses, ['lan0 10.1.0.1/24', 'wan0 192.0.2.1/24']);
    assert.deepEqual(t.routes, [
      '172.16.0.0/12 192.0.2.254@-*1',
      '198.51.100.0/24 192.0.2.254@-*3,10.1.0.9@lan0*1',
      '203.0.113.0/24 prohibit',
    ]);
    assert.deepEqual(t.neighbors, ['wan0 192.0.2.254 02:00:00:00:00:fe']);
    assert.match(t.bridgeDomains, /\b10\b/);
  });

  it('leaves a route over a missing interface PENDING until a later document adds it, and removes what a document drops', async () => {
    const a = await start();
    const doc = baseDoc(1);
    doc.items['routes/0/10.99.0.0/16'] = { nextHops: [{ via: '10.50.0.2', interface: 'uplink0' }] };
    await op!.push(doc);
    const s1 = await op!.state((s) => s.version === 1);
    assert.equal(s1.items['routes/0/10.99.0.0/16']!.state, 'PENDING');
    assert.match(s1.items['routes/0/10.99.0.0/16']!.reason!, /interfaces\/uplink0/);
    assert.ok(!readBack(a.dataplane).routes.some((r) => r.startsWith('10.99.0.0/16')));

    doc.version = 2;
    doc.items['interfaces/uplink0'] = { type: 'loopback', addresses: ['10.50.0.1/24'] };
    await op!.push(doc);
    const s2 = await op!.state((s) => s.version === 2);
    assert.equal(s2.items['routes/0/10.99.0.0/16']!.state, 'CONFIGURED');
    assert.ok(readBack(a.dataplane).routes.includes('10.99.0.0/16 10.50.0.2@uplink0*1'));

    const smaller = { version: 3, items: { 'interfaces/wan0': baseDoc(3).items['interfaces/wan0'] } };
    await op!.push(smaller);
    const s3 = await op!.state((s) => s.version === 3);
    const present = Object.keys(s3.items).filter((k) => s3.items[k]!.state !== 'REMOVED');
    assert.deepEqual(present.sort(), ['interfaces/wan0', 'interfaces/wan0/address/192.0.2.1/24']);
    assert.equal(s3.items['routes/0/10.99.0.0/16']!.state, 'REMOVED', 'what the document dropped is reported removed');
    const t = readBack(a.dataplane);
    assert.deepEqual(t.interfaces.map((i) => i.name), ['wan0']);
    assert.deepEqual(t.routes, []);
    assert.deepEqual(t.neighbors, []);
    assert.doesNotMatch(t.bridgeDomains, /\b10\b/);
  });

  it('layers group documents under the device document: device items override, null removes', async () => {
    const device = `layer-${process.pid}`;
    const a = h.agent({ device, groups: ['site', 'lab'] });
    agent = a;
    op = await h.operator(device);
    const base = baseDoc(4);
    await op.push({ version: 4, items: base.items }, op.topics.groupConfig('site'));
    await op.push({ version: 9, items: { 'routes/0/203.0.113.0/24': { action: 'drop' }, 'system/settings': { hostname: 'lab' } } }, op.topics.groupConfig('lab'));
    await op.push({ version: 2, items: { 'system/settings': { hostname: 'gw-device' }, 'routes/0/172.16.0.0/12': null } });
    a.boot();
    a.connect({ url: h.broker.url });
    const s = await op.state((st) => st.version === 2 && st.sources.length === 3);
    assert.deepEqual(s.sources.map((x) => [x.source, x.version]), [['group/site', 4], ['group/lab', 9], ['device', 2]]);
    assert.ok(allConfigured(s));
    assert.equal(s.items['routes/0/172.16.0.0/12'], undefined);
    const t = readBack(a.dataplane);
    assert.ok(t.routes.includes('203.0.113.0/24 drop'), t.routes.join('\n'));
    assert.ok(!t.routes.some((r) => r.startsWith('172.16.0.0/12')));
    /* A later change to one group layer is merged under the same device layer. */
    await op.push({ version: 5, items: { ...base.items, 'routes/0/192.168.50.0/24': { action: 'drop' } } }, op.topics.groupConfig('site'));
    await op.state((st) => st.sources.some((x) => x.source === 'group/site' && x.version === 5));
    assert.ok(readBack(a.dataplane).routes.includes('192.168.50.0/24 drop'));
    assert.ok(!readBack(a.dataplane).routes.some((r) => r.startsWith('172.16.0.0/12')), 'the device still removes the group route');
    for (const g of ['site', 'lab']) await op.client.publishAsync(op.topics.groupConfig(g), Buffer.alloc(0), { qos: 1, retain: true });
  });

  it('boots from the persisted configuration with the broker down', async () => {
    const stateDir = tempDir();
    const first = await start({ stateDir });
    await op!.push(baseDoc(11));
    await op!.state((s) => s.version === 11);
    const before = readBack(first.dataplane);
    await first.stop();
    first.closeDataplane();
    agent = h.agent({ stateDir, device: first.topics.device });
    const txn = agent.boot();
    assert.ok(txn, 'a persisted document was applied');
    assert.deepEqual(readBack(agent.dataplane), before);
    assert.ok(Object.values(agent.scheduler.state().items).every((i) => i.state === 'CONFIGURED'));
    agent.connect({ url: 'mqtt://127.0.0.1:1', backoff: { minMs: 50, maxMs: 100 } }); /* nothing listens there */
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(agent.mqtt!.connected, false);
    assert.deepEqual(readBack(agent.dataplane), before, 'an unreachable broker changes nothing');
  });

  it('reconnects after a broker restart and republishes its state', async () => {
    const a = await start();
    await op!.push(baseDoc(21));
    await op!.state((s) => s.version === 21);
    await h.broker.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(a.mqtt!.connected, false);
    const online = op!.next<{ state: string }>(op!.topics.status, (v) => v.state === 'online', 10_000);
    const state = op!.state((st) => st.version === 21, 10_000);
    await h.broker.up(); /* persistence off: the retained document and state are gone */
    assert.ok(allConfigured(await state));
    await online;
    /* With the document gone from the broker, the box keeps what it has. */
    assert.equal(readBack(a.dataplane).routes.length, 3);
  });

  it('its last will says offline with the reason when the connection is lost', async () => {
    const proxy = new TcpProxy(h.broker.port);
    await proxy.listen();
    try {
      agent = h.agent();
      op = await h.operator(agent.topics.device);
      const online = op.next<{ state: string }>(op.topics.status, (v) => v.state === 'online');
      agent.boot();
      agent.connect({ url: proxy.url, keepaliveSeconds: 2 });
      await online;
      const offline = op.next<{ state: string; reason: string }>(op.topics.status, (v) => v.state === 'offline');
      await proxy.close(); /* the box vanishes: no DISCONNECT, the broker sends the will */
      const will = await offline;
      assert.equal(will.reason, 'connection lost');
    } finally {
      await proxy.close();
    }
  });

  it('mqttStatus: connected, subscribed to its config, the document in and its state out', async () => {
    const a = h.agent();
    assert.equal(a.mqttStatus(), undefined, 'no broker yet');
    agent = a;
    op = await h.operator(a.topics.device);
    const doc = baseDoc(41);
    const bytes = encodeCbor(doc);
    await op.pushBytes(bytes);
    a.boot();
    a.connect({ url: h.broker.url });
    await op.state((st) => st.version === 41);
    /* The operator may see the state before the agent has the broker's acknowledgement. */
    for (let i = 0; i < 50 && !a.mqttStatus()!.recent.some((r) => r.topic === a.topics.state); i++) await new Promise((r) => setTimeout(r, 20));
    const m = a.mqttStatus()!;
    assert.equal(m.connected, true);
    assert.equal(m.url, h.broker.url);
    assert.equal(m.clientId, `vecgate-test-${a.topics.device}`);
    assert.ok(m.upSince && Date.parse(m.upSince) <= Date.now());
    assert.deepEqual(m.subscriptions, [a.topics.deviceConfig]);
    const ins = m.recent.filter((r) => r.direction === 'in');
    assert.deepEqual(ins.map((r) => [r.topic, r.bytes, r.retained, r.qos]), [[a.topics.deviceConfig, bytes.length, true, 1]]);
    const outs = m.recent.filter((r) => r.direction === 'out').map((r) => r.topic);
    assert.ok(outs.includes(a.topics.status) && outs.includes(a.topics.state), outs.join(' '));
    assert.ok(m.recent.findIndex((r) => r.direction === 'in') < m.recent.map((r) => r.topic).lastIndexOf(a.topics.state), 'newest last: the state follows the document');
    assert.ok(m.recent.filter((r) => r.topic === a.topics.state).every((r) => r.retained && r.qos === 1));
  });

  it('restores everything by resync after a dataplane restart', async () => {
    const a = await start();
    await op!.push(baseDoc(31));
    await op!.state((s) => s.version === 31);
    const before = readBack(a.dataplane);
    const txn = a.restartDataplane();
    assert.equal(txn.trigger, 'dataplane-restart');
    assert.deepEqual(readBack(a.dataplane), before);
    const s = await op!.state((st) => st.transaction === txn.seq);
    assert.ok(allConfigured(s));
  });
});
