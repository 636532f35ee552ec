/* pino logger: JSON lines for machines (systemd, the fleet), pretty lines
 * for a person at a terminal. Components log through child loggers so every
 * line says which part of the agent wrote it. Every line is also kept in a
 * ring of the most recent ones, for `show log` on the console. */
import pino, { DestinationStream, Logger, LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger, LevelWithSilent };

export interface LogOptions {
  level?: LevelWithSilent;
  pretty?: boolean; /* default: stdout is a TTY */
  /* Where the recent lines are kept: default the process's (logRing()); null for none. */
  ring?: LogRing | null;
  /* Where lines go; default stdout (fd 1), written synchronously. Pretty needs a node stream. */
  destination?: DestinationStream;
}

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.VECGATE_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const ring = opts.ring === undefined ? logRing() : opts.ring;
  const keep = (dest: DestinationStream) => (ring ? ringTee(dest, ring) : dest);
  /* Written at once, not on a later tick: a line says when a thing happened
   * (journald stamps it on arrival), and a box logs a few lines a second. */
  if (!pretty) return pino({ level, base: { pid: process.pid } }, keep(opts.destination ?? pino.destination({ dest: 1, sync: true })));
  // pino-pretty in this thread (not a transport worker) so lines appear in
  // order with our exit and nothing is lost when the process ends.
  /* Loaded only for a terminal: a box logging JSON never pays for it. */
  const pinoPretty = require('pino-pretty') as typeof PinoPretty;
  const stream = pinoPretty({
    colorize: opts.destination === undefined,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    singleLine: true,
    sync: true,
    ...(opts.destination ? { destination: opts.destination as NodeJS.WritableStream } : {}),
  });
  return pino({ level }, keep(stream));
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

/* One kept line, parsed when it is asked for. */
export interface LogLine {
  time: number; /* ms since the epoch */
  level: string; /* 'info', 'warn' ... */
  component?: string;
  msg: string;
  fields: Record<string, unknown>; /* the rest, less pid, hostname, time, level, msg and component */
}

export interface LogRingOptions {
  maxLineBytes?: number; /* a longer line is kept shortened */
  maxBytes?: number; /* all lines together */
}

/* The most recent lines as pino wrote them (JSON): bounded by count, by the
 * size of each line and by their total size, so a flood of huge lines
 * cannot grow the agent. Sizes are in characters, which is what V8 stores
 * for the ASCII JSON pino writes. */
export class LogRing {
  private readonly slots: (string | undefined)[];
  private head = 0; /* the oldest */
  private count = 0;
  private chars = 0;
  readonly maxLineBytes: number;
  readonly maxBytes: number;

  constructor(
    readonly capacity = 1000,
    opts: LogRingOptions = {},
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`log ring capacity must be a positive integer, not ${capacity}`);
    this.slots = new Array<string | undefined>(capacity);
    this.maxLineBytes = opts.maxLineBytes ?? 4096;
    this.maxBytes = opts.maxBytes ?? 1024 * 1024;
    /* A shortened line says at least when, how bad and how long it was. */
    if (!(this.maxLineBytes >= 256 && this.maxBytes >= this.maxLineBytes)) throw new RangeError('log ring: maxLineBytes must be 256 or more, and maxBytes at least maxLineBytes');
  }

  /* One JSON line as pino wrote it. */
  push(line: string): void {
    const kept = line.length <= this.maxLineBytes ? line : shorten(line, this.maxLineBytes);
    while (this.count && (this.count === this.capacity || this.chars + kept.length > this.maxBytes)) this.dropOldest();
    this.slots[(this.head + this.count) % this.capacity] = kept;
    this.count++;
    this.chars += kept.length;
  }

  /* The last n lines (all without n), oldest first. */
  lines(n = this.count): LogLine[] {
    const take = Math.max(0, Math.min(Math.floor(n), this.count));
    const out: LogLine[] = [];
    for (let i = this.count - take; i < this.count; i++) out.push(parseLine(this.slots[(this.head + i) % this.capacity]!));
    return out;
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.chars;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = this.count = this.chars = 0;
  }

  private dropOldest(): void {
    this.chars -= this.slots[this.head]!.length;
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }
}

