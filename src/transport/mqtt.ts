/* The agent's one MQTT connection: MQTT 5 where the broker speaks it, 3.1.1
 * where it refuses 5; QoS 1; a retained last will; reconnect with
 * exponential backoff (mqtt.js only knows a fixed period, so reconnecting
 * is done here). Subscriptions are made again on every connect, because a
 * broker that restarted without persistence has forgotten them. */
import { EventEmitter } from 'node:events';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';

import { VecgateError } from '../errors';
import { Logger } from '../log';
import { socketBuilder } from './socket';

/* PEM contents for mqtts:// (node's tls options). */
export interface LinkTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface LinkOptions {
  url: string;
  tls?: LinkTls;
  clientId: string;
  will?: { topic: string; payload: Buffer };
  subscriptions: string[];
  backoff?: { minMs?: number; maxMs?: number };
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  log: Logger;
}

export interface LinkMessage {
  topic: string;
  payload: Buffer;
  retained: boolean;
}

/* One message received or published (acknowledged), for the console. */
export interface LinkTraffic {
  at: string;
  direction: 'in' | 'out';
  topic: string;
  bytes: number;
  retained: boolean;
  qos: number;
}

/* The link as `show mqtt` shows it. */
export interface LinkStatus {
  url: string;
  clientId: string;
  connected: boolean;
  protocolVersion: 5 | 4;
  upSince?: string;
  lastError?: string;
  reconnects: number; /* connection attempts after the first */
  subscriptions: string[]; /* as the broker granted them on this connection; none while down */
  recent: LinkTraffic[]; /* newest last */
}

const RECENT_MESSAGES = 20;

/* Events: 'up' (protocol version, after the subscriptions are acknowledged),
 * 'down' (why), 'message' (LinkMessage). */
export class MqttLink extends EventEmitter {
  private client?: MqttClient;
  private protocolVersion: 5 | 4 = 5;
  private delayMs: number;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private upSince?: Date;
  private readonly minMs: number;
  private readonly maxMs: number;
  private reconnects = 0;
  private subscribed: string[] = [];
  private readonly recent: LinkTraffic[] = [];
  lastError?: string;

  constructor(private readonly opts: LinkOptions) {
    super();
    this.minMs = opts.backoff?.minMs ?? 500;
    this.maxMs = opts.backoff?.maxMs ?? 30_000;
    this.delayMs = this.minMs;
  }

  get connected(): boolean {
    return this.upSince !== undefined && this.client?.connected === true;
  }

  get url(): string {
    return this.opts.url;
  }

  get version(): 5 | 4 {
    return this.protocolVersion;
  }

  start(): void {
    this.connect();
  }

  /* QoS 1: resolves when the broker acknowledged it; rejects if the link is
   * down (nothing is queued for later: callers republish what is current
   * when the link comes back, never stale state). */
  publish(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    const c = this.client;
    if (!c || !this.connected) return Promise.reject(new VecgateError('MQTT_OFFLINE', `not connected to ${this.opts.url}`));
    return new Promise((resolve, reject) => {
      c.publish(topic, payload, { qos: 1, retain }, (err) => {
        if (err) return reject(err);
        this.note('out', topic, payload.length, retain, 1);
        resolve();
      });
    });
  }

