/* A line editor for a raw terminal (a serial line, or `vecgate ctl` on a
 * TTY): cursor keys, Home/End, Delete, the Emacs keys (Ctrl-A/E/B/F/K/U/W/
 * D/P/N/L), Ctrl-C to abandon a line, history, Tab completion and `?` help.
 *
 * Bytes are decoded as they come, in any chunking; the screen is redrawn
 * once per chunk, so a flood (a 1 MB line, binary garbage) costs one
 * redraw per chunk, not per byte. A line stops growing at maxLine; bytes
 * that are not printable ASCII or a known key are ignored. While a command
 * runs, input waits in a bounded queue. */
import { Candidate } from './tree';
import { Completion, extension, helpText } from './console';

export interface EditorHandlers {
  submit(line: string): Promise<void>; /* runs it and prints its output (with print) */
  complete(line: string): Promise<Completion> | Completion;
  help(line: string): Promise<Candidate[]> | Candidate[];
  eof?(): void; /* Ctrl-D on an empty line */
}

export interface EditorOptions {
  prompt: string;
  columns?: number; /* terminal width: a serial line does not say (80) */
  maxLine?: number;
  historySize?: number;
  maxQueued?: number; /* keys held while a command runs */
}

type KeyName =
  | 'char'
  | 'left' | 'right' | 'up' | 'down' | 'home' | 'end' | 'delete' | 'backspace'
  | 'tab' | 'help' | 'enter' | 'interrupt' | 'eof-or-delete' | 'kill-end' | 'kill-start' | 'kill-word' | 'redraw';

interface Key {
  k: KeyName;
  c?: string; /* 'char': the character */
}

const CTRL: Readonly<Record<number, KeyName>> = {
  0x01: 'home',
  0x02: 'left',
  0x03: 'interrupt',
  0x04: 'eof-or-delete',
  0x05: 'end',
  0x06: 'right',
  0x08: 'backspace',
  0x09: 'tab',
  0x0b: 'kill-end',
  0x0c: 'redraw',
  0x0e: 'down',
  0x10: 'up',
  0x15: 'kill-start',
  0x17: 'kill-word',
  0x7f: 'backspace',
};

const FINAL: Readonly<Record<string, KeyName>> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end' };
const TILDE: Readonly<Record<string, KeyName>> = { '1': 'home', '7': 'home', '4': 'end', '8': 'end', '3': 'delete' };
const MAX_PARAMS = 16;

/* Escape sequences may be split across chunks: the decoder keeps its state. */
class KeyDecoder {
  private state: 'normal' | 'esc' | 'csi' | 'ss3' = 'normal';
  private params = '';
  private lastCR = false;

  decode(data: Buffer, out: Key[]): void {
    for (const b of data) {
      const cr = this.lastCR;
      this.lastCR = false;
      switch (this.state) {
        case 'esc':
          this.state = b === 0x5b ? 'csi' : b === 0x4f ? 'ss3' : 'normal';
          this.params = '';
          continue;
        case 'ss3': {
          this.state = 'normal';
          const k = FINAL[String.fromCharCode(b)];
          if (k) out.push({ k });
          continue;
        }
        case 'csi': {
          if (b >= 0x30 && b <= 0x3f) {
            if (this.params.length < MAX_PARAMS) this.params += String.fromCharCode(b);
            else this.state = 'normal'; /* no key is this long: drop it */
            continue;
          }
          this.state = 'normal';
          const c = String.fromCharCode(b);
          const k = c === '~' ? TILDE[this.params.split(';')[0]!] : FINAL[c];
          if (k) out.push({ k });
          continue;
        }
        default:
      }
      if (b === 0x1b) this.state = 'esc';
      else if (b === 0x0d) {
        out.push({ k: 'enter' });
        this.lastCR = true;
      } else if (b === 0x0a) {
        if (!cr) out.push({ k: 'enter' }); /* CR LF is one Enter */
      } else if (b === 0x3f) out.push({ k: 'help' });
      else if (b >= 0x20 && b < 0x7f) out.push({ k: 'char', c: String.fromCharCode(b) });
      else if (CTRL[b]) out.push({ k: CTRL[b]! });
      /* anything else (NUL, bytes >= 0x80, other controls): ignored */
    }
  }
}

