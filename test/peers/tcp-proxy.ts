/* A TCP path between the agent and its broker that a test can cut: the
 * broker "becomes unreachable" at an exact point of the conversation. */
import * as net from 'node:net';

export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private marker?: Buffer;
  private onCut?: () => void;
  port = 0;

  constructor(private readonly target: number) {}

  async listen(port = 0): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /* Cut every connection right after forwarding broker bytes that contain
   * `marker`, and refuse new ones until restore(). */
  cutAfter(marker: string): Promise<void> {
    this.marker = Buffer.from(marker);
    return new Promise((resolve) => (this.onCut = resolve));
  }

  async restore(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }

  /* What was written is still delivered (end, not destroy); nothing more is. */
  private cut(): void {
    this.server?.close();
    this.server = undefined;
    for (const s of this.sockets) {
      s.removeAllListeners('data');
      s.end();
    }
    this.sockets.clear();
    this.onCut?.();
  }

  private accept(client: net.Socket): void {
    if (!this.server) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.target, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      client.write(d);
      if (this.marker && d.includes(this.marker)) {
        this.marker = undefined;
        this.cut();
      }
    });
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }
}