  status(): LinkStatus {
    return {
      url: this.opts.url,
      clientId: this.opts.clientId,
      connected: this.connected,
      protocolVersion: this.protocolVersion,
      ...(this.upSince ? { upSince: this.upSince.toISOString() } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      reconnects: this.reconnects,
      subscriptions: this.connected ? [...this.subscribed] : [],
      recent: this.recent.map((m) => ({ ...m })),
    };
  }

  async close(final?: { topic: string; payload: Buffer }): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const c = this.client;
    if (!c) return;
    const up = this.connected;
    /* A link that looks up may be dead already: wait for the PUBACK a little, not forever. */
    if (final && up) await within(1000, this.publish(final.topic, final.payload, true).catch(() => undefined));
    /* Gracefully when connected (DISCONNECT, so no will); at once when not,
     * or a client still trying to connect would keep us waiting. */
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      c.end(!up, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private connect(): void {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: this.protocolVersion,
      clean: true,
      keepalive: o.keepaliveSeconds ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectPeriod: 0, /* ours, with backoff */
      resubscribe: false, /* ours, on every connect */
      queueQoSZero: false,
      /* mqtt-packet would otherwise pre-build a Buffer for each of the 65,536
       * packet ids (~6 MB of heap) to save a 2-byte allocation per publish. */
      writeCache: false,
      ...(o.tls ? { ...o.tls, rejectUnauthorized: true } : {}),
      ...(o.will ? { will: { topic: o.will.topic, payload: o.will.payload, qos: 1 as const, retain: true } } : {}),
    };
    const build = socketBuilder(o.url, o.tls);
    const c = build ? new MqttClient(build, options) : mqtt.connect(o.url, options);
    this.client = c;
    c.on('connect', () => void this.onConnect(c));
    c.on('message', (topic, payload, packet) => {
      this.note('in', topic, payload.length, packet.retain, packet.qos);
      this.emit('message', { topic, payload, retained: packet.retain } satisfies LinkMessage);
    });
    c.on('error', (err) => this.onError(c, err as Error & { code?: number }));
    c.on('close', () => this.onClose(c));
  }

  private async onConnect(c: MqttClient): Promise<void> {
    try {
      /* mqtt.js never answers a SUBSCRIBE of no topics. */
      const granted = this.opts.subscriptions.length ? await c.subscribeAsync(Object.fromEntries(this.opts.subscriptions.map((topic) => [topic, { qos: 1 as const }]))) : [];
      const refused = granted.filter((g) => g.qos > 2);
      if (refused.length) this.opts.log.warn({ refused: refused.map((g) => g.topic) }, 'broker refused subscriptions');
      this.subscribed = granted.filter((g) => g.qos <= 2).map((g) => g.topic);
    } catch (e) {
      this.lastError = `subscribe failed: ${(e as Error).message}`;
      this.opts.log.warn({ err: this.lastError }, 'subscribe failed; reconnecting');
      c.end(true);
      return;
    }
    if (this.client !== c) return;
    this.delayMs = this.minMs;
    this.upSince = new Date();
    this.lastError = undefined;
    this.emit('up', this.protocolVersion);
  }

  private onError(c: MqttClient, err: Error & { code?: number }): void {
    /* 3.1.1 brokers answer a v5 CONNECT with return code 1; v5 brokers that
     * refuse 5 with reason 132 (unsupported protocol version). */
    if (this.protocolVersion === 5 && (err.code === 1 || err.code === 132)) {
      this.opts.log.info({ url: this.opts.url }, 'broker refused MQTT 5; using 3.1.1');
      this.protocolVersion = 4;
      this.delayMs = 0;
    }
    this.lastError = err.message;
    if (this.client === c) c.end(true);
  }

  private onClose(c: MqttClient): void {
    if (this.client !== c) return;
    const wasUp = this.upSince !== undefined;
    this.upSince = undefined;
    if (wasUp && !this.closed) this.emit('down', this.lastError ?? 'connection closed');
    if (this.closed) return;
    c.removeAllListeners();
    c.on('error', () => undefined);
    const delay = this.delayMs;
    this.delayMs = Math.min(Math.max(this.delayMs * 2, this.minMs), this.maxMs);
    this.opts.log.debug({ delayMs: delay, err: this.lastError }, 'mqtt reconnect scheduled');
    this.timer = setTimeout(() => {
      if (this.client === c) c.end(true);
      if (this.closed) return;
      this.reconnects++;
      this.connect();
    }, delay);
  }

  private note(direction: 'in' | 'out', topic: string, bytes: number, retained: boolean, qos: number): void {
    if (this.recent.push({ at: new Date().toISOString(), direction, topic, bytes, retained, qos }) > RECENT_MESSAGES) this.recent.shift();
  }
}

function within(ms: number, p: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
