/* vecgate ctl [--socket PATH] [--json] [command ...]: the console of a
 * running `vecgate run`. With a command, runs it and exits (1 when it
 * failed); without, an interactive console on a terminal (the same line
 * editing, completion and help as the serial console), or one command a
 * line from a pipe. */
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import { Completion, PROMPT, resultText } from '../console/console';
import { DEFAULT_CTL_SOCKET } from '../console/ctl-server';
import { LineEditor } from '../console/line-editor';
import type { Candidate } from '../console/tree';
import { VecgateError } from '../errors';

interface Reply {
  id: number | null;
  ok: boolean;
  text?: string;
  data?: unknown;
  error?: string;
  hint?: string;
  progress?: string;
  partial?: string;
  candidates?: Candidate[];
}

class CtlClient {
  private nextId = 1;
  private buffered = '';
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; progress?: (line: string) => void }>();

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const r = JSON.parse(this.buffered.slice(0, nl)) as Reply;
        this.buffered = this.buffered.slice(nl + 1);
        const w = r.id === null ? undefined : this.waiting.get(r.id);
        if (!w) continue;
        if (r.progress !== undefined) w.progress?.(r.progress);
        else {
          this.waiting.delete(r.id!);
          w.resolve(r);
        }
      }
    });
    sock.on('close', () => {
      for (const w of this.waiting.values()) w.resolve({ id: null, ok: false, error: 'the console socket closed' });
      this.waiting.clear();
    });
  }

  static connect(path: string): Promise<CtlClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => resolve(new CtlClient(s)));
      s.once('error', (e: NodeJS.ErrnoException) => {
        const why =
          e.code === 'EACCES' ? 'permission denied (the console is for root only)' : e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'no vecgate listening there (is `vecgate run` running?)' : e.message;
        reject(new VecgateError('CTL_CONNECT', `${path}: ${why}`));
      });
    });
  }

  request(op: 'run' | 'complete' | 'help', line: string, progress?: (line: string) => void): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, { resolve, progress });
      this.sock.write(JSON.stringify({ id, op, line }) + '\n');
    });
  }

  close(): void {
    this.sock.end();
  }
}

function printResult(r: Reply, json: boolean, out: (s: string) => void, err: (s: string) => void): void {
  if (json) return out(JSON.stringify(r.ok ? { ok: true, data: r.data ?? null } : { ok: false, error: r.error, ...(r.hint ? { hint: r.hint } : {}) }) + '\n');
  const text = resultText({ ok: r.ok, text: r.text ?? '', error: r.error, hint: r.hint });
  if (!text) return;
  (r.ok ? out : err)(text.endsWith('\n') ? text : text + '\n');
}

export async function ctlCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { socket: { type: 'string' }, json: { type: 'boolean' } },
  });
  const json = values.json === true;
  const client = await CtlClient.connect(values.socket ?? DEFAULT_CTL_SOCKET);
  const out = (s: string) => process.stdout.write(s);
  const err = (s: string) => process.stderr.write(s);
  try {
    if (positionals.length) {
      const r = await client.request('run', positionals.join(' '), json ? undefined : (p) => out(p + '\n'));
      printResult(r, json, out, err);
      return r.ok ? 0 : 1;
    }
    if (!process.stdin.isTTY) {
      let failed = 0;
      for await (const line of createInterface({ input: process.stdin })) {
        if (!line.trim()) continue;
        const r = await client.request('run', line, json ? undefined : (p) => out(p + '\n'));
        printResult(r, json, out, err);
        if (!r.ok) failed++;
      }
      return failed ? 1 : 0;
    }
    return await interactive(client);
  } finally {
    client.close();
  }
}

/* The serial console's editor on this terminal, the commands on the socket. */
function interactive(client: CtlClient): Promise<number> {
  const stdin = process.stdin;
  return new Promise<number>((resolve) => {
    const write = (s: string) => process.stdout.write(s);
    const done = () => {
      editor.close();
      stdin.setRawMode(false);
      stdin.pause();
      resolve(0);
    };
    const editor: LineEditor = new LineEditor(
      write,
      {
        submit: async (line) => {
          if (/^\s*(quit|exit)\s*$/.test(line)) return done();
          const r = await client.request('run', line, (p) => editor.print(p));
          editor.print(resultText({ ok: r.ok, text: r.text ?? '', error: r.error, hint: r.hint }));
        },
        complete: async (line) => {
          const r = await client.request('complete', line);
          return { partial: r.partial ?? '', candidates: r.candidates ?? [] } as Completion;
        },
        help: async (line) => (await client.request('help', line)).candidates ?? [],
        eof: done,
      },
      { prompt: PROMPT, columns: process.stdout.columns || 80 },
    );
    stdin.setRawMode(true);
    stdin.on('data', (d: Buffer) => editor.feed(d));
    stdin.resume();
    editor.start();
  });
}
