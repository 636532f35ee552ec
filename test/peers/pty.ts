/* A pseudo-terminal pair, the way a serial cable looks to a test: the
 * program under test opens `slavePath` as its console tty; the test types
 * into the master end and reads what comes back through a small terminal
 * model (Screen), so it asserts what a person would see. */
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import koffi from 'koffi';

type Libc = { openpt: (flags: number) => number; grantpt: (fd: number) => number; unlockpt: (fd: number) => number; ptsname: (fd: number) => string | null };
let libc: Libc | undefined;
const O_CLOEXEC = 0o2000000; /* Linux, every architecture we test on */

function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname: lib.func('const char *ptsname(int fd)'),
  };
  return libc;
}

export class Pty {
  readonly screen = new Screen();
  private readonly reader: tty.ReadStream;
  raw = '';

  private constructor(
    readonly masterFd: number,
    readonly slavePath: string,
  ) {
    this.reader = new tty.ReadStream(masterFd);
    this.reader.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      this.raw += s;
      this.screen.feed(s);
    });
    this.reader.on('error', () => undefined); /* EIO when the other end closes */
  }

  static open(): Pty {
    const c = loadLibc();
    /* Close-on-exec: a child holding the master open would keep the other end from ever seeing a hangup. */
    const fd = c.openpt(fs.constants.O_RDWR | fs.constants.O_NOCTTY | O_CLOEXEC);
    if (fd < 0 || c.grantpt(fd) !== 0 || c.unlockpt(fd) !== 0) throw new Error('cannot open a pseudo-terminal');
    return new Pty(fd, c.ptsname(fd)!);
  }

  /* A few keys: written at once. */
  type(keys: string | Buffer): void {
    fs.writeSync(this.masterFd, typeof keys === 'string' ? Buffer.from(keys, 'latin1') : keys);
  }

  /* A flood: written off the event loop, so the screen goes on being read
   * (blocking here while the other end waits for us to read would deadlock). */
  async send(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length; ) {
      at += await new Promise<number>((resolve, reject) =>
        fs.write(this.masterFd, data, at, Math.min(65_536, data.length - at), null, (e, n) => (e ? reject(e) : resolve(n))),
      );
    }
  }

  /* Waits until the screen (or the raw output since `from`) satisfies `ok`. */
  async until(ok: (screen: Screen) => boolean, ms = 10_000, what = 'the expected screen'): Promise<void> {
    const end = Date.now() + ms;
    while (!ok(this.screen)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen shows:\n${this.screen.text()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.reader.destroy();
  }
}

export const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  home: '\x1b[H',
  end: '\x1b[F',
  delete: '\x1b[3~',
  backspace: '\x7f',
  tab: '\t',
  enter: '\r',
  ctrl: (c: string) => String.fromCharCode(c.toUpperCase().charCodeAt(0) - 64),
};

/* The terminal as a grid: enough of VT100 for a line editor (CR, LF, BS,
 * cursor moves, erase to end of line / screen, clear screen). */
export class Screen {
  rows: string[][] = [[]];
  row = 0;
  col = 0;
  bells = 0;
  private pending = '';

  constructor(readonly columns = 80) {}

  feed(s: string): void {
    s = this.pending + s;
    this.pending = '';
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\x1b') {
        const m = /^\x1b\[(\d*(?:;\d*)*)([A-Za-z~])/.exec(s.slice(i));
        if (!m) {
          if (s.length - i < 16) this.pending = s.slice(i);
          return;
        }
        this.csi(m[1]!, m[2]!);
        i += m[0].length - 1;
      } else if (ch === '\r') this.col = 0;
      else if (ch === '\n') this.down(1);
      else if (ch === '\x07') this.bells++;
      else if (ch === '\b') this.col = Math.max(0, this.col - 1);
      else if (ch >= ' ') this.put(ch);
    }
  }

  private line(r: number): string[] {
    while (this.rows.length <= r) this.rows.push([]);
    return this.rows[r]!;
  }

  private put(ch: string): void {
    if (this.col >= this.columns) {
      this.down(1);
      this.col = 0;
    }
    const l = this.line(this.row);
    while (l.length < this.col) l.push(' ');
    l[this.col++] = ch;
  }

  private down(n: number): void {
    this.row += n;
    this.line(this.row);
  }

  private csi(params: string, final: string): void {
    const n = Number(params.split(';')[0] || 1);
    if (final === 'A') this.row = Math.max(0, this.row - n);
    else if (final === 'B') this.down(n);
    else if (final === 'C') this.col = Math.min(this.columns, this.col + n);
    else if (final === 'D') this.col = Math.max(0, this.col - n);
    else if (final === 'K') this.line(this.row).length = Math.min(this.line(this.row).length, this.col);
    else if (final === 'J') {
      if (params === '2') {
        this.rows = [[]];
      } else {
        this.line(this.row).length = Math.min(this.line(this.row).length, this.col);
        this.rows.length = this.row + 1;
      }
    } else if (final === 'H') {
      this.row = 0;
      this.col = 0;
    }
  }

  text(): string {
    return this.rows.map((r) => r.join('').trimEnd()).join('\n');
  }

  /* The row the cursor is on, and the cursor's column in it. */
  current(): { line: string; col: number } {
    return { line: this.line(this.row).join('').trimEnd(), col: this.col };
  }

  lastLines(n: number): string[] {
    const t = this.text().split('\n');
    while (t.length && !t[t.length - 1]) t.pop();
    return t.slice(-n);
  }
}