export class LineEditor {
  private line = '';
  private cursor = 0;
  private history: string[] = [];
  private historyAt = -1; /* -1: editing a new line */
  private draft = '';
  private readonly decoder = new KeyDecoder();
  private keys: Key[] = []; /* decoded, not yet acted on */
  private next = 0;
  private pumping = false;
  private rowOfCursor = 0; /* rows the cursor is below the prompt's row */
  private shown = ''; /* the line as the screen shows it */
  private shownAtEnd = true; /* with the cursor at its end */
  private closed = false;
  private readonly columns: number;
  private readonly maxLine: number;
  private readonly historySize: number;
  private readonly maxQueued: number;
  dropped = 0; /* input bytes dropped: over maxLine, or queued past maxQueued */

  constructor(
    private readonly write: (s: string) => void,
    private readonly handlers: EditorHandlers,
    private readonly opts: EditorOptions,
  ) {
    this.columns = opts.columns ?? 80;
    this.maxLine = opts.maxLine ?? 4096;
    this.historySize = opts.historySize ?? 200;
    this.maxQueued = opts.maxQueued ?? 65_536;
  }

  /* Output for a raw terminal: every newline a CR LF. */
  print(text: string): void {
    if (text) this.write(text.replace(/\r?\n/g, '\r\n') + (text.endsWith('\n') ? '' : '\r\n'));
  }

  start(): void {
    this.write(this.opts.prompt);
    this.fresh();
  }

  close(): void {
    this.closed = true;
  }

  feed(data: Buffer): void {
    if (this.closed) return;
    if (this.keys.length - this.next >= this.maxQueued) {
      this.dropped += data.length;
      return;
    }
    this.decoder.decode(data, this.keys);
    const over = this.keys.length - this.next - this.maxQueued;
    if (over > 0) {
      this.dropped += over;
      this.keys.length -= over;
    }
    if (!this.pumping) void this.pump();
  }

  /* Acts on the keys in order; the ones that wait on the console (Enter,
   * Tab, ?) are awaited, and keys that come meanwhile are handled after. */
  private async pump(): Promise<void> {
    this.pumping = true;
    let dirty = false;
    let bell = false;
    try {
      while (this.next < this.keys.length && !this.closed) {
        const key = this.keys[this.next++]!;
        if (key.k === 'enter' || key.k === 'tab' || key.k === 'help' || (key.k === 'eof-or-delete' && !this.line.length)) {
          if (dirty) this.render();
          if (bell) this.write('\x07');
          dirty = bell = false;
          await this.runKey(key.k);
          continue;
        }
        /* Keys that write to the screen themselves come after the line as typed so far. */
        if (dirty && (key.k === 'interrupt' || key.k === 'redraw')) {
          this.render();
          dirty = false;
        }
        const r = key.k === 'eof-or-delete' ? this.deleteAt(this.cursor) : this.edit(key);
        if (r === 'bell') bell = true;
        else dirty = r || dirty;
      }
    } finally {
      this.keys = [];
      this.next = 0;
      this.pumping = false;
    }
    if (this.closed) return;
    if (dirty) this.render();
    if (bell) this.write('\x07');
  }

  /* Enter, Tab, ? and Ctrl-D on an empty line: they may wait on the console. */
  private async runKey(k: KeyName): Promise<void> {
    try {
      if (k === 'enter') {
        const line = this.line;
        this.moveToEnd();
        this.write('\r\n');
        this.remember(line);
        this.line = '';
        this.cursor = 0;
        await this.handlers.submit(line);
        if (!this.closed) this.write(this.opts.prompt);
        this.fresh();
      } else if (k === 'tab') {
        const before = this.line.slice(0, this.cursor);
        const c = await this.handlers.complete(before);
        const add = extension(c);
        if (add !== undefined) {
          this.insert(add);
          this.render();
        } else if (c.candidates.length) {
          this.moveToEnd();
          this.write('\r\n');
          this.print(helpText(c.candidates));
          this.redrawAll();
        } else this.write('\x07');
      } else if (k === 'help') {
        this.moveToEnd();
        this.write('?\r\n');
        this.print(helpText(await this.handlers.help(this.line.slice(0, this.cursor))));
        this.redrawAll();
      } else if (k === 'eof-or-delete') {
        if (this.handlers.eof) {
          this.write('\r\n');
          this.handlers.eof();
        }
      }
    } catch (e) {
      this.print(`error: ${(e as Error)?.message ?? String(e)}`);
      this.redrawAll();
    }
  }

