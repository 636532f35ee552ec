/* pino logger: JSON lines for machines (systemd, the fleet), pretty lines
 * for a person at a terminal. Components log through child loggers so every
 * line says which part of the agent wrote it. */
import pino, { Logger, LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger, LevelWithSilent };

export interface LogOptions {
  level?: LevelWithSilent;
  pretty?: boolean; /* default: stdout is a TTY */
}

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env.VECGATE_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  /* Written at once, not on a later tick: a line says when a thing happened
   * (journald stamps it on arrival), and a box logs a few lines a second. */
  if (!pretty) return pino({ level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  // pino-pretty in this thread (not a transport worker) so lines appear in
  // order with our exit and nothing is lost when the process ends.
  /* Loaded only for a terminal: a box logging JSON never pays for it. */
  const pinoPretty = require('pino-pretty') as typeof PinoPretty;
  const stream = pinoPretty({
    colorize: true,
    translateTime: 'HH:MM:ss.l',
    ignore: 'pid,hostname,component',
    messageFormat: '{if component}{component}: {end}{msg}',
    singleLine: true,
    sync: true,
  });
  return pino({ level }, stream);
}

export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
