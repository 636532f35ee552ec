/* An MQTT broker inside the agent's process (aedes, MQTT 3.1.1), for
 * `npm start` and demos when the box has no broker URL: the agent, the
 * operator's `vecgate config push` and any MQTT client can meet on it. */
import * as net from 'node:net';

import { VecgateError } from '../errors';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /* Publishes as the broker itself (a retained sample document, for example). */
  publish(topic: string, payload: Buffer, retain: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(host = '127.0.0.1', port = 1883): Promise<EmbeddedBroker> {
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new VecgateError('BROKER_LISTEN', `embedded broker cannot listen on ${host}:${port}: ${e.code ?? e.message} (give --broker URL, or --embedded-port N)`)),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    publish: (topic, payload, retain) =>
      new Promise((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain, dup: false } as never, (err?: Error) => (err ? reject(err) : resolve())),
      ),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
