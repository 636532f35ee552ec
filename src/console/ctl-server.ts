/* The console over a unix socket, for `vecgate ctl`. Only root may use it:
 * the socket is made mode 0600 (umask held while it is created, so there is
 * no moment it is open to others) in a directory of mode 0700, and Linux
 * checks write permission on the socket file at connect().
 *
 * Protocol: one JSON object a line each way. A request is
 * {id, op: "run"|"complete"|"help", line}; a reply carries the same id and
 * the result, and a "run" may send {id, progress} lines before it. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { VecgateError } from '../errors';
import type { Logger } from '../log';
import { Console } from './console';

export const DEFAULT_CTL_SOCKET = '/run/vecgate/cli.sock';
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface CtlRequest {
  id: number;
  op: 'run' | 'complete' | 'help';
  line: string;
}

export interface CtlServer {
  path: string;
  close(): Promise<void>;
}

export async function listenCtl(console: Console, socketPath: string, log?: Logger): Promise<CtlServer> {
  const dir = path.dirname(socketPath);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await removeStale(socketPath);
  const server = net.createServer((sock) => serve(console, sock, log));
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(mask);
  }
  fs.chmodSync(socketPath, 0o600);
  server.on('error', (err) => log?.warn({ err: err.message }, 'console socket error'));
  log?.info({ socket: socketPath }, 'console socket listening');
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

/* A socket file left by a process that died is removed; one that answers is another vecgate's. */
async function removeStale(socketPath: string): Promise<void> {
  if (!fs.existsSync(socketPath)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new VecgateError('CTL_IN_USE', `${socketPath}: another vecgate is listening there`);
  fs.rmSync(socketPath, { force: true });
}

function serve(console: Console, sock: net.Socket, log?: Logger): void {
  let buffered = '';
  let chain = Promise.resolve(); /* requests of one client in order */
  const send = (o: unknown) => {
    if (!sock.destroyed) sock.write(JSON.stringify(o) + '\n');
  };
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES && !buffered.includes('\n')) {
      send({ id: null, ok: false, error: `request over ${MAX_REQUEST_BYTES} bytes` });
      sock.end();
      buffered = '';
      return;
    }
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      chain = chain.then(() => answer(console, text, send, log));
    }
  });
}

async function answer(console: Console, text: string, send: (o: unknown) => void, log?: Logger): Promise<void> {
  let req: CtlRequest;
  try {
    req = JSON.parse(text) as CtlRequest;
    if (typeof req !== 'object' || req === null || typeof req.line !== 'string' || !['run', 'complete', 'help'].includes(req.op)) throw new Error('want {id, op: run|complete|help, line}');
  } catch (e) {
    send({ id: null, ok: false, error: `bad request: ${(e as Error).message}` });
    return;
  }
  const id = req.id;
  if (req.op === 'complete') return send({ id, ok: true, ...console.complete(req.line) });
  if (req.op === 'help') return send({ id, ok: true, candidates: console.help(req.line) });
  const r = await console.run(req.line, (progress) => send({ id, progress }));
  if (!r.ok) log?.debug({ line: req.line.slice(0, 200), error: r.error }, 'ctl command failed');
  send({ id, ...r });
}
