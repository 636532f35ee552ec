/* What the agent tests share: an agent on a real dataplane, an operator
 * client on the same real broker, and the dataplane's tables read back. */
import mqtt, { MqttClient } from 'mqtt';

import { Agent, AgentOptions } from '../../src/agent/agent';
import { StateReport } from '../../src/agent/state-report';
import { Dataplane } from '../../src/dataplane/dataplane';
import { createLogger } from '../../src/log';
import { decodeCbor, encodeCbor } from '../../src/transport/codec';
import { Topics } from '../../src/transport/topics';
import { testDir, withoutVariantPin } from '../helpers';
import { haveMosquitto, Mosquitto } from '../../src/bench/mosquitto';

/* A document of every kind, with dependencies across them. */
export function baseDoc(version: number): { version: number; items: Record<string, unknown> } {
  return {
    version,
    items: {
      'interfaces/wan0': { type: 'loopback', mac: '02:00:00:00:00:01', mtu: 9000, addresses: ['192.0.2.1/24'] },
      'interfaces/lan0': { type: 'loopback', mac: '02:00:00:00:00:02', addresses: ['10.1.0.1/24'] },
      'interfaces/bvi0': { type: 'loopback', mac: '02:00:00:00:00:03' },
      'bridge-domains/10': { macAge: 60, ports: [{ interface: 'bvi0', bvi: true }] },
      'routes/0/172.16.0.0/12': { nextHops: [{ via: '192.0.2.254' }] },
      'routes/0/198.51.100.0/24': { nextHops: [{ via: '192.0.2.254', weight: 3 }, { via: '10.1.0.9', interface: 'lan0' }] },
      'routes/0/203.0.113.0/24': { action: 'prohibit' },
      'neighbors/wan0/192.0.2.254': { mac: '02:00:00:00:00:fe' },
      'system/settings': { hostname: 'gw1' },
    },
  };
}

let devices = 0;

/* The next CBOR message on `topic` (the client subscribed to it) that satisfies `ok`. */
export function nextMessage<T>(client: MqttClient, topic: string, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', on);
      reject(new Error(`no matching message on ${topic} within ${ms} ms`));
    }, ms);
    const on = (t: string, payload: Buffer) => {
      if (t !== topic || payload.length === 0) return;
      const v = decodeCbor(payload) as T;
      if (!ok(v)) return;
      clearTimeout(timer);
      client.off('message', on);
      resolve(v);
    };
    client.on('message', on);
  });
}

export function tempDir(): string {
  return testDir('agent');
}

/* A board-like dataplane: one generator port the agent must never touch. */
export function openDataplane(): Dataplane {
  const dp = Dataplane.open({ options: 'buffers=2048' });
  const s = dp.pgStreamAdd('name=board count=1 enable=0 if=pg0');
  dp.pgStreamDelete(s);
  return dp;
}

export function makeAgent(over: Partial<AgentOptions> & { stateDir?: string } = {}): Agent {
  return new Agent({
    fleet: 'test',
    device: over.device ?? `dev${process.pid}-${++devices}`,
    groups: [],
    stateDir: over.stateDir ?? tempDir(),
    anchors: [],
    allowUnsigned: true,
    maxDocumentBytes: 1024 * 1024,
    openDataplane,
    unmanagedInterfaces: ['pg0'],
    agentVersion: 'test',
    settleMs: 100,
    log: createLogger({ level: (process.env.VECGATE_TEST_LOG as 'info') ?? 'silent', pretty: false }),
    ...over,
  });
}

/* The operator's side: publishes documents, watches state. */
export class Operator {
  private constructor(
    readonly client: MqttClient,
    readonly topics: Topics,
  ) {}