let processRing: LogRing | undefined;

/* The ring every logger of this process writes to unless told otherwise:
 * how `vecgate run` hands its log to the console. */
export function logRing(): LogRing {
  return (processRing ??= new LogRing());
}

/* `12:34:56.789 info  agent: configuration applied version=3 txn=5`, in UTC
 * as the pretty terminal lines are. */
export function formatLogLine(l: LogLine): string {
  const t = new Date(l.time).toISOString().slice(11, 23);
  const fields = Object.entries(l.fields).map(([k, v]) => ` ${k}=${fieldText(v)}`).join('');
  return `${t} ${l.level.padEnd(5)} ${l.component ? `${l.component}: ` : ''}${l.msg}${fields}`;
}

/* Every line to the destination and to the ring: a string kept, nothing
 * parsed, on the way. */
function ringTee(dest: DestinationStream, ring: LogRing): DestinationStream {
  const d = dest as DestinationStream & { flush?: (cb?: (err?: Error) => void) => void; emit?: (event: string, ...args: unknown[]) => boolean };
  return {
    write(line: string) {
      ring.push(line);
      return d.write(line);
    },
    /* pino flushes through it, and tells pino-pretty its keys through it. */
    ...(typeof d.flush === 'function' ? { flush: (cb?: (err?: Error) => void) => d.flush!(cb) } : {}),
    ...(typeof d.emit === 'function' ? { emit: (event: string, ...args: unknown[]) => d.emit!(event, ...args) } : {}),
  } as DestinationStream;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = pino.levels.labels;
const NOT_FIELDS = new Set(['time', 'level', 'msg', 'component', 'pid', 'hostname']);

function parseLine(line: string): LogLine {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { time: 0, level: 'info', msg: line.trimEnd(), fields: {} };
  }
  const fields: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (!NOT_FIELDS.has(k)) fields[k] = o[k];
  return {
    time: typeof o.time === 'number' ? o.time : 0,
    level: typeof o.level === 'number' ? (LEVEL_NAMES[o.level] ?? String(o.level)) : String(o.level ?? 'info'),
    ...(typeof o.component === 'string' ? { component: o.component } : {}),
    msg: typeof o.msg === 'string' ? o.msg : '',
    fields,
  };
}

/* A line over the limit, kept as one under it: its message cut, the fields
 * that still fit, and `truncated` naming the ones that did not. */
function shorten(line: string, max: number): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    o = { msg: line };
  }
  const kept: Record<string, unknown> = { time: o.time, level: o.level };
  if (typeof o.component === 'string') kept.component = cut(o.component, 64);
  kept.msg = cut(typeof o.msg === 'string' ? o.msg : '', max >> 2);
  const left: string[] = [];
  let size = JSON.stringify(kept).length + 128; /* room for `truncated` */
  for (const [k, v] of Object.entries(o)) {
    if (NOT_FIELDS.has(k)) continue;
    const n = k.length + (JSON.stringify(v)?.length ?? 0) + 4;
    if (size + n > max) left.push(k);
    else {
      kept[k] = v;
      size += n;
    }
  }
  if (left.length) kept.truncated = cut(left.join(','), 100);
  const s = JSON.stringify(kept);
  /* Escapes can still make it longer than counted: then only the facts. */
  return s.length <= max ? s : JSON.stringify({ time: o.time, level: o.level, msg: `(a line of ${line.length} characters, not kept)` });
}

function cut(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}...`;
}

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  /* pino's serialized errors: their message, not the stack. */
  if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string' && 'stack' in v) return JSON.stringify((v as unknown as { message: string }).message);
  return JSON.stringify(v) ?? String(v);
}
