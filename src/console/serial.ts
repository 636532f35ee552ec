/* The console on the board's serial line: the tty set to its baud rate and
 * framing (raw, 115200 8N1 by default) by the dataplane library's termios
 * helper, a banner, then the line editor. Read and written through two
 * descriptors of the same device, one per direction. */
import * as fs from 'node:fs';
import * as tty from 'node:tty';

import { configureTty } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import type { Logger } from '../log';
import { Console, PROMPT, resultText } from './console';
import { LineEditor } from './line-editor';

const MAX_PENDING_OUTPUT = 1 << 20;

export interface SerialOptions {
  path: string;
  baud?: number;
  mode?: string; /* "8N1" */
  banner?: string;
  columns?: number;
  log?: Logger;
}

export class SerialConsole {
  private constructor(
    private readonly input: tty.ReadStream,
    private readonly output: fs.WriteStream,
    private readonly editor: LineEditor,
  ) {}

  static open(console: Console, o: SerialOptions): SerialConsole {
    let rfd = -1;
    let wfd = -1;
    try {
      /* O_NOCTTY: the console's tty must not become this process's controlling terminal. */
      rfd = fs.openSync(o.path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      if (!tty.isatty(rfd)) throw new VecgateError('CONSOLE_TTY', `${o.path} is not a terminal`);
      configureTty(rfd, o.baud ?? 115200, o.mode ?? '8N1');
      wfd = fs.openSync(o.path, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    } catch (e) {
      for (const fd of [rfd, wfd]) if (fd >= 0) fs.closeSync(fd);
      if (e instanceof VecgateError) throw e;
      throw new VecgateError('CONSOLE_TTY', `console ${o.path}: ${(e as Error).message}`);
    }
    const input = new tty.ReadStream(rfd);
    /* Not a tty.WriteStream: libuv writes a tty in blocking mode, so a slow
     * line (11.5 KB/s at 115200) or a stopped reader would stall the whole
     * agent. The file stream writes on the thread pool; what a stuck line
     * cannot take past a bound is dropped, never held without end. */
    const output = fs.createWriteStream('', { fd: wfd });
    let skipped = 0;
    const write = (s: string) => {
      if (output.destroyed) return;
      if (output.writableLength > MAX_PENDING_OUTPUT) {
        skipped += s.length;
        return;
      }
      if (skipped) {
        output.write(`\r\n[${skipped} bytes of output dropped: the line is not draining]\r\n`);
        skipped = 0;
      }
      output.write(s);
    };
    const editor: LineEditor = new LineEditor(
      write,
      {
        submit: async (line) => {
          const r = await console.run(line, (p) => editor.print(p));
          if (!r.ok) o.log?.debug({ line: line.slice(0, 200), error: r.error }, 'console command failed'); /* debug: garbage on the line must not flood the log */
          editor.print(resultText(r));
        },
        complete: (line) => console.complete(line),
        help: (line) => console.help(line),
      },
      { prompt: PROMPT, columns: o.columns },
    );
    input.on('data', (d: Buffer) => editor.feed(d));
    /* A cable pulled or a pty closed: the console stops, the box goes on. */
    input.on('error', (err) => o.log?.warn({ err: err.message, tty: o.path }, 'console tty error'));
    output.on('error', (err) => o.log?.warn({ err: err.message, tty: o.path }, 'console tty error'));
    if (o.banner) editor.print(o.banner);
    editor.start();
    o.log?.info({ tty: o.path, baud: o.baud ?? 115200 }, 'serial console ready');
    return new SerialConsole(input, output, editor);
  }

  get droppedBytes(): number {
    return this.editor.dropped;
  }

  close(): void {
    this.editor.close();
    this.input.destroy();
    this.output.destroy();
  }
}
