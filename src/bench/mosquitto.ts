/* A real mosquitto (the broker a fleet runs) for a benchmark or a test: its
 * own config, port and directory, started in the foreground and stopped by
 * PID. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export function haveMosquitto(): boolean {
  return spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' }).status === 0;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Mosquitto {
  private child?: ChildProcess;
  readonly dir: string;

  /* `extra`: more configuration (another listener, TLS), given this broker's directory. */
  private constructor(
    readonly port: number,
    extra: (dir: string) => string,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-mosquitto-'));
    /* user root: started by root, mosquitto would drop to its own user and
     * could not read this test's private directories (log, certificates). */
    const conf = `user root\nlistener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest file ${this.dir}/log\n${extra(this.dir)}`;
    fs.writeFileSync(path.join(this.dir, 'mosquitto.conf'), conf);
  }

  static async start(port?: number, extra: (dir: string) => string = () => ''): Promise<Mosquitto> {
    const m = new Mosquitto(port ?? (await freePort()), extra);
    await m.up();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /* On the same port, after stop(): a broker restart (retained messages gone, as persistence is off). */
  async up(): Promise<void> {
    this.child = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitForPort(this.port, 5000);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
