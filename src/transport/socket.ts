/* The socket under an mqtt:// (tcp://) or mqtts:// (tls://) link, made here
 * rather than by mqtt.connect: that loads every transport it knows
 * (WebSocket, SOCKS with its address parser, ...) on the first connect,
 * about 3 MB of resident memory a box never uses. ws:// and wss:// are left
 * to mqtt.connect, which loads what they need. */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Duplex } from 'node:stream';
import type { MqttClient } from 'mqtt';

import { VecgateError } from '../errors';
import type { LinkTls } from './mqtt';

const PLAIN = new Set(['mqtt:', 'tcp:']);
const SECURE = new Set(['mqtts:', 'tls:', 'ssl:']);

export type StreamBuilder = (client: MqttClient) => Duplex;

/* undefined: not ours to make (ws://, wss://). */
export function socketBuilder(url: string, pem?: LinkTls): StreamBuilder | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VecgateError('MQTT_URL', `${url} is not a URL`);
  }
  const secure = SECURE.has(u.protocol);
  if (!secure && !PLAIN.has(u.protocol)) return undefined;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : secure ? 8883 : 1883;
  if (!secure) return () => net.connect({ host, port });
  return (client) => {
    const socket = tls.connect({ host, port, ...pem, rejectUnauthorized: true, ...(net.isIP(host) ? {} : { servername: host }) });
    /* A handshake that fails is the client's error (it reconnects), once. */
    const failed = (err: Error) => {
      client.emit('error', err);
      socket.destroy();
    };
    socket.once('error', failed);
    socket.once('secureConnect', () => socket.removeListener('error', failed));
    return socket;
  };
}
