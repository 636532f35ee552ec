import * as assert from 'node:assert/strict';

import mqtt, { MqttClient } from 'mqtt';

import { haveMosquitto, Mosquitto } from '../../src/bench/mosquitto';
import { createLogger } from '../../src/log';
import { MqttLink } from '../../src/transport/mqtt';

const log = createLogger({ level: 'silent', pretty: false, ring: null });

function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => (ok() ? resolve() : Date.now() > end ? reject(new Error(`not within ${ms} ms`)) : setTimeout(poll, 20));
    poll();
  });
}

describe('transport/mqtt: the link status against a real mosquitto', function () {
  let broker: Mosquitto;
  let link: MqttLink | undefined;
  let peer: MqttClient | undefined;

  before(async function () {
    if (!haveMosquitto()) this.skip();
    broker = await Mosquitto.start();
  });
  after(async () => broker?.close());
  afterEach(async () => {
    await link?.close();
    await peer?.endAsync();
    link = peer = undefined;
  });

  function open(url: string, subscriptions: string[]): MqttLink {
    link = new MqttLink({ url, clientId: `link-${process.pid}-${Math.random().toString(36).slice(2)}`, subscriptions, backoff: { minMs: 50, maxMs: 100 }, log });
    return link;
  }

  it('says connected, since when, with the subscriptions granted, and the messages both ways, newest last', async () => {
    const l = open(broker.url, ['t/in/a', 't/in/b']);
    const before = Date.now();
    const up = new Promise((r) => l.once('up', r));
    l.start();
    await up;
    let s = l.status();
    assert.equal(s.connected, true);
    assert.equal(s.url, broker.url);
    assert.match(s.clientId, /^link-/);
    assert.equal(s.protocolVersion, 5);
    assert.ok(Date.parse(s.upSince!) >= before - 1000);
    assert.equal(s.lastError, undefined);
    assert.equal(s.reconnects, 0);
    assert.deepEqual(s.subscriptions, ['t/in/a', 't/in/b']);
    assert.deepEqual(s.recent, []);

    peer = await mqtt.connectAsync(broker.url);
    const got = new Promise((r) => l.once('message', r));
    await peer.publishAsync('t/in/a', Buffer.from('hello'), { qos: 1, retain: false });
    await got;
    await l.publish('t/out', Buffer.alloc(300), true);
    s = l.status();
    assert.deepEqual(
      s.recent.map((m) => [m.direction, m.topic, m.bytes, m.retained, m.qos]),
      [
        ['in', 't/in/a', 5, false, 1],
        ['out', 't/out', 300, true, 1],
      ],
    );
    assert.ok(s.recent.every((m) => Math.abs(Date.parse(m.at) - Date.now()) < 5000));
    await peer.publishAsync('t/out', Buffer.alloc(0), { qos: 1, retain: true });
  });

  it('keeps only the last 20 messages', async () => {
    const l = open(broker.url, []);
    const up = new Promise((r) => l.once('up', r));
    l.start();
    await up;
    for (let i = 0; i < 25; i++) await l.publish(`t/n/${i}`, Buffer.from([i]), false);
    const recent = l.status().recent;
    assert.equal(recent.length, 20);
    assert.deepEqual(recent.map((m) => m.topic), Array.from({ length: 20 }, (_, i) => `t/n/${i + 5}`));
  });

  it('while the broker cannot be reached: not connected, the last error, reconnect attempts counted, no subscriptions', async () => {
    const l = open('mqtt://127.0.0.1:1', ['t/in/a']); /* nothing listens there */
    l.start();
    await until(() => l.status().reconnects >= 2);
    const s = l.status();
    assert.equal(s.connected, false);
    assert.equal(s.upSince, undefined);
    assert.match(s.lastError ?? '', /ECONNREFUSED/);
    assert.deepEqual(s.subscriptions, []);
  });
});