  /* Returns true when the screen must be redrawn, 'bell' when the key did nothing useful. */
  private edit(key: Key): boolean | 'bell' {
    switch (key.k) {
      case 'char':
        if (this.line.length >= this.maxLine) {
          this.dropped++;
          return 'bell';
        }
        this.insert(key.c!);
        return true;
      case 'left':
        if (!this.cursor) return false;
        this.cursor--;
        return true;
      case 'right':
        if (this.cursor >= this.line.length) return false;
        this.cursor++;
        return true;
      case 'home':
        this.cursor = 0;
        return true;
      case 'end':
        this.cursor = this.line.length;
        return true;
      case 'backspace':
        return this.cursor > 0 && this.deleteAt(this.cursor - 1) && (this.cursor--, true);
      case 'delete':
        return this.deleteAt(this.cursor);
      case 'kill-end':
        this.line = this.line.slice(0, this.cursor);
        return true;
      case 'kill-start':
        this.line = this.line.slice(this.cursor);
        this.cursor = 0;
        return true;
      case 'kill-word': {
        const before = this.line.slice(0, this.cursor).replace(/\S+\s*$|\s+$/, '');
        this.line = before + this.line.slice(this.cursor);
        this.cursor = before.length;
        return true;
      }
      case 'interrupt':
        this.moveToEnd();
        this.write('^C\r\n' + this.opts.prompt);
        this.line = '';
        this.cursor = 0;
        this.fresh();
        this.historyAt = -1;
        return false;
      case 'up':
      case 'down':
        return this.recall(key.k === 'up' ? 1 : -1);
      case 'redraw':
        this.write('\x1b[H\x1b[2J' + this.opts.prompt);
        this.fresh();
        return true;
      default:
        return false;
    }
  }

  private insert(s: string): void {
    const room = this.maxLine - this.line.length;
    if (room <= 0) return;
    s = s.slice(0, room);
    this.line = this.line.slice(0, this.cursor) + s + this.line.slice(this.cursor);
    this.cursor += s.length;
  }

  private deleteAt(i: number): boolean {
    if (i < 0 || i >= this.line.length) return false;
    this.line = this.line.slice(0, i) + this.line.slice(i + 1);
    return true;
  }

  private remember(line: string): void {
    this.historyAt = -1;
    if (!line.trim() || this.history[this.history.length - 1] === line) return;
    this.history.push(line);
    if (this.history.length > this.historySize) this.history.shift();
  }

  /* Up (1) goes back in history, down (-1) forward; past the newest, the line being typed. */
  private recall(step: 1 | -1): boolean {
    const n = this.history.length;
    if (!n) return false;
    let at = this.historyAt === -1 ? (step === 1 ? n - 1 : -1) : this.historyAt - step;
    if (this.historyAt === -1 && step === 1) this.draft = this.line;
    if (at < -1) at = -1;
    if (at >= n) return false;
    if (this.historyAt === 0 && step === 1) return false;
    this.historyAt = at;
    this.line = at === -1 ? this.draft : this.history[at]!;
    this.cursor = this.line.length;
    return true;
  }

  private moveToEnd(): void {
    const endRow = Math.floor((this.opts.prompt.length + this.line.length) / this.columns);
    if (endRow > this.rowOfCursor) this.write(`\x1b[${endRow - this.rowOfCursor}B`);
    this.rowOfCursor = endRow;
  }

  /* The prompt and line again below output (after a help list). */
  private redrawAll(): void {
    this.write(this.opts.prompt);
    this.fresh();
    this.render();
  }

  /* Prompt and line from the prompt's row, then the cursor where it
   * belongs; typing at the end of the line writes only what was typed, so a
   * flood costs its own bytes, not a redraw of the line per chunk. */
  private render(): void {
    const p = this.opts.prompt.length;
    const cols = this.columns;
    const end = p + this.line.length;
    const at = p + this.cursor;
    let s =
      at === end && this.shownAtEnd && this.line.startsWith(this.shown)
        ? this.line.slice(this.shown.length)
        : (this.rowOfCursor ? `\x1b[${this.rowOfCursor}A\r` : '\r') + this.opts.prompt + this.line + '\x1b[J';
    /* A line ending on the last column leaves the terminal's cursor there
     * (pending wrap): move it to the next row, as the sums below assume. */
    if (s && this.line.length && end % cols === 0) s += ' \r\x1b[K';
    const endRow = Math.floor(end / cols);
    const row = Math.floor(at / cols);
    if (at !== end) {
      if (endRow > row) s += `\x1b[${endRow - row}A`;
      s += '\r' + (at % cols ? `\x1b[${at % cols}C` : '');
    }
    this.rowOfCursor = row;
    this.shown = this.line;
    this.shownAtEnd = at === end;
    if (s) this.write(s);
  }

  /* The prompt was just written on a fresh row. */
  private fresh(): void {
    this.rowOfCursor = 0;
    this.shown = '';
    this.shownAtEnd = true;
  }
}