  static async connect(url: string, device: string): Promise<Operator> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 200, clientId: `op-${device}-${Math.random().toString(36).slice(2)}` });
    const op = new Operator(client, new Topics('test', device));
    await client.subscribeAsync([op.topics.state, op.topics.status], { qos: 1 });
    return op;
  }

  async push(doc: unknown, topic = this.topics.deviceConfig): Promise<void> {
    await this.pushBytes(encodeCbor(doc), topic);
  }

  async pushBytes(bytes: Buffer, topic = this.topics.deviceConfig): Promise<void> {
    await this.client.publishAsync(topic, bytes, { qos: 1, retain: true });
  }

  /* The next message on `topic` that satisfies `ok` (retained ones count). */
  next<T>(topic: string, ok: (v: T) => boolean, ms = 8000): Promise<T> {
    return nextMessage(this.client, topic, ok, ms);
  }

  state(ok: (s: StateReport) => boolean, ms?: number): Promise<StateReport> {
    return this.next<StateReport>(this.topics.state, ok, ms);
  }

  async close(): Promise<void> {
    /* Clear what this test left retained, so the broker stays small. */
    for (const t of [this.topics.deviceConfig, this.topics.state, this.topics.status]) {
      await this.client.publishAsync(t, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined);
    }
    await this.client.endAsync();
  }
}

/* The dataplane's configured tables as plain data: what a test compares.
 * The board's port and what the dataplane derives itself (connected and
 * local routes, learned neighbors) are left out. */
export function readBack(dp: Dataplane) {
  const itfs = dp.interfaces();
  const name = (sw: number) => itfs.find((i) => i.swIfIndex === sw)?.name ?? `#${sw}`;
  return {
    interfaces: itfs
      .filter((i) => i.name !== 'pg0')
      .map((i) => ({ name: i.name, type: i.type, mtu: i.mtu, mac: i.mac, adminUp: i.adminUp, vrf: i.vrf, bd: i.bridgeDomain, bvi: i.isBvi }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    addresses: dp
      .ip4Addresses()
      .map((a) => `${name(a.swIfIndex)} ${a.address}`)
      .sort(),
    routes: dp
      .ip4Routes()
      .filter((r) => r.source === 'configured')
      .map((r) => `${r.prefix} ${r.action ?? r.nextHops.map((h) => `${h.via ?? "-"}@${h.swIfIndex === undefined ? "-" : name(h.swIfIndex)}*${h.weight}`).join(',')}`)
      .sort(),
    neighbors: dp
      .ip4NeighborTable()
      .filter((n) => n.isStatic)
      .map((n) => `${name(n.swIfIndex)} ${n.address} ${n.mac}`)
      .sort(),
    bridgeDomains: dp.bridgeDomains(null),
  };
}

/* Mocha hooks for a suite against a real mosquitto (skipped without one,
 * or when `needs` says what else is missing): the broker lives for the
 * suite, with `config` added to its configuration (made before it starts);
 * every agent and operator made through the returned object is stopped
 * after each test, also when it fails. */
export function brokerSuite(opts: { needs?: () => boolean; config?: () => Promise<string> } = {}) {
  const made: { agents: Agent[]; operators: Operator[] } = { agents: [], operators: [] };
  const h = {
    broker: undefined as unknown as Mosquitto,
    agent(over: Parameters<typeof makeAgent>[0] = {}): Agent {
      const a = makeAgent(over);
      made.agents.push(a);
      return a;
    },
    async operator(device: string): Promise<Operator> {
      const o = await Operator.connect(h.broker.url, device);
      made.operators.push(o);
      return o;
    },
  };
  before(async function () {
    if (!haveMosquitto() || opts.needs?.() === false) this.skip();
    withoutVariantPin();
    const extra = (await opts.config?.()) ?? '';
    h.broker = await Mosquitto.start(undefined, () => extra);
  });
  after(async () => h.broker?.close());
  afterEach(async () => {
    for (const a of made.agents.splice(0)) {
      await a.stop();
      a.closeDataplane();
    }
    for (const o of made.operators.splice(0)) await o.close();
  });
  return h;
}
